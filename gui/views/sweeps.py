"""Sweeps in the window: a New Sweep dialog, and the Sweep tab — progress with ETA, the results
table filling in, the trials' validation curves overlaid live, cancel, a parallel-coordinates
plot of swept values against validation accuracy, and Optuna's parameter importances."""

from __future__ import annotations

import threading
import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.errors import UserError
from engine.runs.sweep import PRUNERS, SEARCHES, mean_std
from engine.training.history import format_duration
from engine.training.run import EvalEvent
from gui.i18n import arg


class NewSweepDialog(QDialog):
    """What to sweep: one ``name=values`` per line, seeds, search, budget, pruning, workers, and
    the epochs of every trial; the settings every trial starts from (the panel's) are shown."""

    def __init__(self, parent=None):
        super().__init__(parent)
        import os

        self.setWindowTitle(self.tr("New Sweep"))
        self.grid = QPlainTextEdit("weight_decay=0.08,0.1,0.12,0.15,0.18")
        self.grid.setToolTip(
            self.tr("One hyperparameter per line: a list (momentum=0.88,0.9) or a range (lr=1e-4..1e-1:5:log)")
        )
        self.seeds = QLineEdit("0,1,2")
        self.search = QComboBox()
        self.search.addItems(SEARCHES)
        self.trials = QSpinBox(minimum=1, maximum=10000, value=10)
        self.prune = QComboBox()
        self.prune.addItems(PRUNERS)
        self.workers = QSpinBox(minimum=1, maximum=64, value=os.cpu_count() or 1)
        self.epochs = QSpinBox(minimum=1, maximum=100000, value=1)
        self.epochs.setToolTip(self.tr("Epochs of every trial (the panel's to begin with)"))
        self.base_label = QLabel()
        self.base_label.setWordWrap(True)
        self.base_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error = QLabel("")
        self.error.setStyleSheet("color: #c0392b")
        self.error.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(self.tr("Every trial starts from:"), self.base_label)
        form.addRow(self.tr("Epochs:"), self.epochs)
        form.addRow(self.tr("Swept hyperparameters:"), self.grid)
        form.addRow(self.tr("Seeds:"), self.seeds)
        form.addRow(self.tr("Search:"), self.search)
        form.addRow(self.tr("Configurations (random, TPE):"), self.trials)
        form.addRow(self.tr("Stop poor trials early:"), self.prune)
        form.addRow(self.tr("Workers:"), self.workers)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText(self.tr("Start Sweep"))
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._base: dict = {}
        self.spec = None

    @property
    def base(self) -> dict:
        """The panel's settings every trial starts from (the epochs field overrides theirs)."""
        return self._base

    @base.setter
    def base(self, value: dict) -> None:
        from engine.config import TrainConfig

        self._base = dict(value)
        try:
            c = TrainConfig.from_dict(self._base)
        except TypeError:
            return
        self.epochs.setValue(int(c.epochs))
        text = arg(
            self.tr("%1 · batch %2 · engine %3 · preset %4"), c.auto_name(), c.batch_size, c.engine, c.preset or "—"
        )
        if c.engine == "user":
            text += "\n" + self.tr("Every trial trains with your own functions (engine user).")
        self.base_label.setText(text)

    def spec_for(self, base: dict):
        """The validated sweep spec over ``base`` (the panel's settings), or a UserError."""
        from engine.runs.sweep import SweepSpec, parse_param, parse_seeds

        lines = [ln.strip() for ln in self.grid.toPlainText().splitlines() if ln.strip()]
        search = self.search.currentText()
        spec = SweepSpec(
            {**base, "epochs": self.epochs.value()},
            [parse_param(ln) for ln in lines],
            parse_seeds(self.seeds.text()),
            search,
            self.trials.value() if search != "grid" else None,
            None,
            self.prune.currentText(),
        )
        return spec.validate()

    def _check(self) -> None:
        try:
            self.spec = self.spec_for(self.base)
        except UserError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class _Bridge(QObject):
    """The sweep's threads talk to the window through queued signals."""

    trial = Signal(object)
    event = Signal(int, object)
    ready = Signal(object)  # (study, spec, sweep): made off the GUI thread (a 600-trial grid took 27 s)
    rows = Signal(object)  # the table's rows, read from the study off the GUI thread after each trial
    done = Signal(object, object)  # error, importances


def _forward(bridge: _Bridge, kind: str, payload) -> None:
    """From the sweep's threads: trials, and validation events only (the curves need nothing
    else; a queued signal per training step would flood the GUI thread)."""
    if kind == "trial":
        bridge.trial.emit(payload)
    elif kind == "event" and isinstance(payload[1], EvalEvent):
        bridge.event.emit(*payload)


ROWS_EVERY_S = 1.0  # a live sweep's results table is read back and refreshed at most this often


def parameter_axes(rows, names) -> list[tuple[str, np.ndarray, list[tuple[float, str]]]]:
    """The parallel-coordinates axes of the swept parameters: ``(name, each row's position in
    [0, 1], [(position, label), …])``. A number axis is labelled at its two ends (log-spaced when
    it spans 20× or more, as a learning rate's decades), a category axis with every category; a
    parameter that did not vary is no axis."""
    axes = []
    for n in names:
        vals = [r.params.get(n) for r in rows]
        try:
            nums = np.array([float(v) for v in vals])
        except (TypeError, ValueError):
            cats = sorted({str(v) for v in vals})
            if len(cats) > 1:
                pos = np.array([cats.index(str(v)) / (len(cats) - 1) for v in vals])
                axes.append((n, pos, [(i / (len(cats) - 1), c) for i, c in enumerate(cats)]))
            continue
        lo, hi = nums.min(), nums.max()
        if hi > lo:
            log = lo > 0 and hi / lo >= 20
            t = (np.log(nums) - np.log(lo)) / (np.log(hi) - np.log(lo)) if log else (nums - lo) / (hi - lo)
            axes.append((n, t, [(0.0, f"{lo:g}"), (1.0, f"{hi:g}")]))
    return axes


class SweepPanel(QWidget):
    """The Sweep tab. :meth:`start` runs a sweep in the background on the run host's workers."""

    finished = Signal()

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self._name = ""  # the sweep shown (its title says so in the user's language)
        self.controller = controller
        self.sweep = None
        self.study = None
        self.spec = None
        self._thread: threading.Thread | None = None
        self._curves: dict[int, tuple] = {}
        self.bridge = _Bridge()
        self.bridge.trial.connect(self._on_trial)
        self.bridge.event.connect(self._on_event)
        self.bridge.done.connect(self._on_done)
        self.bridge.ready.connect(self._on_ready)
        self.bridge.rows.connect(self._refresh_table)
        self._rows: list = []
        self._cancel_asked = threading.Event()

        self.title = QLabel(self.tr("No sweep yet: Train ▸ New Sweep… (Ctrl+Shift+W)"))
        self.title.setWordWrap(True)
        self.title.setMinimumWidth(120)
        self.progress = QProgressBar()
        self.progress.setFormat(self.tr("%v / %m trials"))
        self.cancel_button = QPushButton(self.tr("Cancel Sweep"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.export_button = QPushButton(self.tr("Export Table…"))
        self.export_button.setToolTip(self.tr("The results table as Markdown, LaTeX (booktabs) or CSV"))
        self.export_button.setEnabled(False)
        self.export_button.clicked.connect(lambda: self.export_table())
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.progress, 1)
        head.addWidget(self.export_button)
        head.addWidget(self.cancel_button)
        self.table = QTableWidget(0, 0)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.curves = pg.PlotWidget(title=self.tr("trials: validation accuracy"))
        self.curves.setLabel("bottom", self.tr("epoch"))
        self.curves.setYRange(0, 1)
        # bottom right: the courses' accuracies sit high, so the lower corner is where no curve runs
        self.curves_legend = self.curves.addLegend(offset=(-8, -8), labelTextSize="8pt")
        self._configs: dict[tuple, int] = {}  # a configuration's colour (its seeds share it)
        self._trial_names: dict[int, str] = {}  # trial number → "lr 0.01 · seed 1", for the hover
        self.curves.scene().sigMouseMoved.connect(self._hover_curve)
        # a short title: a long one set the plot's minimum width, and in a narrow pane the splitter
        # then hid its right part (the accuracy axis) under the next plot
        self.parallel = pg.PlotWidget(title=self.tr("parallel coordinates"))
        self.parallel.setToolTip(self.tr("One line per configuration; blue → red: low → high accuracy"))
        self.parallel.getPlotItem().hideAxis("left")
        self.importance = pg.PlotWidget(title=self.tr("parameter importance (PED-ANOVA)"))
        self.importance.setYRange(0, 1)
        plots = QSplitter(Qt.Horizontal)
        for p in (self.curves, self.parallel, self.importance):
            plots.addWidget(p)
        self.best_note = QLabel("")  # "no clear best: …" when the top two rows' intervals overlap
        self.best_note.setWordWrap(True)
        table_box = QWidget()
        tl = QVBoxLayout(table_box)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.table, 1)
        tl.addWidget(self.best_note)
        split = QSplitter(Qt.Vertical)
        split.addWidget(table_box)
        split.addWidget(plots)
        lay = QVBoxLayout(self)
        lay.addLayout(head)
        lay.addWidget(split, 1)
        self._tick = QTimer(self, interval=1000, timeout=self._update_progress)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, spec, dataset, workers: int, storage: str | None = None, name: str | None = None) -> None:
        from engine.checkpoint import dataset_record
        from engine.runs.sweep import Sweep, check_size, default_storage, importances, open_study

        check_size(spec)  # refused at once, before anything is created
        spec.dataset = {**dataset_record(dataset), "norm_size": list(dataset.norm_size)}
        name = name or time.strftime("sweep-%Y%m%d-%H%M%S")
        b, store, storage = self.bridge, self.controller.store(), storage or default_storage()
        self.study, self.sweep, self.spec, self._rows = None, None, spec, []
        self._cancel_asked.clear()
        self.export_button.setEnabled(False)
        self.curves.clear()
        self.curves_legend.clear()
        self._curves.clear()
        self._trial_names.clear()
        self._configs.clear()
        self.progress.setRange(0, 0)  # busy until the study is made
        self._name = name
        self.title.setText(arg(self.tr("%1: preparing %2 trials…"), name, spec.total_trials()))
        self.cancel_button.setEnabled(True)
        self._refresh_table([])

        def work():
            """The study, the trials and the table's reads: all in this thread, never the GUI's."""
            error, imp, holder, last = None, {}, [], [0.0]

            def on_event(kind, payload):
                _forward(b, kind, payload)
                # the table at most once a second: reading every trial back is ~30,000 objects for
                # the collector (a 600-trial grid), and the table's refresh is the GUI thread's
                if (
                    kind == "trial"
                    and payload.state != "running"
                    and holder
                    and time.monotonic() - last[0] >= ROWS_EVERY_S
                ):
                    last[0] = time.monotonic()
                    b.rows.emit(holder[0].results())

            try:
                study, full_spec = open_study(storage, name, spec)
                sweep = Sweep(study, full_spec, dataset, workers=workers, store=store, on_event=on_event)
                holder.append(sweep)
                if self._cancel_asked.is_set():
                    sweep.cancel()
                b.ready.emit((study, full_spec, sweep))
                sweep.run()
                if sweep.storage_error:  # its storage stayed unreachable: the trials done are kept
                    raise UserError(sweep.storage_error)
                b.rows.emit(sweep.results())
                imp = importances(study)
            except Exception as exc:  # noqa: BLE001 - said in the window
                error = exc
            b.done.emit(error, imp)

        self._thread = threading.Thread(target=work, daemon=True, name="sweep")
        self._thread.start()
        self._tick.start()

    def cancel(self) -> None:
        self._cancel_asked.set()
        if self.sweep is not None:
            self.sweep.cancel()
        self.cancel_button.setEnabled(False)
        self.title.setText(self.title.text() + self.tr(" — cancelling"))

    def shutdown(self, timeout: float = 30) -> None:
        """The window closes: cancel and wait for the sweep's workers to leave."""
        if self.running:
            self._cancel_asked.set()
            if self.sweep is not None:
                self.sweep.cancel()
            self._thread.join(timeout)
        self._tick.stop()

    def _on_ready(self, made) -> None:
        self.study, self.spec, self.sweep = made
        if self._cancel_asked.is_set():
            self.sweep.cancel()
        self.progress.setRange(0, self.spec.total_trials())
        self.progress.setValue(0)
        self.title.setText(
            arg(
                self.tr("%1: %2 configurations × %3 seeds"),
                self.sweep.name,
                self.spec.configurations(),
                len(self.spec.seeds),
            )
        )

    # -- live updates ----------------------------------------------------------------------
    def _on_trial(self, info) -> None:
        if info.state == "running":
            # one colour and one legend entry per configuration: its seeds are lines of one colour
            key = tuple(sorted((k, str(v)) for k, v in info.params.items()))
            first = key not in self._configs
            index = self._configs.setdefault(key, len(self._configs))
            color = pg.intColor(index, hues=9, maxValue=220)
            label = ", ".join(f"{k} {v}" for k, v in key) or self.tr("base settings")
            item = self.curves.plot([], [], pen=pg.mkPen(color, width=1.5), name=label if first else None)
            self._curves[info.number] = (item, [], [])
            self._trial_names[info.number] = info.name
            return
        self._update_progress()

    def _on_event(self, number: int, ev) -> None:
        if isinstance(ev, EvalEvent) and number in self._curves:
            item, xs, ys = self._curves[number]
            xs.append(ev.epoch)
            ys.append(ev.val_acc)
            item.setData(xs, ys)

    def _hover_curve(self, scene_pos) -> None:
        """The trial under the mouse (the nearest point within 12 px), as the plot's tooltip."""
        from PySide6.QtCore import QPointF
        from PySide6.QtWidgets import QToolTip

        vb = self.curves.getPlotItem().vb
        best, text = 12.0**2, ""
        if vb.sceneBoundingRect().contains(scene_pos):
            for number, (_item, xs, ys) in self._curves.items():
                for x, y in zip(xs, ys, strict=False):
                    p = vb.mapViewToScene(QPointF(float(x), float(y)))
                    d = (p.x() - scene_pos.x()) ** 2 + (p.y() - scene_pos.y()) ** 2
                    if d < best:
                        best = d
                        text = arg(
                            self.tr("%1: epoch %2, accuracy %3%"),
                            self._trial_names.get(number, str(number)),
                            x,
                            f"{100 * y:.1f}",
                        )
        if text != self.curves.toolTip():
            self.curves.setToolTip(text)
            if text:
                QToolTip.showText(self.curves.mapToGlobal(self.curves.mapFromScene(scene_pos)), text, self.curves)
            else:
                QToolTip.hideText()

    def _update_progress(self) -> None:
        if self.sweep is None:
            return
        p = self.sweep.progress()
        self.progress.setValue(p.done)
        eta = arg(self.tr(", ETA %1"), format_duration(p.eta)) if p.eta is not None and p.done < p.total else ""
        self.progress.setFormat(arg(self.tr("%v / %m trials (%1 running%2)"), p.running, eta))

    def _on_done(self, error, importances) -> None:
        self._tick.stop()
        self._update_progress()
        self._draw_importance(importances)
        self.cancel_button.setEnabled(False)
        cancelled = self.sweep.cancelled if self.sweep is not None else self._cancel_asked.is_set()
        state = self.tr("cancelled") if cancelled else self.tr("done")
        if error is not None:
            state = arg(self.tr("stopped: %1"), error)
        name = self.sweep.name if self.sweep is not None else self._name
        self.title.setText(arg(self.tr("%1: %2"), name, state))
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
        self.finished.emit()

    # -- the table and the plots -------------------------------------------------------------
    def _refresh_table(self, rows: list | None = None) -> None:
        """The table from ``rows`` (read by the sweep's thread), or the last ones given."""
        if rows is not None:
            self._rows = rows
        rows = self._rows
        if self.spec is None:
            return
        from engine.runs.sweep import score_heading

        names = [p.name for p in self.spec.params]
        on_test = any(r.scored_on == "test" for r in rows if r.val)
        heads = [
            *names,
            score_heading(rows, self.spec),
            *([] if on_test else [self.tr("test acc (%)")]),
            self.tr("runs"),
        ]
        self.table.setColumnCount(len(heads))
        self.table.setHorizontalHeaderLabels(heads)
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            cells = [
                *(str(r.params.get(n, "")) for n in names),
                mean_std(r.val),
                *([] if on_test else [mean_std(r.test)]),
                str(len(r.val)),
            ]
            if r.pruned:
                cells[-1] += f" ({r.pruned} pruned)"
            for j, text in enumerate(cells):
                it = QTableWidgetItem(("★ " if r.best and j == 0 else "") + text)
                if r.best:
                    f = it.font()
                    f.setBold(True)
                    it.setFont(f)
                self.table.setItem(i, j, it)
        self.table.resizeColumnsToContents()
        from engine.runs.sweep import best_note

        self.best_note.setText(best_note(rows) if any(r.val for r in rows) else "")
        self.export_button.setEnabled(bool(rows))
        self._draw_parallel(rows, names)

    def export_table(self, path: str | None = None) -> str | None:
        """The results table as the CLI prints it (``sweep_table.format_table``), in the format
        the file's suffix names: .md Markdown, .tex LaTeX with booktabs, .csv every number."""
        from PySide6.QtWidgets import QFileDialog

        from engine.runs.sweep_table import format_table
        from gui.export import write_text_file

        if self.spec is None or not self._rows:
            return None
        if path is None:
            name = f"{self.sweep.name}.md" if self.sweep is not None else "sweep.md"
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Export Sweep Table"), name, "Markdown (*.md);;LaTeX (*.tex);;CSV (*.csv)"
            )
            if not path:
                return None
        fmt = {"csv": "csv", "tex": "latex"}.get(path.rsplit(".", 1)[-1].lower(), "markdown")
        try:
            write_text_file(path, format_table(self._rows, self.spec, fmt))
        except OSError as exc:
            self.best_note.setText(arg(self.tr("Could not write %1: %2"), path, exc.strerror or exc))
            return None
        self.best_note.setText(arg(self.tr("Wrote the table to %1"), path))
        return path

    def _draw_parallel(self, rows, names) -> None:
        """One polyline per configuration across the swept axes to the validation accuracy,
        coloured from poor (blue) to good (red). Each axis is labelled with its values (a number
        axis with its two ends, a category axis with every category); a parameter that did not
        vary is no axis; accuracy keeps its real scale (rounded out to whole 10 %), so a spread of
        0.2 points does not fill the height."""
        p = self.parallel
        scored = [r for r in rows if r.val]
        if not scored:
            self._pool(p, "_par_axes", 0)
            self._pool(p, "_par_lines", 0)
            self._pool(p, "_par_labels", 0, text=True)
            return
        axes = parameter_axes(scored, names)
        acc = np.array([np.mean(r.val) for r in scored])
        lo, hi = np.floor(acc.min() * 10) / 10, np.ceil(acc.max() * 10) / 10
        hi = max(hi, lo + 0.1)
        axes.append((self.tr("val acc"), (acc - lo) / (hi - lo), [(0.0, f"{lo:.0%}"), (1.0, f"{hi:.0%}")]))
        cmap = pg.colormap.get("CET-D1")
        colour_t = (acc - acc.min()) / (acc.max() - acc.min()) if acc.max() > acc.min() else np.full(len(acc), 0.5)
        # Items are kept and given new data (re-created, they cost ~2 ms each: 70 ms a trial while a
        # sweep's threads share the interpreter, measured by bench/bench_gui.py's 600-trial sweep)
        axis_pen = pg.mkPen(self.palette().text().color(), width=1)
        for item, i in zip(self._pool(p, "_par_axes", len(axes)), range(len(axes)), strict=True):
            item.setData([i, i], [0, 1])
            item.setPen(axis_pen)
        labels = [(i, y, text) for i, (_n, _p, ls) in enumerate(axes) for y, text in ls]
        for item, (i, y, text) in zip(self._pool(p, "_par_labels", len(labels), text=True), labels, strict=True):
            item.setText(text, color=self.palette().text().color())
            item.setPos(i, y)
        for k, item in enumerate(self._pool(p, "_par_lines", len(scored))):
            y = [pos[k] for _n, pos, _l in axes]
            color = cmap.map(float(colour_t[k]), mode="qcolor")
            item.setData(list(range(len(y))), y)
            item.setPen(pg.mkPen(color, width=3 if scored[k].best else 1.5))
        bottom = p.getPlotItem().getAxis("bottom")
        bottom.setTicks([[(i, name) for i, (name, _p, _l) in enumerate(axes)]])
        p.setXRange(-0.3, len(axes) - 1 + 0.6, padding=0)
        p.setYRange(-0.08, 1.08, padding=0)
        self.parallel_axes = [name for name, _p, _l in axes]

    def _pool(self, plot, name: str, n: int, text: bool = False) -> list:
        """The first ``n`` of the plot's kept items called ``name`` (made as needed); the rest hidden."""
        items = self.__dict__.setdefault(name, [])
        while len(items) < n:
            item = pg.TextItem("", anchor=(-0.05, 0.5)) if text else pg.PlotDataItem([], [])
            plot.addItem(item)
            items.append(item)
        for k, item in enumerate(items):
            item.setVisible(k < n)
        return items[:n]

    def _draw_importance(self, imp: dict | None) -> None:
        """Optuna's importances, computed by the sweep's thread at its end."""
        self.importance.clear()
        if not imp:
            return
        names = list(imp)
        self.importance.addItem(pg.BarGraphItem(x=np.arange(len(names)), height=list(imp.values()), width=0.6))
        self.importance.getPlotItem().getAxis("bottom").setTicks([[(i, n) for i, n in enumerate(names)]])
