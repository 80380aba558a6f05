"""The Internals tab: the panels side by side, live health from the run controller."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.training.health import HealthEvent
from gui.views.internals.distributions import DistributionPanel
from gui.views.internals.embedding import EmbeddingPanel
from gui.views.internals.explain import ExplainPanel
from gui.views.internals.health import HealthPanel
from gui.views.internals.network import NetworkPanel
from gui.views.internals.units import UnitsPanel


class InternalsView(QWidget):
    """The tab that holds the Internals panels (health, distributions, explain, embedding, units,
    network); live health from the run controller."""

    def __init__(self, session, controller, tasks, parent=None):
        super().__init__(parent)
        self.session = session
        self.health = HealthPanel()
        self.distributions = DistributionPanel()
        self.explain = ExplainPanel(session)
        self.embedding = EmbeddingPanel(session, tasks)
        self.units = UnitsPanel(session)
        self.network = NetworkPanel(session)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for w, name in (
            (self.health, self.tr("Health")),
            (self.distributions, self.tr("Distributions")),
            (self.explain, self.tr("Explain")),
            (self.embedding, self.tr("Embedding")),
            (self.units, self.tr("Units")),
            (self.network, self.tr("Network")),
        ):
            self.tabs.addTab(w, name)
        self.tabs.currentChanged.connect(lambda _i: self._refresh_distributions())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.tabs)
        controller.updated.connect(self._on_update)
        controller.started.connect(self._on_started)
        session.model_changed.connect(self._on_model)
        self.explain.explained.connect(self._set_network_image)
        self.explain.unit_chosen.connect(self._open_unit)

    def showing_explain(self) -> bool:
        """Is the Explain panel the one shown (a dropped image is then explained, not classified)?"""
        return self.tabs.currentWidget() is self.explain

    def explain_file(self, path: str) -> None:
        self.explain.explain_file(path)

    def _open_unit(self, layer: int, unit: int) -> None:
        if self.units.show_unit(layer, unit):
            self.tabs.setCurrentWidget(self.units)

    def _set_network_image(self, x) -> None:
        self.network.x = x
        self.network.refresh(force=self.network.isVisible())

    def explain_image(self, split: str, index: int) -> None:
        """An image of a split (from the Predictions gallery), explained."""
        self.explain.split.setCurrentText(split)
        self.explain.index.setValue(index)
        if self.explain.explain_selected():
            self.tabs.setCurrentWidget(self.explain)

    def show_stored_health(self, name: str, records: list, epochs: float) -> None:
        """A stored run's layer health (the Runs tab's Show Health), until a run or model replaces it."""
        self.health.set_records(records, epochs, source=name)
        self._refresh_distributions()
        self.tabs.setCurrentWidget(self.health)

    def _on_started(self, start) -> None:
        """A run starts: its past (a resumed run's) and the whole span of its epochs."""
        self._on_model(start.model)
        self.health.set_records(self.health.records, start.run.config.epochs)

    def _on_model(self, model) -> None:
        self.network.live_w0 = None
        self.network.refresh(force=self.network.isVisible())
        records = list(model.history.health) if model is not None else []
        self.health.set_records(records)
        self._refresh_distributions()

    def _on_update(self, update) -> None:
        if update.first_layer is not None:
            self.network.live_w0 = update.first_layer
            if self.network.isVisible():
                self.network.refresh()  # at most once a second
        for ev in update.events:
            if isinstance(ev, HealthEvent):
                self.health.add(ev.to_dict())
        if self.tabs.currentWidget() is self.distributions and any(isinstance(e, HealthEvent) for e in update.events):
            self.distributions.add_live(self.health.records)

    def _refresh_distributions(self) -> None:
        if self.tabs.currentWidget() is self.distributions:
            self.distributions.set_records(self.health.records)
