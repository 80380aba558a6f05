"""A status-bar message that never runs into the permanent widgets: elided, full text as tooltip."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QSizePolicy


class StatusMessage(QLabel):
    """Replaces ``QStatusBar.showMessage``: the text is elided to the room it has (the full
    message is the tooltip) and cleared after ``timeout_ms``."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.setMinimumWidth(40)
        self.setTextFormat(Qt.PlainText)
        self._timer = QTimer(self, singleShot=True)
        self._timer.timeout.connect(self.clear_message)

    def show_message(self, text: str, timeout_ms: int = 0) -> None:
        self._full = " ".join(text.split())  # one line
        self.setToolTip(self._full)
        self._elide()
        if timeout_ms:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    def clear_message(self) -> None:
        self._full = ""
        self.setToolTip("")
        self.setText("")

    def message(self) -> str:
        return self._full

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, Qt.ElideRight, max(0, self.width() - 4)))
