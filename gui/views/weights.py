"""The Weights tab: one image per first-layer unit, refreshed during training when shown."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from gui.i18n import arg
from gui.widgets.common import mosaic


class WeightsPanel(QWidget):
    """The first layer: one small image per hidden unit (its incoming weights), red/blue diverging."""

    def __init__(self, session, controller, parent=None):
        super().__init__(parent)
        self.session = session
        self._pending: tuple[np.ndarray, tuple[int, int]] | None = None
        self.info = QLabel(self.tr("Train or open a model to see what each first-layer unit responds to."))
        self.info.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setAspectLocked(True)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.invertY(True)
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("CET-D1"))  # blue–white–red, diverging
        self.plot.addItem(self.image)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.info)
        layout.addWidget(self.plot, 1)
        session.model_changed.connect(self._on_model_changed)
        controller.updated.connect(self._on_update)

    def _on_model_changed(self, model) -> None:
        if model is not None:
            self.show_weights(model.network.weights()[0], model.norm_size)

    def _on_update(self, update) -> None:
        if update.first_layer is not None and self.session.model is not None:
            self.show_weights(update.first_layer, self.session.model.norm_size)

    def show_weights(self, W0: np.ndarray, norm_size: tuple[int, int]) -> None:
        """Draw now if the tab is visible, else when it is shown (no cost while hidden)."""
        self._pending = (W0, tuple(norm_size))
        if self.isVisible():
            self.set_weights(*self._pending)

    def showEvent(self, event):
        super().showEvent(event)
        if self._pending is not None:
            self.set_weights(*self._pending)

    def set_weights(self, W0: np.ndarray, norm_size: tuple[int, int]) -> None:
        w, h = norm_size
        units = W0.reshape(len(W0), h, w)
        scale = np.abs(units).reshape(len(units), -1).max(1)[:, None, None]
        normed = units / np.maximum(scale, 1e-12)  # each unit in [-1, 1]
        cols = int(np.ceil(np.sqrt(len(units))))
        self.image.setImage(mosaic(normed.astype(np.float32), cols, pad=1, fill=0.0), levels=(-1, 1))
        self.info.setText(
            arg(
                self.tr(
                    "%1 hidden units × %2×%3 inputs. Red: positive weight, blue: negative "
                    "(each unit scaled to its own largest |weight|)."
                ),
                len(units),
                w,
                h,
            )
        )
