"""The prediction browser: a gallery of images with true/predicted labels and confidence,
filters and sorting, a clickable confusion matrix, per-class accuracy, and a detail view
of the exact input the network sees with its top-5 probabilities."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QAbstractListModel, QModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.model.evaluation import SORTS, Evaluation
from gui import style
from gui.i18n import arg
from gui.widgets.common import ConfusionMatrix, ProbabilityBars, gray_pixmap

THUMB = 48
CELL = 92


def _padded(pm: QPixmap) -> QPixmap:
    """Centre a thumbnail on a transparent CELL-wide canvas."""
    out = QPixmap(CELL, pm.height())
    out.fill(Qt.transparent)
    p = QPainter(out)
    p.drawPixmap((CELL - pm.width()) // 2, 0, pm)
    p.end()
    return out


class GalleryModel(QAbstractListModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.ev: Evaluation | None = None
        self.idx = np.zeros(0, np.int64)
        self._icons: dict[int, QIcon] = {}

    def set(self, ev: Evaluation | None, idx: np.ndarray) -> None:
        self.beginResetModel()
        if ev is not self.ev:
            self._icons.clear()
        self.ev, self.idx = ev, idx
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.idx)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid() or self.ev is None:
            return None
        i = int(self.idx[index.row()])
        ev = self.ev
        t, p = ev.classes[ev.y[i]], ev.classes[ev.pred[i]]
        if role == Qt.DisplayRole:
            return f"{t} → {p}\n{ev.conf[i] * 100:.0f}%"
        if role == Qt.DecorationRole:
            if i not in self._icons:
                self._icons[i] = QIcon(_padded(gray_pixmap(ev.x[i], max(1, THUMB // ev.x.shape[1]))))
            return self._icons[i]
        if role == Qt.ForegroundRole:
            return QColor(style.VAL) if ev.y[i] != ev.pred[i] else None
        if role == Qt.ToolTipRole:
            name = ev.names[i] if i < len(ev.names) else f"#{i}"
            return f"{name}\ntrue {t}, predicted {p} ({ev.conf[i] * 100:.1f}%)"
        if role == Qt.UserRole:
            return i
        return None


class PredictionBrowser(QWidget):
    """Shows the session's :class:`Evaluation`; choosing a split evaluates it."""

    explain_requested = Signal(str, int)  # split, index: "Explain This Image"

    def __init__(self, session, parent=None):
        super().__init__(parent)
        self.session = session
        self.ev: Evaluation | None = None
        self.cell: tuple[int, int] | None = None
        self._pending: tuple[str, int] | None = None  # an image to select once its split is evaluated
        self._requested: str | None = None  # the split of the evaluation asked for last
        self.split = QComboBox()
        self.split.addItems(["val", "test", "train"])
        self.eval_button = QPushButton(self.tr("Evaluate"))
        self.eval_button.setToolTip(self.tr("Run the current model on the chosen split"))
        self.eval_button.clicked.connect(self.evaluate)
        self.wrong_only = QCheckBox(self.tr("Misclassified only"))
        self.sort = QComboBox()
        self.sort.addItems(SORTS)
        self.cell_label = QLabel()
        self.clear_cell = QPushButton(self.tr("Show all"))
        self.clear_cell.clicked.connect(lambda: self.set_cell(None))
        self.clear_cell.setVisible(False)
        self.summary = QLabel(self.tr("Train or open a model to see its predictions."))
        self.summary.setMinimumWidth(10)
        top = QHBoxLayout()
        for w in (
            QLabel(self.tr("Split")),
            self.split,
            self.eval_button,
            self.wrong_only,
            QLabel(self.tr("Sort")),
            self.sort,
        ):
            top.addWidget(w)
        top.addStretch()
        second = QHBoxLayout()  # a second row: the top row stays narrow enough for small screens
        second.addWidget(self.summary, 1)
        second.addWidget(self.cell_label)
        second.addWidget(self.clear_cell)

        self.model = GalleryModel(self)
        self.gallery = QListView()
        self.gallery.setViewMode(QListView.IconMode)
        self.gallery.setResizeMode(QListView.Adjust)
        self.gallery.setUniformItemSizes(True)
        # Icons are as wide as a cell: QListView wraps item text at the icon's width.
        self.gallery.setIconSize(QSize(CELL, THUMB))
        self.gallery.setGridSize(QSize(CELL + 8, THUMB + 42))
        self.gallery.setWordWrap(True)
        self.gallery.setMovement(QListView.Static)
        self.gallery.setModel(self.model)
        self.gallery.selectionModel().currentChanged.connect(self._on_current)

        self.detail_image = QLabel()
        self.detail_image.setAlignment(Qt.AlignCenter)
        self.detail_image.setMinimumSize(160, 160)
        self.detail_text = QLabel()
        self.detail_text.setWordWrap(True)
        self.detail_bars = ProbabilityBars()
        detail = QWidget()
        dl = QVBoxLayout(detail)
        dl.addWidget(QLabel(self.tr("<b>What the network sees</b>")))
        dl.addWidget(self.detail_image)
        dl.addWidget(self.detail_text)
        dl.addWidget(self.detail_bars)
        self.explain_button = QPushButton(self.tr("Explain This Image"))
        self.explain_button.setToolTip(self.tr("Its forward and backward pass, step by step (Internals ▸ Explain)"))
        self.explain_button.setEnabled(False)
        self.explain_button.clicked.connect(self._explain_current)
        dl.addWidget(self.explain_button)
        dl.addStretch()

        self.confusion = ConfusionMatrix()
        self.confusion.cell_chosen.connect(lambda i, j: self.set_cell((i, j)))
        self.per_class = pg.PlotWidget(title=self.tr("Per-class accuracy"))
        self.per_class.setYRange(0, 1)
        self.per_class.setMouseEnabled(x=False, y=False)
        self.bars = pg.BarGraphItem(x=[], height=[], width=0.7, brush=style.TRAIN)
        self.per_class.addItem(self.bars)
        # A class without images in this split is not 0 %: a hatched grey outline and "n/a".
        self.empty_bars = pg.BarGraphItem(
            x=[], height=[], width=0.7, brush=pg.mkBrush(153, 153, 153, 60, style=Qt.BDiagPattern), pen="#999999"
        )
        self.per_class.addItem(self.empty_bars)
        self.empty_labels: list[pg.TextItem] = []  # "n/a" upright inside each hatched bar (never clipped)
        self.per_class.getAxis("left").enableAutoSIPrefix(False)
        self.per_class.setLabel("left", self.tr("accuracy (hatched: no images of the class in this split)"))
        side = QTabWidget()
        matrix_box = QWidget()
        mb = QVBoxLayout(matrix_box)
        mb.setContentsMargins(0, 0, 0, 0)
        self.confusion_axes = QLabel(self.tr("rows: <b>true</b> class ↓ · columns: <b>predicted</b> class →"))
        self.confusion_axes.setAlignment(Qt.AlignCenter)
        mb.addWidget(self.confusion_axes)
        mb.addWidget(self.confusion, 1)
        side.addTab(matrix_box, self.tr("Confusion matrix"))
        side.addTab(self.per_class, self.tr("Per-class accuracy"))

        split = QSplitter(Qt.Horizontal)
        split.addWidget(self.gallery)
        split.addWidget(detail)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setStretchFactor(2, 2)
        self.splitter = split
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(second)
        layout.addWidget(split, 1)
        self.wrong_only.toggled.connect(self._refilter)
        self.sort.currentIndexChanged.connect(self._refilter)
        self.split.activated.connect(lambda _i: self.evaluate())
        session.evaluated.connect(self.set_evaluation)
        session.model_changed.connect(self._on_model_changed)
        session.dataset_changed.connect(self._on_dataset_changed)

    def allow_evaluate(self, allowed: bool) -> None:
        """Evaluate needs a model and data, and no run in progress."""
        self.eval_button.setEnabled(allowed)

    def evaluate(self) -> None:
        """Run the open model on the chosen split (also when the split is changed)."""
        split = self.split.currentText()
        if self.session.model is None or self.session.training:
            return
        if self.ev is not None and self.ev.split != split:
            self.summary.setText(arg(self.tr("Evaluating on %1…"), split))
        self._requested = split
        self.session.evaluate(split)

    def _on_model_changed(self, model) -> None:
        self.clear()
        if model is None:
            return
        if self.session.training:
            self.summary.setText(self.tr("Training: the predictions show when the run ends (or press Evaluate)."))
        else:
            self.summary.setText(self.tr("Evaluating…"))
            self.evaluate()

    def _on_dataset_changed(self, _ds) -> None:
        if self.ev is not None and not self.session.training and self.session.model is not None:
            self.evaluate()

    def clear(self) -> None:
        self.ev = None
        self.cell = None
        self.model.set(None, np.zeros(0, np.int64))
        self.confusion.setRowCount(0)
        self.confusion.setColumnCount(0)
        self.bars.setOpts(x=[], height=[])
        self.empty_bars.setOpts(x=[], height=[])
        self.cell_label.setText("")
        self.clear_cell.setVisible(False)
        self.detail_image.clear()
        self.detail_text.setText("")
        self.detail_bars.set_items([])

    def set_evaluation(self, ev: Evaluation) -> None:
        if self._requested is not None and ev.split != self._requested:
            return  # a result for a split asked for earlier (arriving late): the user has chosen another since
        self.ev = ev
        self.cell = None
        self.split.setCurrentText(ev.split)
        if len(ev.y):
            name = self.session.model.name if self.session.model is not None else "model"
            self.summary.setText(
                arg(
                    self.tr("<b>%1</b> on %2: %3 images, accuracy <b>%4%</b>"),
                    name,
                    ev.split,
                    len(ev.y),
                    f"{ev.accuracy * 100:.1f}",
                )
            )
        else:
            self.summary.setText(arg(self.tr("The dataset has no %1 images."), ev.split))
        self.confusion.set_data(ev.y, ev.pred, ev.classes)
        self.clear_cell.setVisible(False)
        self.cell_label.setText("")
        k = len(ev.classes)
        per = ev.per_class_accuracy()
        empty = np.isnan(per)
        self.bars.setOpts(x=np.arange(k)[~empty], height=per[~empty])
        self.empty_bars.setOpts(x=np.arange(k)[empty], height=np.ones(int(empty.sum())))
        ax = self.per_class.getAxis("bottom")
        ax.setTicks([[(i, c[:3]) for i, c in enumerate(ev.classes)]])
        for item in self.empty_labels:
            self.per_class.removeItem(item)
        self.empty_labels = []
        for i in np.flatnonzero(empty):
            item = pg.TextItem(self.tr("n/a"), color="#777777", angle=90, anchor=(0.5, 0.5))
            item.setPos(float(i), 0.5)
            self.per_class.addItem(item)
            self.empty_labels.append(item)
        self._refilter()
        if self._pending and self._pending[0] == ev.split:  # an earlier evaluation of another split keeps it
            pending, self._pending = self._pending, None
            self.show_image(*pending)

    def set_cell(self, cell: tuple[int, int] | None) -> None:
        self.cell = cell
        if cell and self.ev:
            t, p = self.ev.classes[cell[0]], self.ev.classes[cell[1]]
            self.cell_label.setText(arg(self.tr("true %1 → predicted %2"), t, p))
        else:
            self.cell_label.setText("")
            self.confusion.clear_highlight()
        self.clear_cell.setVisible(cell is not None)
        self._refilter()

    def visible_indices(self) -> np.ndarray:
        return self.model.idx

    def _refilter(self, *_):
        if self.ev is None:
            return
        idx = self.ev.indices(self.wrong_only.isChecked(), self.sort.currentText(), self.cell)
        self.model.set(self.ev, idx)
        if len(idx):
            self.gallery.setCurrentIndex(self.model.index(0))

    def _explain_current(self) -> None:
        current = self.gallery.currentIndex()
        if current.isValid() and self.ev is not None:
            self.explain_requested.emit(self.ev.split, int(self.model.data(current, Qt.UserRole)))

    def show_image(self, split: str, index: int) -> bool:
        """Select image ``index`` of ``split`` in the gallery (filters cleared so it is there)."""
        if self.ev is None or self.ev.split != split:
            self._pending = (split, index)
            self.split.setCurrentText(split)
            self.evaluate()
            return False
        self.wrong_only.setChecked(False)
        if self.cell is not None:
            self.set_cell(None)
        rows = np.flatnonzero(self.model.idx == index)
        if not len(rows):
            return False
        self.gallery.setCurrentIndex(self.model.index(int(rows[0])))
        self.gallery.scrollTo(self.model.index(int(rows[0])))
        return True

    def _on_current(self, current, _previous=None):
        if not current.isValid() or self.ev is None:
            return
        self.explain_button.setEnabled(True)
        i = self.model.data(current, Qt.UserRole)
        ev = self.ev
        img = ev.x[i]
        self.detail_image.setPixmap(gray_pixmap(img, max(1, 160 // img.shape[0])))
        name = ev.names[i] if i < len(ev.names) else f"#{i}"
        ok = self.tr("✓ correct") if ev.pred[i] == ev.y[i] else self.tr("✗ wrong")
        self.detail_text.setText(
            arg(
                self.tr("%1 (%2×%3 input)<br>true <b>%4</b>, predicted <b>%5</b> — %6"),
                name,
                img.shape[1],
                img.shape[0],
                ev.classes[ev.y[i]],
                ev.classes[ev.pred[i]],
                ok,
            )
        )
        order = np.argsort(-ev.probs[i])[:5]
        self.detail_bars.set_items([(ev.classes[k], float(ev.probs[i, k])) for k in order])
