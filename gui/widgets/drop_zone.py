"""A translucent overlay shown over the window while files are dragged onto it."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QWidget

from gui import style


class DropZone(QWidget):
    """Covers its parent; says what a drop will do. Transparent to the mouse."""

    def __init__(self, parent: QWidget):
        super().__init__(parent)
        self.setAttribute(Qt.WA_TransparentForMouseEvents)
        self.text = ""
        self.hide()
        parent.installEventFilter(self)

    def show_for(self, text: str) -> None:
        self.text = text
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()
        self.update()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.parentWidget() and event.type() == QEvent.Resize and self.isVisible():
            self.setGeometry(self.parentWidget().rect())
        return False

    def paintEvent(self, _):
        p = QPainter(self)
        p.setRenderHint(QPainter.Antialiasing)
        accent = QColor(style.TRAIN)
        fill = QColor(accent)
        fill.setAlpha(40)
        p.fillRect(self.rect(), fill)
        pen = QPen(accent, 3, Qt.DashLine)
        p.setPen(pen)
        r = QRectF(self.rect()).adjusted(12, 12, -12, -12)
        p.drawRoundedRect(r, 14, 14)
        font = p.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        p.setFont(font)
        p.setPen(self.palette().text().color())
        p.drawText(r, Qt.AlignCenter | Qt.TextWordWrap, self.text)
