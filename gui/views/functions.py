"""The Functions tab: the user's own ops, checked against the reference with diagnoses, raced
against it, and handed to the trainer as the "user" engine.

Their code never runs in this process: every check and race is a sandbox child
(:func:`engine.inspect.sandbox.run_sandboxed`) started from a background task. Saving a file
re-checks it (when "Re-check on save" is on), keeping the roles the user corrected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.inspect.check_result import FilesCheck, RaceResult
from engine.inspect.functions import format_example, format_race
from engine.model.userops import ROLES
from gui import style
from gui.i18n import arg

HEADERS = [
    QT_TRANSLATE_NOOP("FunctionsView", "op"),
    QT_TRANSLATE_NOOP("FunctionsView", "role"),
    QT_TRANSLATE_NOOP("FunctionsView", "result"),
    QT_TRANSLATE_NOOP("FunctionsView", "forward"),
    QT_TRANSLATE_NOOP("FunctionsView", "gradients (worst relative error)"),
    QT_TRANSLATE_NOOP("FunctionsView", "where"),
]
PASS, FAIL, WARN = QColor("#009E73"), QColor("#D55E00"), QColor("#B8860B")
VERDICT_COLOURS = {"PASS": PASS, "FAIL": FAIL, "WARN": WARN}


def _e(v) -> str:
    if v is None:
        return "–"
    return "inf" if not np.isfinite(v) else f"{v:.1e}"


def check_task(files: list[str], roles: dict, reduction: str = "mean", cancel=None):
    """Background task: the check in a sandbox child; (result, output) or (None, message)."""
    from engine.inspect.sandbox import SandboxError
    from engine.inspect.sandboxed import check_in_sandbox

    try:
        return check_in_sandbox(files, roles, None, reduction, cancel=cancel)
    except SandboxError as exc:
        return None, str(exc) + (f"\n\nIts last output:\n{exc.output.strip()[-800:]}" if exc.output.strip() else "")


def race_task(files, roles, act, x, y, hidden, steps, cancel=None):
    from engine.inspect.sandbox import SandboxError
    from engine.inspect.sandboxed import race_in_sandbox

    try:
        return race_in_sandbox(files, roles, act, x, y, hidden, steps, cancel=cancel)
    except SandboxError as exc:
        return RaceResult(error=str(exc))


class FunctionsView(QWidget):
    """Load, check (with diagnoses), race and train with the user's own ops."""

    checked = Signal(object)  # the check's FilesCheck (None when it did not run)
    raced = Signal(object)
    train_with = Signal(list, str)  # files, role corrections ("Class=role,…")

    def __init__(self, tasks, dataset_getter=None, reduction_getter=None, parent=None):
        super().__init__(parent)
        self.tasks = tasks
        self.dataset_getter = dataset_getter or (lambda: None)
        # the loss gradient's convention checks expect: the one the next run trains with
        self.reduction_getter = reduction_getter or (lambda: "mean")
        self.files: list[str] = []
        self.roles: dict[str, str] = {}  # the user's corrections, kept across reloads
        self.result: FilesCheck | None = None
        self.race_result: RaceResult | None = None
        self._busy = False

        self.load_button = QPushButton(self.tr("Load…"))
        self.load_button.setToolTip(self.tr("Load your modules (a course's network.py, losses.py, activations.py, …)"))
        self.reload_button = QPushButton(self.tr("Re-check"))
        self.reload_button.setToolTip(self.tr("Import the files again and check every op (F6)"))
        self.reload_button.setShortcut("F6")
        self.reload_button.clicked.connect(lambda: self.recheck())
        self.auto_box = QCheckBox(self.tr("Re-check on save"))
        self.auto_box.setChecked(True)
        self.race_button = QPushButton(self.tr("Race the Reference"))
        self.race_button.setToolTip(
            self.tr("Train your network and the reference from the same weights on the same batches")
        )
        self.race_button.clicked.connect(lambda: self.race())
        self.train_button = QPushButton(self.tr("Train with These"))
        self.train_button.setToolTip(self.tr("Use your functions as the engine of the next training run"))
        self.train_button.clicked.connect(lambda: self.train_with.emit(self.files, self._roles_text()))
        self.files_label = QLabel(self.tr("No functions loaded: File ▸ Load Your Functions… or drop a .py file here"))
        self.files_label.setWordWrap(True)
        self.status = QLabel("")
        bar = QHBoxLayout()
        for w in (self.load_button, self.reload_button, self.auto_box, self.race_button, self.train_button):
            bar.addWidget(w)
        bar.addStretch(1)

        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels([self.tr(h) for h in HEADERS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._show_details)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.open_source(row))
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        # fixed-width: the worked examples' columns (expected beside yours) line up
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.details.setPlaceholderText(self.tr("What the check found, in words, with the evidence"))

        self.loss_plot = pg.PlotWidget(title=self.tr("race: loss per step (reference solid, yours dashed)"))
        self.diff_plot = pg.PlotWidget(title=self.tr("|your loss − reference loss|"))
        for p in (self.loss_plot, self.diff_plot):
            p.showGrid(x=True, y=True, alpha=0.2)
            p.setLabel("bottom", self.tr("step"))
        self.diff_plot.setLogMode(y=True)
        for p in (self.loss_plot, self.diff_plot):
            p.setMinimumHeight(150)  # once shown, curves one can read (the splitter gives way above)
        self.diff_plot.setXLink(self.loss_plot)
        self.race_label = QLabel(
            self.tr(
                "Race the Reference trains your functions and the studio's side by side from the same weights; "
                "their losses per step appear here."
            )
        )
        self.race_label.setWordWrap(True)

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addLayout(bar)
        tl.addWidget(self.files_label)
        tl.addWidget(self.table, 2)
        tl.addWidget(self.status)
        tl.addWidget(self.details, 1)
        plots = QWidget()
        pl = QVBoxLayout(plots)
        pl.setContentsMargins(0, 0, 0, 0)
        self.race_plots = QSplitter(Qt.Horizontal)
        self.race_plots.addWidget(self.loss_plot)
        self.race_plots.addWidget(self.diff_plot)
        self.race_plots.setVisible(False)  # empty axes mean nothing: shown once a race has run
        pl.addWidget(self.race_plots, 1)
        pl.addWidget(self.race_label, 0, Qt.AlignTop)
        split = QSplitter(Qt.Vertical)
        split.addWidget(top)
        split.addWidget(plots)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.addWidget(split)

        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._file_changed)
        self._debounce = QTimer(self, singleShot=True, interval=300)
        self._debounce.timeout.connect(self.recheck)
        self._update_buttons()

    # -- loading and checking ----------------------------------------------------------------
    def load(self, files: list[str]) -> None:
        files = [str(Path(f).resolve()) for f in files]
        if self.watcher.files():
            self.watcher.removePaths(self.watcher.files())
        self.files = files
        self.roles = {}
        self.watcher.addPaths(files)
        self.files_label.setText(arg(self.tr("Your functions: %1"), ", ".join(Path(f).name for f in files)))
        self.recheck()

    def add_files(self, files: list[str]) -> None:
        """Dropped .py files join the ones loaded (a course's modules can come one by one)."""
        new = [str(Path(f).resolve()) for f in files]
        self.load([*self.files, *[f for f in new if f not in self.files]])

    def _file_changed(self, path: str) -> None:
        if path not in self.watcher.files() and Path(path).exists():
            self.watcher.addPath(path)  # editors that save by replacing the file
        if self.auto_box.isChecked():
            self._debounce.start()

    def recheck(self) -> None:
        if not self.files or self._busy:
            return
        self._busy = True
        self.status.setText(self.tr("Checking in a worker process…"))
        self._update_buttons()
        self._reduction = self.reduction_getter()
        self.tasks.run(
            check_task,
            list(self.files),
            dict(self.roles),
            self._reduction,
            self.tasks.is_cancelled,
            on_done=self._on_checked,
            label="Checking your functions",
        )

    def _on_checked(self, got) -> None:
        self._busy = False
        res, output = got
        self.result = res
        self.table.setRowCount(0)
        if res is None:
            self.status.setText(self.tr("Your code did not finish: see below"))
            self.details.setPlainText(output)
        elif not res.ops:
            self.status.setText(
                self.tr("No ops found: classes that subclass torch.autograd.Function or have forward and backward")
            )
            self.details.setPlainText(output)
        else:
            self._fill(res)
            n_fail = sum(1 for r in res.results if r.passed is False)
            n_warn = sum(1 for r in res.results if r.verdict == "WARN")
            m = res.mlp
            mlp = (
                arg(self.tr("whole MLP (%1) vs finite differences: %2"), m.act, m.verdict)
                if m.ran
                else arg(self.tr("whole MLP not checked: %1"), m.why)
            )
            n = len(res.results)
            ops = arg(self.tr("%1 ops, %2 failing"), n, n_fail) if n_fail else arg(self.tr("%1 ops, all pass"), n)
            if n_warn:
                ops += arg(self.tr(", %1 with warnings"), n_warn)
            conv = self.tr("summed") if res.reduction == "sum" else self.tr("batch-mean")
            self.status.setText(
                arg(self.tr("%1; %2 · loss gradient expected: of the %3 loss (the panel's)"), ops, mlp, conv)
            )
            if self.table.rowCount():  # the op to look at first: a failing one, else one with warnings
                order = [r.verdict for r in res.results]
                first = next((i for v in ("FAIL", "WARN") for i, o in enumerate(order) if o == v), 0)
                self.table.selectRow(first)
        self._update_buttons()
        self.checked.emit(res)

    def _fill(self, res: FilesCheck) -> None:
        self.table.setRowCount(len(res.results))
        for i, r in enumerate(res.results):
            verdict = "–" if r.verdict == "-" else r.verdict
            grads = ", ".join(f"{k} {_e(v)}" for k, v in r.grad_errors.items())
            cells = [r.name, None, verdict, _e(r.forward_error), grads, f"{r.file}:{r.line}"]
            for c, text in enumerate(cells):
                if text is None:
                    continue
                item = QTableWidgetItem(text)
                if c == 2 and verdict in VERDICT_COLOURS:
                    item.setForeground(QBrush(VERDICT_COLOURS[verdict]))
                    item.setToolTip("\n".join(r.diagnoses + r.warnings) or "matches the reference")
                if c == len(cells) - 1:
                    item.setToolTip(self.tr("Double-click to open this code in your editor ($VISUAL or $EDITOR)"))
                self.table.setItem(i, c, item)
            box = QComboBox()
            box.addItems(ROLES)
            box.setCurrentText(r.role)
            box.setToolTip(arg(self.tr("found by %1; choose another role to correct it"), r.how or "nothing"))
            box.currentTextChanged.connect(lambda role, name=r.name: self.set_role(name, role))
            self.table.setCellWidget(i, 1, box)
        self.table.resizeColumnsToContents()

    def source_of(self, row: int) -> tuple[str, int] | None:
        """The file (its full path, as loaded) and line of the op in ``row`` of the table."""
        if not self.result or not 0 <= row < len(self.result.results):
            return None
        r = self.result.results[row]
        path = next((f for f in self.files if Path(f).name == r.file), None)
        if path is None:  # a module the loaded files import, beside them (a course's activations.py)
            beside = [Path(f).parent / r.file for f in self.files]
            path = next((str(b) for b in beside if b.is_file()), None)
        return (path, int(r.line or 1)) if path else None

    def open_source(self, row: int) -> None:
        """Double-click on an op: its code in the user's editor, at the line."""
        from gui.editor import open_in_editor

        where = self.source_of(row)
        if where is None:
            return
        try:
            how = open_in_editor(*where)
        except OSError as exc:
            self.status.setText(arg(self.tr("Could not open %1: %2"), where[0], exc.strerror or exc))
            return
        self.status.setText(arg(self.tr("Opened %1 at line %2 in %3"), Path(where[0]).name, where[1], how))

    def set_role(self, name: str, role: str) -> None:
        """The user's correction: kept across reloads, and checked again now."""
        if role not in ROLES:
            return
        self.roles[name] = role
        self.recheck()

    def _roles_text(self) -> str:
        return ",".join(f"{k}={v}" for k, v in self.roles.items())

    def _show_details(self) -> None:
        if not self.result:
            return
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        r = self.result.results[rows[0].row()]
        lines = [
            arg(self.tr("%1 (%2, role %3, found by %4) — %5:%6"), r.name, r.style, r.role, r.how or "–", r.file, r.line)
        ]
        if r.diagnoses:
            lines += ["", *[f"✗ {d}" for d in r.diagnoses]]
        if r.warnings:
            lines += ["", *[f"⚠ {w}" for w in r.warnings]]
        elif r.passed and not r.diagnoses:
            lines.append(
                self.tr("✓ forward and every gradient match the reference at batch sizes 1, 8 and 37 (float64)")
            )
        if r.example:
            lines += ["", *format_example(r.example)]
        for row in r.rows:
            grads = ", ".join(f"{k} {_e(v)}" for k, v in row.grads.items())
            lines.append(
                arg(self.tr("  batch %1: forward %2  gradients %3"), f"{row.batch:>2}", _e(row.forward), grads)
            )
            if row.error:
                lines.append("    " + row.error.replace("\n", "\n    "))
        m = self.result.mlp
        if m.ran:
            errs = ", ".join(f"{k} {_e(v)}" for k, v in m.errors.items())
            lines += ["", arg(self.tr("Whole MLP (%1) vs finite differences: %2 %3"), m.act, m.verdict, errs)]
        self.details.setPlainText("\n".join(lines))

    # -- race --------------------------------------------------------------------------------
    def race(self, steps: int = 200) -> bool:
        from engine.data.images import normalize

        ds = self.dataset_getter()
        if not self.files or ds is None or self._busy or not len(ds.train):
            self.race_label.setText(self.tr("Load your functions and open a dataset first."))
            return False
        act = self.race_activation()
        n = min(len(ds.train), 2000)
        self._busy = True
        self._update_buttons()
        self.race_label.setText(arg(self.tr("Racing for %1 steps in a worker process…"), steps))
        self.tasks.run(
            race_task,
            list(self.files),
            dict(self.roles),
            act,
            normalize(ds.train.x[:n]),
            ds.train.y[:n],
            [32],
            steps,
            self.tasks.is_cancelled,
            on_done=self._on_raced,
            label="Racing your functions",
        )
        return True

    def race_activation(self) -> str:
        """A failing activation if there is one (the race then shows where it parts), else the
        one the whole-MLP check used."""
        if self.result is None:
            return "relu"
        for r in self.result.results:
            if r.passed is False and r.role in ("relu", "sigmoid", "tanh", "identity"):
                return r.role
        return self.result.mlp.act or "relu"

    def _on_raced(self, res: RaceResult) -> None:
        self._busy = False
        self._update_buttons()
        self.race_result = res
        self.loss_plot.clear()
        self.diff_plot.clear()
        self.race_label.setText(format_race(res))
        if res.error:
            self.raced.emit(res)
            return
        ref, usr = np.asarray(res.reference), np.asarray(res.yours)
        self.race_plots.setVisible(True)
        x = np.arange(1, len(ref) + 1)
        self.loss_plot.plot(x, ref, pen=style.pen(style.TRAIN, 2), name=self.tr("reference"))
        self.loss_plot.plot(x, usr, pen=style.pen(style.VAL, 2, Qt.DashLine), name=self.tr("yours"))
        diff = np.abs(ref - usr)
        self.diff_plot.plot(x, np.maximum(diff, 1e-18), pen=style.pen(style.VAL, 1.5))
        first = res.first_difference
        if first:
            for p in (self.loss_plot, self.diff_plot):
                line = pg.InfiniteLine(first["step"], angle=90, pen=style.pen(style.BEST, 1.5, Qt.DashLine))
                line.setToolTip(arg(self.tr("they part here: step %1 %2"), first["step"], first.get("parameter", "")))
                p.addItem(line)
        self.raced.emit(res)

    def _update_buttons(self) -> None:
        have = bool(self.files)
        self.reload_button.setEnabled(have and not self._busy)
        self.race_button.setEnabled(have and not self._busy)
        ok = bool(self.result and self.result.ops)
        self.train_button.setEnabled(have and ok and not self._busy)
