"""A sweep started and cancelled from the window; a finished one fills the table and the plots."""

from __future__ import annotations

from engine.config import TrainConfig
from engine.runs.store import RunStore


def dialog_for(window, grid: str, seeds="0", **kw):
    from gui.views.sweeps import NewSweepDialog

    d = NewSweepDialog(window)
    d.grid.setPlainText(grid)
    d.seeds.setText(seeds)
    d.workers.setValue(kw.get("workers", 2))
    d.base = window.hyper.config().to_dict()
    d.spec = d.spec_for(d.base)
    return d


def test_a_sweep_from_the_window_fills_the_table_and_the_plots(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_RUNS_DB", str(tmp_path / "runs.db"))
    window.controller.set_store(str(tmp_path / "runs.db"))
    window.hyper.set_config(TrainConfig(epochs=3, batch_size=32, engine="numpy"))
    panel = window.sweep_panel
    with qtbot.waitSignal(panel.finished, timeout=120000):
        assert window.new_sweep(dialog_for(window, "lr=0.001,0.004\nact=relu,tanh"))
        assert window.tabs.currentWidget() is panel and panel.running
    assert panel.progress.value() == panel.progress.maximum() == 4
    assert panel.table.rowCount() == 4 and panel.table.columnCount() == 5
    # one seed each: no spread to judge by, so no row is claimed best, and the panel says why
    assert sum(panel.table.item(r, 0).text().startswith("★") for r in range(4)) == 0
    assert "no clear best" in panel.best_note.text() and "one seed each" in panel.best_note.text()
    assert len(panel.curves.listDataItems()) == 4 and all(
        len(i.getData()[0]) == 3 for i in panel.curves.listDataItems()
    )
    assert panel.parallel_axes == ["lr", "act", "val acc"]
    assert len(panel.parallel.listDataItems()) == 4 + 3  # a line per configuration, and the axes
    runs = RunStore(tmp_path / "runs.db").runs(sweep=panel.sweep.name)
    assert len(runs) == 4 and all(r.status == "finished" for r in runs)
    assert (tmp_path / "sweeps.db").exists()  # the default storage sits beside the run store
    # the trial under the mouse is named
    from PySide6.QtCore import QPointF

    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.curves.isVisible() and panel.curves.width() > 0)
    number, (_item, xs, ys) = next(iter(panel._curves.items()))
    vb = panel.curves.getPlotItem().vb
    qtbot.mouseMove(panel.curves.viewport(), panel.curves.mapFromScene(vb.mapViewToScene(QPointF(xs[1], ys[1]))))
    qtbot.waitUntil(lambda: "epoch 2, accuracy" in panel.curves.toolTip(), timeout=5000)
    assert panel._trial_names[number] in panel.curves.toolTip()
    # a legend entry per configuration, and the table exported by its button
    assert len(panel.curves_legend.items) == 4
    assert {label.text for _, label in panel.curves_legend.items} >= {"act relu, lr 0.001", "act tanh, lr 0.004"}
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    out = tmp_path / "table.tex"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    qtbot.mouseClick(panel.export_button, Qt.LeftButton)
    tex = out.read_text(encoding="utf-8")
    assert "\\toprule" in tex and "0.004" in tex and "tanh" in tex and str(out) in panel.best_note.text()


def test_parallel_coordinates_label_their_axes_and_keep_accuracy_to_scale(window, qtbot):
    from PySide6.QtWidgets import QApplication

    """A parameter that did not vary is no axis; each axis says its values; 0.2 points of
    accuracy do not fill the height."""
    from types import SimpleNamespace

    import pyqtgraph as pg

    rows = [
        SimpleNamespace(params={"lr": lr, "wd": 0.15, "act": act}, val=[acc], best=best)
        for lr, act, acc, best in (
            (0.001, "relu", 0.802, True),
            (0.1, "tanh", 0.800, False),
            (0.01, "relu", 0.801, False),
        )
    ]
    panel = window.sweep_panel
    panel._draw_parallel(rows, ["lr", "wd", "act"])
    assert panel.parallel_axes == ["lr", "act", "val acc"]
    texts = {i.toPlainText() for i in panel.parallel.getPlotItem().items if isinstance(i, pg.TextItem)}
    assert {"0.001", "0.1", "relu", "tanh", "80%", "90%"} <= texts
    lines = panel.parallel.listDataItems()[3:]
    ends = [line.getData()[1][-1] for line in lines]
    assert max(ends) - min(ends) < 0.05  # 0.002 of accuracy is a sliver of the 80–90 % axis
    # in a laptop-sized window the plot fits its pane: nothing (the accuracy axis) is hidden
    window.resize(1366, 768)
    window.tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.parallel.isVisible() and panel.parallel.width() > 0)
    QApplication.processEvents()
    for plot in (panel.curves, panel.parallel, panel.importance):
        assert plot.getPlotItem().sceneBoundingRect().width() <= plot.viewport().width() + 1


def test_the_dialog_shows_what_every_trial_starts_from_and_its_epochs_are_the_trials(window, qtbot):
    """The base settings (the panel's) are on the dialog, with the engine, and an Epochs field
    that every trial uses; Start Sweep is the button a person clicks."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialogButtonBox

    from gui.views.sweeps import NewSweepDialog

    window.hyper.set_config(TrainConfig(epochs=7, batch_size=16, engine="numpy", optim="sgd", lr=0.05))
    d = NewSweepDialog(window)
    qtbot.addWidget(d)
    d.base = window.hyper.config().to_dict()
    text = d.base_label.text()
    assert "sgd lr 0.05" in text and "batch 16" in text and "engine numpy" in text
    assert d.epochs.value() == 7
    d.epochs.setValue(3)
    d.grid.setPlainText("lr=0.01,0.02")
    d.show()
    qtbot.mouseClick(d.findChild(QDialogButtonBox).button(QDialogButtonBox.Ok), Qt.LeftButton)
    assert d.result() == NewSweepDialog.Accepted and d.spec.base["epochs"] == 3
    d.base = {**d.base, "engine": "user", "functions": ["mine.py"]}
    assert "your own functions" in d.base_label.text()


def test_a_bad_value_in_the_dialog_is_named_before_anything_runs(window):
    from gui.views.sweeps import NewSweepDialog

    d = NewSweepDialog(window)
    d.base = window.hyper.config().to_dict()
    d.grid.setPlainText("lr=-1")
    d._check()
    assert "lr=-1" in d.error.text() and d.spec is None and not window.sweep_panel.running


def test_cancel_stops_the_running_trials_and_leaves_no_process(window, qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROP_STUDIO_RUNS_DB", str(tmp_path / "runs.db"))
    window.controller.set_store(str(tmp_path / "runs.db"))
    window.hyper.set_config(TrainConfig(epochs=500, batch_size=1, engine="numpy"))
    panel = window.sweep_panel
    assert window.new_sweep(dialog_for(window, "lr=0.001,0.002,0.003"))
    qtbot.waitUntil(lambda: any(len(c[1]) >= 1 for c in panel._curves.values()), timeout=60000)
    with qtbot.waitSignal(panel.finished, timeout=30000):
        panel.cancel_button.click()
    qtbot.waitUntil(lambda: not panel.running, timeout=10000)  # its thread returns right after the signal
    assert "cancelled" in panel.title.text()
    runs = RunStore(tmp_path / "runs.db").runs(sweep=panel.sweep.name)
    assert runs and all(r.status == "stopped" and r.epochs_done < 500 for r in runs)


def test_the_parallel_plot_gives_its_items_new_data_instead_of_making_new_ones(qtbot):
    """Re-made on every finished trial, its items cost ~70 ms a trial while a sweep ran."""
    import types

    import pytest

    from gui.views.sweeps import SweepPanel

    panel = SweepPanel(None)
    qtbot.addWidget(panel)

    def rows(n):
        return [
            types.SimpleNamespace(params={"lr": 10 ** (-4 + i / 2)}, val=[0.5 + 0.01 * i], best=i == 1)
            for i in range(n)
        ]

    panel._draw_parallel(rows(3), ["lr"])
    items = list(panel.parallel.getPlotItem().items)
    panel._draw_parallel(rows(3), ["lr"])
    assert panel.parallel.getPlotItem().items == items  # the same items, new data
    panel._draw_parallel(rows(5), ["lr"])
    shown = [i for i in panel._par_lines if i.isVisible()]
    assert len(shown) == 5 and shown[4].getData()[1][-1] == pytest.approx(0.4)  # 54 % on a 50–60 % axis
    panel._draw_parallel(rows(2), ["lr"])
    assert sum(i.isVisible() for i in panel._par_lines) == 2  # the others hidden, not left drawn
    assert panel.parallel_axes == ["lr", "val acc"]
