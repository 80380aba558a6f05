"""The Internals tab: health live during training and from a saved model, distributions,
the step-through, the embedding (PCA and a cancelled/finished t-SNE) and the units — on an
untrained and on a trained model."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.config import TrainConfig


def train(window, qtbot, epochs=3):
    window.hyper.set_config(TrainConfig(epochs=epochs, batch_size=8, engine="numpy", hidden=[16]))
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.actions.start.trigger()


def test_every_panel_opens_on_an_untrained_model(window, qtbot):
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=30000)
    window.reset_weights()
    view = window.internals
    window.tabs.setCurrentWidget(view)
    for i in range(view.tabs.count()):
        view.tabs.setCurrentIndex(i)
    assert view.health.records == []
    assert view.explain.explain_selected() and view.explain.explanation.all_checked
    emb = view.embedding
    assert "Choose a split and a layer, then Compute" in emb.info.text()  # model and data are open
    qtbot.mouseClick(emb.go, Qt.LeftButton)
    qtbot.waitUntil(lambda: emb.points is not None, timeout=30000)
    assert emb.points.shape[1] == 2
    names = [label.text for _, label in emb.legend.items]  # every class named by its colour
    assert names == list(window.dataset.classes)
    assert view.units.show_unit(1, 0)
    assert view.network.refresh(force=True) and view.network.picture.edges


def test_health_live_then_from_the_model_and_the_other_panels_after_training(window, qtbot, tmp_path):
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=30000)
    view = window.internals
    window.tabs.setCurrentWidget(view)
    train(window, qtbot)
    live = len(view.health.records)
    view.health.redraw()  # drawn when shown (the test window is not)
    assert live >= 2 and len(view.health.grad.listDataItems()) == 2  # one curve per linear layer
    assert len(window.session.model.history.health) == live
    # distributions: bands and a histogram for the chosen layer
    view.tabs.setCurrentWidget(view.distributions)
    assert view.distributions.layer.count() == 2
    assert any(type(i).__name__ == "FillBetweenItem" for i in view.distributions.bands.getPlotItem().items)
    assert any(type(i).__name__ == "BarGraphItem" for i in view.distributions.hist.items())
    view.distributions.kind.setCurrentText("gradients")
    assert any(type(i).__name__ == "BarGraphItem" for i in view.distributions.hist.items())
    # explain: step forwards and backwards, apply the update
    view.tabs.setCurrentWidget(view.explain)
    assert view.explain.explain_selected()
    n = view.explain.steps.count()
    assert n == len(view.explain.explanation.steps) and "✓" in view.explain.result.text()
    view.explain.move(5)
    assert view.explain.steps.currentRow() == 5
    view.explain.move(-9)
    assert view.explain.steps.currentRow() == 0
    dW1 = next(i for i, st in enumerate(view.explain.explanation.steps) if st.name == "∂L/∂W₁")
    view.explain.steps.setCurrentRow(dW1)  # each unit's row as a tile; a click opens the unit
    bottom = view.explain.plot.getPlotItem().getAxis("bottom")
    assert not bottom.isVisible()  # pictures at the input's size: no unit axis under them
    view.explain.steps.setCurrentRow(1)  # z₁, a heat strip: its units numbered
    assert bottom.isVisible()
    view.explain.steps.setCurrentRow(dW1)
    assert view.explain.unit_at(1 * 33 + 5, 0 * 33 + 5) == 1  # 32×32 tiles with a 1-pixel gap
    assert view.tabs.currentWidget() is view.units and view.units.unit.value() == 1
    view.tabs.setCurrentWidget(view.explain)
    before, after = view.explain.apply_update()
    assert after < before
    # embedding: PCA now, exported; a click explains that image
    view.tabs.setCurrentWidget(view.embedding)
    view.embedding.layer.setCurrentIndex(1)  # hidden layer 1
    assert view.embedding.compute()
    emb = view.embedding
    lo, hi = emb.points.min(0) - 1, emb.points.max(0) + 1
    everything = [(lo[0], lo[1]), (hi[0], lo[1]), (hi[0], hi[1]), (lo[0], hi[1])]
    assert len(emb.list_region(everything)) == len(emb.points) == emb.group.count()
    left = [(lo[0], lo[1]), (lo[0] + 1e-9, lo[1]), (lo[0] + 1e-9, hi[1]), (lo[0], hi[1])]
    assert emb.list_region(left) == [] and emb.group.count() == 0
    emb.lasso_button.setChecked(True)  # a region drawn on the map lists what lies in it
    assert emb._lasso is not None
    emb.lasso_button.setChecked(False)

    class Spot:
        def data(self):
            return 4

    emb._hovered(None, [Spot()], None)
    assert not emb.preview.pixmap().isNull()
    out = view.embedding.export_map(str(tmp_path / "pts.csv"))
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == len(view.embedding.points) and np.isfinite(float(rows[0]["x"]))
    # the map itself as PNG and SVG
    from PIL import Image

    png = view.embedding.export_map(str(tmp_path / "map.png"))
    with Image.open(png) as im:
        assert im.width == 2400 and len(np.unique(np.asarray(im.convert("L")))) > 2  # drawn, not blank
    svg = view.embedding.export_map(str(tmp_path / "map.svg"))
    assert "<svg" in open(svg, encoding="utf-8").read(2000)
    assert view.embedding.export_map(str(tmp_path / "missing" / "map.png")) is None
    assert "cannot write here" in view.embedding.info.text()
    # a click in the map selects the image in the Predictions gallery; from there, Explain
    view.embedding.select_image.emit("test", 2)
    assert window.tabs.currentWidget() is window.browser
    b = window.browser

    def shown():
        current = b.gallery.currentIndex()
        return b.ev is not None and b.ev.split == "test" and current.isValid() and b.model.data(current, 256) == 2

    qtbot.waitUntil(shown, timeout=30000)  # Qt.UserRole (256): the image's index in its split
    window.browser.explain_button.click()
    assert window.tabs.currentWidget() is window.internals and view.tabs.currentWidget() is view.explain
    assert view.explain.index.value() == 2 and view.explain.split.currentText() == "test"
    # t-SNE in the background: finishes with progress
    view.embedding.method.setCurrentText("t-SNE")
    view.embedding.points = None
    assert view.embedding.compute()
    qtbot.waitUntil(lambda: view.embedding.points is not None, timeout=60000)
    view.embedding.as_labels.setChecked(True)  # points drawn as their class labels
    assert len(view.embedding.scatter.data) == len(view.embedding.points)
    assert view.embedding.go.isEnabled() and not view.embedding.cancel.isEnabled()
    # units
    assert view.units.show_unit(1, 3) and "layer 1 unit 3" in view.units.info.text()
    # the picture of the network: columns, strongest connections, units coloured by the explained image
    assert view.network.refresh(force=True)
    pic = view.network.picture
    assert pic.sizes[-1] == len(window.dataset.classes) and pic.values is not None
    assert len(view.network.nodes.data) == sum(len(s) for s in pic.shown)
    # the model saved and opened again: its health comes back
    path = tmp_path / "m.pt"
    assert window.session.save_to(str(path))
    with qtbot.waitSignal(window.session.model_changed, timeout=30000):
        window.session.open_checkpoint(str(path))
    assert len(view.health.records) == live


def test_tsne_cancel(window, qtbot):
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=30000)
    window.reset_weights()
    emb = window.internals.embedding
    emb.split.setCurrentText("train")
    emb.method.setCurrentText("t-SNE")
    assert emb.compute()
    emb.cancel.click()
    qtbot.waitUntil(lambda: emb.go.isEnabled(), timeout=60000)
    assert "cancelled" in emb.info.text()


def test_an_image_file_is_explained_from_the_button_or_a_drop_on_explain(window, qtbot, tmp_path):
    from PIL import Image

    qtbot.waitUntil(lambda: window.dataset is not None, timeout=30000)
    window.reset_weights()
    view, model = window.internals, window.session.model
    cls = model.classes[3]
    (tmp_path / cls).mkdir()
    labelled = tmp_path / cls / "mine.png"  # in a folder named as a class, as the dataset layouts label images
    unlabelled = tmp_path / "loose.png"
    img = Image.fromarray((np.random.default_rng(0).random((40, 30)) * 255).astype(np.uint8))
    img.save(labelled)
    img.save(unlabelled)
    assert view.explain.explain_file(str(labelled))
    assert view.explain._label == 3 and "from its folder's name" in view.explain.result.text()
    assert f"label {cls}," in view.explain.result.text() and view.explain.explanation.all_checked
    # the softmax step: a strip of classes, named on its axis, with a colour scale and the value under the mouse
    ex = view.explain
    window.tabs.setCurrentWidget(view)
    view.tabs.setCurrentWidget(ex)
    row = next(i for i, st in enumerate(ex.explanation.steps) if st.name == "q")
    item = ex.steps.item(row)
    ex.steps.scrollToItem(item)
    qtbot.mouseClick(ex.steps.viewport(), Qt.LeftButton, pos=ex.steps.visualItemRect(item).center())
    assert ex.steps.currentRow() == row
    ticks = ex.plot.getAxis("bottom")._tickLevels[0]
    assert [name for _, name in ticks] == list(model.classes)
    q = ex.explanation.q
    assert ex.colorbar.levels() == pytest.approx((0.0, float(q.max())), rel=1e-5)
    from PySide6.QtCore import QPointF

    ex.plot.autoRange()
    scene = ex.image.mapToScene(QPointF(3.5, 0.5))
    qtbot.mouseMove(ex.plot.viewport(), ex.plot.mapFromScene(scene))
    qtbot.waitUntil(lambda: ex.value_label.text().startswith(f"class {cls}:"), timeout=5000)
    assert f"{float(q[3]):.4g}" in ex.value_label.text()
    # a drop while Explain is shown explains it (elsewhere the same drop classifies)
    window.tabs.setCurrentWidget(view)
    view.tabs.setCurrentWidget(view.explain)
    assert window._drop_text([str(unlabelled)]) == "Drop to explain this image"
    window.open_paths([str(unlabelled)])
    assert "loose.png" in view.explain.result.text() and "predicted class" in view.explain.result.text()
    assert view.explain._label == view.explain.explanation.predicted
    assert window.tabs.currentWidget() is view  # not sent to Classify
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert not view.explain.explain_file(str(bad))
    assert "bad.png" in view.explain.formula.text()
    window.tabs.setCurrentWidget(window.plots)
    assert window._drop_text([str(unlabelled)]).startswith("Drop to classify")


def _record(step, epoch, hist):
    layer = {"name": "layer 1", "w_pct": [-3, -2, -1, 0, 1, 2, 3], "g_pct": [-0.3, -0.2, -0.1, 0, 0.1, 0.2, 0.3]}
    if hist:
        layer["w_hist"] = layer["g_hist"] = {"counts": [1, 4, 1], "edges": [-3.0, -1.0, 1.0, 3.0]}
    return {"global_step": step, "epoch": epoch, "layers": [layer], "warnings": []}


def test_distributions_keep_the_chosen_epoch_and_their_items_as_records_arrive(qtbot):
    from gui.views.internals import DistributionPanel

    panel = DistributionPanel()
    qtbot.addWidget(panel)
    records = [_record(s, s / 10, hist=s % 20 == 0) for s in range(0, 60, 10)]  # histograms at 0, 20, 40
    panel.set_records(records)
    items = len(panel.bands.getPlotItem().items)
    assert panel.epoch.maximum() == 2 and panel.epoch.value() == 2  # the latest histogram
    panel.epoch.setValue(0)  # the user looks at the first one
    records.append(_record(60, 6.0, hist=True))
    panel.add_live(records)  # drawn at once (the first of this second)
    assert panel.epoch.maximum() == 3 and panel.epoch.value() == 0  # kept where the user put it
    assert len(panel.bands.getPlotItem().items) == items  # the same items, given new data
    x, _ = panel._band_items[-1].getData()
    assert list(x) == [r["epoch"] for r in records]
    records.append(_record(70, 7.0, hist=False))
    panel.add_live(records)  # within the second: waits
    assert len(panel._band_items[-1].getData()[0]) == len(records) - 1
    qtbot.waitUntil(lambda: len(panel._band_items[-1].getData()[0]) == len(records), timeout=3000)
    panel.epoch.setValue(panel.epoch.maximum())  # back at the latest: follows new ones again
    records.append(_record(80, 8.0, hist=True))
    panel.set_records(records)
    assert panel.epoch.value() == panel.epoch.maximum() == 4


def test_the_health_panels_log_axes_label_their_decades_without_overlap(window, qtbot):
    """The gradient-norm plot over 0.1 … 10 at a laptop's height labelled every tick (they
    overlapped as "10 9 8 7 6 5" at its top): only the decades are labelled now."""
    from PySide6.QtGui import QImage, QPainter

    window.resize(1366, 768)
    window.tabs.setCurrentWidget(window.internals)
    for plot in (window.internals.health.grad, window.internals.health.ratio):
        plot.getPlotItem().vb.setYRange(-1.05, 1.05, padding=0)  # 0.09 … 11 on the log axis
        axis = plot.getAxis("left")
        qtbot.waitUntil(lambda axis=axis: axis.height() > 0)
        image = QImage(10, 10, QImage.Format_ARGB32)
        painter = QPainter(image)
        try:
            labels = [(r, t) for r, _flags, t in axis.generateDrawSpecs(painter)[2]]
        finally:
            painter.end()
        assert len([t for _r, t in labels if t]) >= 3  # 0.1, 1 and 10
        for i, (a, _t) in enumerate(labels):
            assert not any(a.intersects(b) for b, _u in labels[i + 1 :]), [t for _r, t in labels]
