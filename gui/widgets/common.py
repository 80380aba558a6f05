"""Small shared widgets: images from arrays, probability bars, a clickable confusion matrix."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QHeaderView, QSizePolicy, QTableWidget, QTableWidgetItem, QWidget

from gui import style
from gui.i18n import arg

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"


def gray_pixmap(img: np.ndarray, scale: int = 1) -> QPixmap:
    """uint8 [H, W] → QPixmap, scaled by whole factors with square nearest-neighbour pixels."""
    a = np.ascontiguousarray(img, np.uint8)
    h, w = a.shape
    q = QImage(a.data, w, h, w, QImage.Format_Grayscale8).copy()
    pm = QPixmap.fromImage(q)
    return pm.scaled(w * scale, h * scale, Qt.IgnoreAspectRatio, Qt.FastTransformation) if scale != 1 else pm


def mosaic(images: np.ndarray, cols: int, pad: int = 1, fill: int = 255) -> np.ndarray:
    """Tile [N, H, W] into one image with ``cols`` columns."""
    n, h, w = images.shape
    rows = max(1, -(-n // cols))
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad), fill, images.dtype)
    for i in range(n):
        r, c = divmod(i, cols)
        out[pad + r * (h + pad) : pad + r * (h + pad) + h, pad + c * (w + pad) : pad + c * (w + pad) + w] = images[i]
    return out


class ProbabilityBars(QWidget):
    """Horizontal bars: one per (label, probability), the top one highlighted."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.items: list[tuple[str, float]] = []
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def set_items(self, items: list[tuple[str, float]]) -> None:
        self.items = list(items)
        self.setFixedHeight(max(18, 18 * len(self.items)))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(220, max(18, 18 * len(self.items)))

    def paintEvent(self, _):
        p = QPainter(self)
        fm = p.fontMetrics()
        label_w = max([fm.horizontalAdvance(lab) for lab, _ in self.items] + [20]) + 6
        text_w = fm.horizontalAdvance("100.0%") + 6
        bar_w = max(10, self.width() - label_w - text_w)
        for i, (label, prob) in enumerate(self.items):
            y = i * 18
            p.setPen(self.palette().text().color())
            p.drawText(QRectF(0, y, label_w - 4, 18), Qt.AlignRight | Qt.AlignVCenter, label)
            color = QColor(style.TRAIN if i == 0 else style.OKABE_ITO["sky"])
            p.fillRect(QRectF(label_w, y + 3, bar_w * max(0.0, min(1.0, prob)), 12), color)
            p.drawText(QRectF(label_w + bar_w + 4, y, text_w, 18), Qt.AlignLeft | Qt.AlignVCenter, f"{prob * 100:.1f}%")


class ConfusionMatrix(QTableWidget):
    """Rows: true class; columns: predicted. Click a cell to emit ``cell_chosen(true, pred)``."""

    cell_chosen = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setEditTriggers(QTableWidget.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.horizontalHeader().setMinimumSectionSize(14)
        self.setTextElideMode(Qt.ElideNone)
        self.setWordWrap(False)
        small = self.font()
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.8))
        self.setFont(small)
        self.verticalHeader().setMinimumSectionSize(12)
        self.setToolTip(self.tr("Rows: true class · columns: predicted class · click a cell to see its images"))
        self.cellClicked.connect(self.cell_chosen)
        self.matrix = np.zeros((0, 0), np.int64)

    def clear_highlight(self) -> None:
        """No chosen cell: the selection and the highlighted headers go."""
        self.clearSelection()
        self.setCurrentCell(-1, -1)

    def set_data(self, y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> None:
        k = len(classes)
        m = np.zeros((k, k), np.int64)
        np.add.at(m, (y_true, y_pred), 1)
        self.matrix = m
        self.setRowCount(k)
        self.setColumnCount(k)
        short = [c if len(c) <= 3 else c[:3] for c in classes]
        self.setHorizontalHeaderLabels(short)
        self.setVerticalHeaderLabels(short)
        row_tot = np.maximum(m.sum(1, keepdims=True), 1)
        frac = m / row_tot
        for i in range(k):
            for j in range(k):
                item = QTableWidgetItem(str(m[i, j]) if m[i, j] else "")
                item.setTextAlignment(Qt.AlignCenter)
                item.setToolTip(arg(self.tr("true %1 → predicted %2: %3"), classes[i], classes[j], m[i, j]))
                f = frac[i, j]
                if m[i, j]:
                    base = QColor(style.TRAIN if i == j else style.VAL)
                    base.setAlphaF(0.15 + 0.85 * f)
                    item.setBackground(base)
                    if f > 0.5:
                        item.setForeground(QColor("white"))
                self.setItem(i, j, item)
