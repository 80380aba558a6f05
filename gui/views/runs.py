"""The Runs tab: every recorded run as a sortable, filterable table; selected runs' curves
overlaid (loss and validation accuracy, one colour per run, legend by name); rename, tag,
note, delete; open a run's model; train again with its settings; export rows and curves."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QItemSelectionModel, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from engine.runs.store import STATUSES, RunRow
from gui import settings
from gui.export import write_text_file
from gui.i18n import arg

HEADERS = [  # the columns, by their English names (the code finds them by these); shown translated
    QT_TRANSLATE_NOOP("RunsView", "id"),
    QT_TRANSLATE_NOOP("RunsView", "name"),
    QT_TRANSLATE_NOOP("RunsView", "status"),
    QT_TRANSLATE_NOOP("RunsView", "dataset"),
    QT_TRANSLATE_NOOP("RunsView", "optimizer"),
    QT_TRANSLATE_NOOP("RunsView", "lr"),
    QT_TRANSLATE_NOOP("RunsView", "wd"),
    QT_TRANSLATE_NOOP("RunsView", "hidden"),
    QT_TRANSLATE_NOOP("RunsView", "seed"),
    QT_TRANSLATE_NOOP("RunsView", "epochs"),
    QT_TRANSLATE_NOOP("RunsView", "val acc"),
    QT_TRANSLATE_NOOP("RunsView", "best val"),
    QT_TRANSLATE_NOOP("RunsView", "test acc"),
    QT_TRANSLATE_NOOP("RunsView", "test @ best"),
    QT_TRANSLATE_NOOP("RunsView", "time"),
    QT_TRANSLATE_NOOP("RunsView", "tags"),
    QT_TRANSLATE_NOOP("RunsView", "note"),
    QT_TRANSLATE_NOOP("RunsView", "started"),
]
STATUS_WORDS = {  # a run's status as the table shows it; the filter and sorting use the status itself
    "running": QT_TRANSLATE_NOOP("RunsView", "running"),
    "finished": QT_TRANSLATE_NOOP("RunsView", "finished"),
    "stopped": QT_TRANSLATE_NOOP("RunsView", "stopped"),
    "diverged": QT_TRANSLATE_NOOP("RunsView", "diverged"),
    "failed": QT_TRANSLATE_NOOP("RunsView", "failed"),
    "interrupted": QT_TRANSLATE_NOOP("RunsView", "interrupted"),
}
SORT_ROLE = Qt.UserRole + 1
ID_ROLE = Qt.UserRole + 2


def _num(v, fmt="{:.4f}") -> tuple[str, float]:
    return ("", -math.inf) if v is None else (fmt.format(v), float(v))


class _Filter(QSortFilterProxyModel):
    """Text in name/tags/note, dataset, status, and a minimum validation accuracy."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.text, self.dataset, self.status, self.min_val = "", "", "", 0.0
        self.setSortRole(SORT_ROLE)

    def filterAcceptsRow(self, row, parent) -> bool:
        m = self.sourceModel()

        def cell(col):
            return m.index(row, col, parent).data() or ""

        if self.text:
            hay = " ".join(cell(HEADERS.index(c)) for c in ("name", "tags", "note")).lower()
            if self.text.lower() not in hay:
                return False
        if self.dataset and cell(3) != self.dataset:
            return False
        if self.status and m.index(row, 2, parent).data(SORT_ROLE) != self.status:
            return False
        if self.min_val > 0:
            v = m.index(row, HEADERS.index("val acc"), parent).data(SORT_ROLE)
            if v is None or v < self.min_val:
                return False
        return True


class RunsView(QWidget):
    """Needs the run controller (its store) and two callbacks from the window."""

    open_model = Signal(str)  # a checkpoint path
    train_again = Signal(dict)  # a config dict
    show_in_training = Signal(list)  # [(name, epochs, steps, config)] of the selected runs, from the store
    show_health = Signal(str, list, float)  # a run's name, its layer-health records, its epochs

    def __init__(self, controller, parent=None):
        super().__init__(parent)
        self.controller = controller
        self.rows: dict[int, RunRow] = {}
        self.model = QStandardItemModel(0, len(HEADERS))
        self.model.setHorizontalHeaderLabels([self.tr(h) for h in HEADERS])
        self.proxy = _Filter(self)
        self.proxy.setSourceModel(self.model)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.ElideRight)
        self.table.selectionModel().selectionChanged.connect(self._on_selection)
        self.table.doubleClicked.connect(lambda _i: self.rename())

        self.search = QLineEdit(placeholderText=self.tr("filter: text in name, tags or note"))
        self.search.setClearButtonEnabled(True)
        self.dataset_box = QComboBox()
        self.status_box = QComboBox()
        self.status_box.addItem(self.tr("any status"), "")
        for st in STATUSES:
            self.status_box.addItem(QCoreApplication.translate("RunsView", STATUS_WORDS[st]), st)
        self.min_val = QDoubleSpinBox(minimum=0, maximum=1, singleStep=0.05, decimals=2, prefix=self.tr("val acc ≥ "))
        self.search.textChanged.connect(self._filter_changed)
        self.dataset_box.currentIndexChanged.connect(self._filter_changed)
        self.status_box.currentIndexChanged.connect(self._filter_changed)
        self.min_val.valueChanged.connect(self._filter_changed)
        self.group_box = QCheckBox(self.tr("Seeds as mean ± std"))
        self.group_box.setToolTip(
            self.tr("Draw the selected runs of one setting (all but the seed) as their mean with a ± 1 std band")
        )
        self.group_box.setChecked(bool(settings.read("runs_group_seeds")))
        self.group_box.toggled.connect(lambda on: (settings.write("runs_group_seeds", on), self._on_selection()))
        filters = QHBoxLayout()
        for w in (self.search, self.dataset_box, self.status_box, self.min_val, self.group_box):
            filters.addWidget(w)
        filters.setStretch(0, 1)

        self.buttons = {}
        rows = [QHBoxLayout(), QHBoxLayout(), QHBoxLayout()]  # three rows: the tab fits a 1024-pixel-wide screen
        for key, text, slot, tip in (
            (
                "refresh",
                self.tr("Refresh"),
                self.refresh,
                self.tr("Read the run store again"),
            ),
            (
                "rename",
                self.tr("Rename…"),
                self.rename,
                self.tr("Rename the selected run"),
            ),
            (
                "tags",
                self.tr("Tags…"),
                self.edit_tags,
                self.tr("Tags of the selected runs, comma-separated"),
            ),
            (
                "note",
                self.tr("Note…"),
                self.edit_note,
                self.tr("A note on the selected run"),
            ),
            (
                "open",
                self.tr("Open Model"),
                self.open_selected,
                self.tr("Open the selected run's final checkpoint"),
            ),
            (
                "again",
                self.tr("Train Again"),
                self.train_again_selected,
                self.tr("Fill the hyperparameters with this run's"),
            ),
            (
                "overlay",
                self.tr("Show in Training"),
                self.show_selected_in_training,
                self.tr("Overlay these runs on the Training tab"),
            ),
            (
                "health",
                self.tr("Show Health"),
                self.show_selected_health,
                self.tr("This run's layer health in the Internals tab"),
            ),
            (
                "export",
                self.tr("Export Rows…"),
                self.export_rows,
                self.tr("The selected rows as CSV, Markdown or LaTeX"),
            ),
            (
                "curves",
                self.tr("Export Curves…"),
                self.export_curves,
                self.tr("The selected runs' per-epoch curves as CSV"),
            ),
            (
                "report",
                self.tr("Export for Report…"),
                self.export_report,
                self.tr(
                    "A folder with the results table (LaTeX, Markdown), the figures (PDF, PNG) and every "
                    "selected run (CSV): the numbers of a report, traceable to their runs"
                ),
            ),
            (
                "figure",
                self.tr("Export Figure…"),
                self.export_figure,
                self.tr(
                    "The selected runs' curves for a report: white, 8 pt text at 8.5 cm, seeds of one setting "
                    "as mean ± std; PDF, SVG or PNG (300 dpi)"
                ),
            ),
            (
                "delete",
                self.tr("Delete…"),
                self.delete_selected,
                self.tr("Delete the selected runs and their checkpoints"),
            ),
        ):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(lambda _=False, slot=slot: slot())  # never clicked(bool) into a parameter
            self.buttons[key] = b
            rows[(len(self.buttons) - 1) // 5].addWidget(b)
        for row in rows:
            row.addStretch(1)
        self.status = QLabel("")
        self.status.setWordWrap(True)

        self.loss_plot = pg.PlotWidget(title=self.tr("loss (train solid, validation dashed)"))
        self.acc_plot = pg.PlotWidget(title=self.tr("validation accuracy"))
        for p in (self.loss_plot, self.acc_plot):
            p.setLabel("bottom", self.tr("epoch"))
            p.showGrid(x=True, y=True, alpha=0.2)
            p.getPlotItem().getAxis("left").enableAutoSIPrefix(False)
        self.acc_plot.setYRange(0, 1)
        self.legend = self.acc_plot.addLegend(offset=(-10, 10))
        plots = QSplitter(Qt.Horizontal)
        plots.addWidget(self.loss_plot)
        plots.addWidget(self.acc_plot)

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addLayout(filters)
        tl.addWidget(self.table, 1)
        for row in rows:
            tl.addLayout(row)
        tl.addWidget(self.status)
        split = QSplitter(Qt.Vertical)
        split.addWidget(top)
        split.addWidget(plots)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        lay = QVBoxLayout(self)
        lay.addWidget(split)
        controller.recorded.connect(lambda _id: self.refresh() if self.isVisible() else self.mark_stale())
        controller.store_problem.connect(
            lambda msg: self.status.setText(arg(self.tr("Runs are not recorded: %1"), msg))
        )
        self._stale = True
        self._update_buttons()

    # -- data ----------------------------------------------------------------------------
    def mark_stale(self) -> None:
        """The store changed while this view was hidden: it refreshes when next shown."""
        self._stale = True

    def showEvent(self, ev) -> None:
        super().showEvent(ev)
        if self._stale:
            self.refresh()

    def refresh(self) -> None:
        from engine.runs.store import StoreError

        store = self.controller.store()
        self._stale = False
        if store is None:  # damaged, another application's, newer: said here, not an empty table
            self.model.setRowCount(0)
            self.status.setText(arg(self.tr("Runs are not recorded: %1"), self.controller.store_error))
            return
        selected = set(self.selected_ids())
        try:
            rows = store.runs()
        except StoreError as exc:
            self.model.setRowCount(0)
            self.status.setText(str(exc))
            return
        self.rows = {r.id: r for r in rows}
        self.model.setRowCount(0)
        for r in rows:
            self.model.appendRow(self._items(r))
        datasets = sorted({r.dataset_name for r in rows})
        current = self.dataset_box.currentText()
        self.dataset_box.blockSignals(True)
        self.dataset_box.clear()
        self.dataset_box.addItems([self.tr("any dataset"), *datasets])
        if current in datasets:
            self.dataset_box.setCurrentText(current)
        self.dataset_box.blockSignals(False)
        self.status.setText(arg(self.tr("%1 runs in %2"), len(rows), store.where))
        self.table.resizeColumnsToContents()
        name_col = HEADERS.index("name")
        self.table.setColumnWidth(name_col, min(max(self.table.columnWidth(name_col), 160), 320))
        if selected:
            self.select_ids(selected)
        self._on_selection()

    def _items(self, r: RunRow) -> list[QStandardItem]:
        c = r.config
        values = [
            (str(r.id), r.id),
            (r.name, r.name.lower()),
            (QCoreApplication.translate("RunsView", STATUS_WORDS.get(r.status, r.status)), r.status),
            (r.dataset_name, r.dataset_name),
            (str(c.get("optim", "")), str(c.get("optim", ""))),
            _num(c.get("lr"), "{:g}"),
            _num(c.get("weight_decay"), "{:g}"),
            (",".join(map(str, c.get("hidden", []))), sum(c.get("hidden", []) or [0])),
            _num(c.get("seed"), "{:d}") if isinstance(c.get("seed"), int) else ("", -1),
            (str(r.epochs_done), r.epochs_done),
            _num(r.val_acc),
            _num(r.best_val_acc),
            _num(r.test_acc),
            _num(r.test_acc_at_best),
            _num(r.wall_time, "{:.1f} s"),
            (", ".join(r.tags), ", ".join(r.tags)),
            (r.note, r.note),
            (time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started)), r.started),
        ]
        items = []
        for text, key in values:
            it = QStandardItem(text)
            it.setData(key, SORT_ROLE)
            it.setData(r.id, ID_ROLE)
            items.append(it)
        if r.message:
            items[2].setToolTip(r.message)
        code = [
            arg(self.tr("%1 (SHA-256 %2…)"), Path(f.get("file", "")).name, f.get("sha256", "?")[:12])
            for f in r.versions.get("functions", [])
        ]
        items[1].setToolTip(r.name + ("\n" + self.tr("Your functions:") + " " + ", ".join(code) if code else ""))
        return items

    def _filter_changed(self) -> None:
        self.proxy.text = self.search.text().strip()
        self.proxy.dataset = self.dataset_box.currentText() if self.dataset_box.currentIndex() > 0 else ""
        self.proxy.status = self.status_box.currentData() or ""
        self.proxy.min_val = self.min_val.value()
        self.proxy.invalidate()

    def selected_ids(self) -> list[int]:
        rows = {i.row() for i in self.table.selectionModel().selectedRows()}
        return [self.proxy.index(r, 0).data(ID_ROLE) for r in sorted(rows)]

    def select_ids(self, ids) -> None:
        sel = self.table.selectionModel()
        sel.clearSelection()
        for r in range(self.proxy.rowCount()):
            if self.proxy.index(r, 0).data(ID_ROLE) in ids:
                sel.select(self.proxy.index(r, 0), QItemSelectionModel.Select | QItemSelectionModel.Rows)

    def selected_rows(self) -> list[RunRow]:
        return [self.rows[i] for i in self.selected_ids() if i in self.rows]

    # -- the overlay ---------------------------------------------------------------------
    def _on_selection(self, *_):
        self._update_buttons()
        self.loss_plot.clear()
        self.acc_plot.clear()
        self.legend.clear()
        store = self.controller.store()
        if store is None:
            return
        if self.group_box.isChecked():
            self._draw_bands(store, self.selected_rows()[:60])
            return
        for k, r in enumerate(self.selected_rows()[:12]):
            color = pg.intColor(k, hues=max(3, min(12, len(self.selected_ids()))), values=1, maxValue=220)
            ep = store.epochs(r.id)
            x = np.array([e.epoch for e in ep], float)
            tl = np.array([np.nan if e.train_loss is None else e.train_loss for e in ep])
            vl = np.array([np.nan if e.val_loss is None else e.val_loss for e in ep])
            va = np.array([np.nan if e.val_acc is None else e.val_acc for e in ep])
            self.loss_plot.plot(x, tl, pen=pg.mkPen(color, width=2), connect="finite")
            self.loss_plot.plot(x, vl, pen=pg.mkPen(color, width=2, style=Qt.DashLine), connect="finite")
            self.acc_plot.plot(x, va, pen=pg.mkPen(color, width=2), connect="finite", name=f"#{r.id} {r.name}")
        self.acc_plot.setYRange(0, 1)

    def _draw_bands(self, store, rows: list[RunRow]) -> None:
        """One curve per setting: the mean over its seeds, a ± 1 sample-std band where there are
        several (engine.runs.curves, the report figures' numbers)."""
        from engine.runs.curves import bands

        rows = sorted(rows, key=lambda r: r.id)  # settings in the order they were first run
        acc = bands(store, rows, "val_acc")
        loss = bands(store, rows, "train_loss") + bands(store, rows, "val_loss")
        labels = list(dict.fromkeys(b.label for b in acc + loss))
        for b in loss + acc:
            colour = pg.intColor(labels.index(b.label), hues=max(3, min(12, len(labels))), values=1, maxValue=220)
            plot = self.acc_plot if b.metric == "val_acc" else self.loss_plot
            dashed = b.metric == "val_loss"
            curve = plot.plot(
                b.epoch,
                b.mean,
                pen=pg.mkPen(colour, width=2, style=Qt.DashLine if dashed else Qt.SolidLine),
                name=b.label if b.metric == "val_acc" else None,
            )
            if (b.n > 1).any() and not dashed:
                hi = pg.PlotDataItem(b.epoch, b.mean + b.std, pen=None)
                lo = pg.PlotDataItem(b.epoch, b.mean - b.std, pen=None)
                fill = pg.FillBetweenItem(hi, lo, brush=pg.mkBrush(*pg.mkColor(colour).getRgb()[:3], 50))
                fill.setZValue(curve.zValue() - 1)
                plot.addItem(fill)
        self.acc_plot.setYRange(0, 1)

    def _update_buttons(self) -> None:
        n = len(self.selected_ids())
        for key in ("rename", "note", "open", "again", "health"):
            self.buttons[key].setEnabled(n == 1)
        for key in ("tags", "export", "curves", "figure", "report", "delete", "overlay"):
            self.buttons[key].setEnabled(n >= 1)
        if n == 1:
            r = self.selected_rows()[0] if self.selected_rows() else None
            self.buttons["open"].setEnabled(bool(r and (r.final_checkpoint or r.best_checkpoint)))

    # -- actions -------------------------------------------------------------------------
    def rename(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        name, ok = QInputDialog.getText(self, self.tr("Rename Run"), self.tr("Name:"), text=rows[0].name)
        if ok and name.strip():
            self.controller.store().edit(rows[0].id, name=name.strip())
            self.refresh()

    def edit_tags(self) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        text, ok = QInputDialog.getText(
            self,
            self.tr("Tags"),
            self.tr("Tags (comma-separated):"),
            text=", ".join(rows[0].tags) if len(rows) == 1 else "",
        )
        if ok:
            tags = [t.strip() for t in text.split(",") if t.strip()]
            for r in rows:
                self.controller.store().edit(r.id, tags=tags)
            self.refresh()

    def edit_note(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 1:
            return
        text, ok = QInputDialog.getMultiLineText(self, "Note", f"Note on #{rows[0].id} {rows[0].name}:", rows[0].note)
        if ok:
            self.controller.store().edit(rows[0].id, note=text)
            self.refresh()

    def delete_selected(self, confirm: bool = True) -> None:
        rows = self.selected_rows()
        if not rows:
            return
        if confirm:
            answer = QMessageBox.question(
                self,
                self.tr("Delete Runs"),
                arg(
                    self.tr("Delete %1 run(s) and their checkpoints from the run store? This cannot be undone."),
                    len(rows),
                ),
                QMessageBox.Yes | QMessageBox.Cancel,
                QMessageBox.Cancel,
            )
            if answer != QMessageBox.Yes:
                return
        running = [r.id for r in rows if r.status == "running"]
        ids = [r.id for r in rows if r.status != "running"]
        self.controller.store().delete(ids)
        self.refresh()
        if running:
            self.status.setText(arg(self.tr("%1 running run(s) were kept: stop them first"), len(running)))

    def open_selected(self) -> None:
        rows = self.selected_rows()
        if len(rows) == 1:
            path = rows[0].final_checkpoint or rows[0].best_checkpoint
            if path:
                self.open_model.emit(path)

    def train_again_selected(self) -> None:
        rows = self.selected_rows()
        if len(rows) == 1:
            self.train_again.emit(dict(rows[0].config))

    def show_selected_in_training(self) -> None:
        """The selected runs, named, under the Training tab's current run (at most 12)."""
        store = self.controller.store()
        if store is None:
            return
        runs = [
            (f"#{r.id} {r.name}", store.epochs(r.id), store.steps(r.id), dict(r.config))
            for r in self.selected_rows()[:12]
        ]
        if runs:
            self.show_in_training.emit(runs)

    def show_selected_health(self) -> None:
        """The selected run's layer health, from the store's health table, in the Internals tab."""
        rows, store = self.selected_rows(), self.controller.store()
        if len(rows) != 1 or store is None:
            return
        r = rows[0]
        records = store.health(r.id)
        if not records:
            self.status.setText(
                arg(self.tr("#%1 %2 has no layer-health records (recorded without them)"), r.id, r.name)
            )
            return
        epochs = float(r.config.get("epochs") or max(1.0, float(np.ceil(records[-1]["epoch"]))))
        self.show_health.emit(f"#{r.id} {r.name}", records, epochs)

    def export_rows(self, path: str | None = None) -> str | None:
        from engine.runs.tables import format_runs

        rows = self.selected_rows()
        if not rows:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Export Runs"), "runs.md", "Markdown (*.md);;CSV (*.csv);;LaTeX (*.tex)"
            )
            if not path:
                return None
        fmt = {"csv": "csv", "tex": "latex"}.get(path.rsplit(".", 1)[-1].lower(), "markdown")
        try:
            write_text_file(path, format_runs(rows, fmt))
        except OSError as exc:
            self.status.setText(arg(self.tr("Could not write %1: %2"), path, exc.strerror))
            return None
        self.status.setText(arg(self.tr("Wrote %1 run(s) to %2"), len(rows), path))
        return path

    def export_curves(self, path: str | None = None) -> str | None:
        from engine.runs.tables import curves_csv

        rows = self.selected_rows()
        if not rows:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self, self.tr("Export Curves"), "curves.csv", "CSV (*.csv)")
            if not path:
                return None
        try:
            write_text_file(path, curves_csv(self.controller.store(), rows))
        except OSError as exc:
            self.status.setText(arg(self.tr("Could not write %1: %2"), path, exc.strerror))
            return None
        self.status.setText(arg(self.tr("Wrote the curves of %1 run(s) to %2"), len(rows), path))
        return path

    def export_figure(self, path: str | None = None) -> str | None:
        """The selected runs' loss and accuracy as a print figure (gui.figures), one column wide."""
        from engine.errors import UserError
        from gui.figures import WIDTHS_CM, dispose, runs_figure, save

        rows = sorted(self.selected_rows(), key=lambda r: r.id)
        if not rows:
            return None
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self, self.tr("Export Figure"), "curves.pdf", "PDF (*.pdf);;SVG (*.svg);;PNG, 300 dpi (*.png)"
            )
            if not path:
                return None
        store, cm = self.controller.store(), WIDTHS_CM["column"]
        try:
            figure = runs_figure(store, rows, cm)
            try:
                save(figure, path, cm)
            finally:
                dispose(figure)
        except UserError as exc:
            self.status.setText(str(exc))
            return None
        self.status.setText(arg(self.tr("Wrote a figure of %1 run(s) to %2"), len(rows), path))
        return path

    def export_report(self, folder: str | None = None) -> str | None:
        """The selected runs as a report bundle (gui.report) in a folder the user picks."""
        from engine.errors import UserError
        from gui.report import write_report

        rows = self.selected_rows()
        if not rows:
            return None
        if folder is None:
            folder = QFileDialog.getExistingDirectory(self, self.tr("Export for Report"))
            if not folder:
                return None
        try:
            written = write_report(self.controller.store(), rows, folder)
        except UserError as exc:
            self.status.setText(str(exc))
            return None
        self.status.setText(arg(self.tr("Wrote %1 files for the report to %2"), len(written), folder))
        return folder
