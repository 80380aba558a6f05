"""Text that changes many times a second (a run's progress) without laying out the window again."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget


class LiveText(QWidget):
    """Plain, word-wrapped text whose height changes only with its number of lines.

    ``QLabel.setText`` asks the layout to run again: up through every parent to the main window,
    about 7 ms for this window, eight times a second while training — the largest share of the
    event loop's late ticks (bench/bench_gui.py). Here a new text is only painted; the widget
    keeps room for ``lines`` lines from the start and grows (one layout) only for a text that
    needs more, so nothing around it moves as the numbers change.
    """

    def __init__(self, text: str = "", lines: int = 2, parent=None):
        super().__init__(parent)
        self._text = text
        self._lines = lines
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        self.setFixedHeight(self._height_for(200))

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:  # noqa: N802 - QLabel's name: a drop-in for one
        if text != self._text:
            self._text = text
            self.setToolTip(text if "\n" in text or len(text) > 60 else "")
            self._fit()
            self.update()

    def _height_for(self, width: int) -> int:
        """Room for ``lines`` lines, or as many as the text needs at ``width`` (a long failure reason)."""
        fm = self.fontMetrics()
        needed = fm.boundingRect(0, 0, max(width, 10), 10**6, Qt.AlignLeft | Qt.TextWordWrap, self._text).height()
        return max(self._lines * fm.lineSpacing(), needed) + 2

    def _fit(self) -> None:
        """A new height only when the number of lines changes: the one time a layout is worth it."""
        height = self._height_for(self.width())
        if height != self.height() or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._fit()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's
        fm = self.fontMetrics()
        return QSize(fm.averageCharWidth() * 30, self._height_for(self.width()))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's
        return QSize(10, self.sizeHint().height())

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt's
        p = QPainter(self)
        p.setPen(self.palette().windowText().color())
        p.drawText(self.rect(), Qt.AlignLeft | Qt.AlignTop | Qt.TextWordWrap, self._text)
        p.end()
