"""The Runs tab: runs trained in the window are recorded and listed; overlay, edit, export, delete."""

from __future__ import annotations

import csv
import io
import sqlite3

import numpy as np
import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from engine.config import TrainConfig
from engine.runs.store import RunStore


def train(window, qtbot, **kw):
    window.hyper.set_config(TrainConfig(epochs=kw.pop("epochs", 2), batch_size=32, engine="numpy", **kw))
    with qtbot.waitSignal(window.training_finished, timeout=60000):
        window.actions.start.trigger()


def test_runs_trained_in_the_window_are_recorded_and_listed(window, qtbot, tmp_path, monkeypatch):
    window.controller.set_store(str(tmp_path / "runs.db"))
    train(window, qtbot, lr=0.001)
    train(window, qtbot, lr=0.004, epochs=3)
    view = window.runs_view
    window.tabs.setCurrentWidget(view)
    rows = RunStore(tmp_path / "runs.db").runs()
    assert [r.status for r in rows] == ["finished", "finished"] and [r.source for r in rows] == ["gui", "gui"]
    assert [r.epochs_done for r in rows] == [3, 2] and rows[0].config["lr"] == 0.004
    assert rows[0].final_checkpoint and rows[0].best_checkpoint
    assert view.proxy.rowCount() == 2
    # selecting both overlays their curves: loss (train + val per run) and validation accuracy
    view.select_ids({r.id for r in rows})
    assert len(view.acc_plot.listDataItems()) == 2 and len(view.loss_plot.listDataItems()) == 4
    names = [item.text for _sample, item in view.legend.items]
    assert all(any(r.name in n for n in names) for r in rows)
    # filter by text, by minimum validation accuracy
    view.select_ids({rows[1].id})
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("baseline run", True))
    view.rename()
    assert RunStore(tmp_path / "runs.db").run(rows[1].id).name == "baseline run"
    view.search.setText("baseline")
    assert view.proxy.rowCount() == 1
    view.search.setText("")
    view.min_val.setValue(1.0)
    assert view.proxy.rowCount() == 0
    view.min_val.setValue(0.0)
    assert view.proxy.rowCount() == 2
    # export the selected rows: CSV parses back, Markdown is a table, LaTeX a tabular
    view.select_ids({r.id for r in rows})
    view.export_rows(str(tmp_path / "runs.csv"))
    parsed = list(csv.DictReader(io.StringIO((tmp_path / "runs.csv").read_text())))
    assert {p["name"] for p in parsed} == {"baseline run", rows[0].name} and {p["lr"] for p in parsed} == {
        "0.001",
        "0.004",
    }
    view.export_rows(str(tmp_path / "runs.md"))
    md = (tmp_path / "runs.md").read_text().strip().splitlines()
    assert len(md) == 4 and len({line.count("|") for line in md}) == 1
    view.export_rows(str(tmp_path / "runs.tex"))
    tex = (tmp_path / "runs.tex").read_text()
    assert r"\begin{tabular}" in tex and r"\toprule" in tex and tex.strip().endswith(r"\end{table}")
    view.export_curves(str(tmp_path / "curves.csv"))
    curves = list(csv.DictReader(io.StringIO((tmp_path / "curves.csv").read_text())))
    assert len(curves) == 5 and {c["epoch"] for c in curves} == {"1", "2", "3"}
    # train again with a run's settings
    view.select_ids({rows[0].id})
    window.hyper.set_config(TrainConfig(lr=0.05, engine="numpy"))
    view.train_again_selected()
    assert window.hyper.config().lr == 0.004 and window.hyper.config().epochs == 3
    # delete, confirmed
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    view.select_ids({rows[0].id})
    view.delete_selected()
    assert [r.id for r in RunStore(tmp_path / "runs.db").runs()] == [rows[1].id]
    assert view.proxy.rowCount() == 1


def test_a_newer_store_is_said_and_training_goes_on(window, qtbot, tmp_path):
    db = tmp_path / "runs.db"
    RunStore(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runstore_version SET version_num = 'r9999'")
    window.controller.set_store(str(db))
    problems = []
    window.controller.store_problem.connect(problems.append)
    train(window, qtbot)
    assert problems and "newer Backprop Studio" in problems[0]
    window.tabs.setCurrentWidget(window.runs_view)
    assert "not recorded" in window.runs_view.status.text()


def test_stored_runs_shown_in_training_are_named_and_drawn(window, qtbot, tmp_path):
    window.controller.set_store(str(tmp_path / "runs.db"))
    window.plots.keep_box.setChecked(False)  # only the overlay puts curves underneath
    train(window, qtbot, lr=0.002, epochs=3)
    row = RunStore(tmp_path / "runs.db").runs()[0]
    window.plots.clear_previous()
    window.tabs.setCurrentWidget(window.runs_view)
    window.runs_view.select_ids({row.id})
    window.runs_view.buttons["overlay"].click()
    assert window.tabs.currentWidget() is window.plots
    assert len(window.plots.previous) == 1
    curves, items = window.plots.previous[0]
    assert curves.name == f"#{row.id} {row.name}"
    x, y = curves.buffers["val_acc"].view()
    stored = RunStore(tmp_path / "runs.db").epochs(row.id)
    assert list(x) == [1, 2, 3] and list(y) == [e.val_acc for e in stored]
    sx, _sy = curves.buffers["step_raw"].view()
    assert len(sx) and abs(sx[-1] - 3.0) < 0.05  # global steps mapped back to epochs
    labels = [label.text for _s, label in window.plots.loss_plot.getPlotItem().legend.items]
    assert curves.name in labels


def test_a_stored_runs_layer_health_is_shown_from_the_store(window, qtbot, tmp_path):
    window.controller.set_store(str(tmp_path / "runs.db"))
    train(window, qtbot, epochs=2)
    store = RunStore(tmp_path / "runs.db")
    row = store.runs()[0]
    stored = store.health(row.id)
    assert stored and [r["global_step"] for r in stored] == [r["global_step"] for r in window.model.history.health]
    window.internals.health.set_records([])  # nothing shown: what appears comes from the store
    window.tabs.setCurrentWidget(window.runs_view)
    window.runs_view.select_ids({row.id})
    assert window.runs_view.buttons["health"].isEnabled()
    window.runs_view.buttons["health"].click()
    assert window.tabs.currentWidget() is window.internals
    assert window.internals.tabs.currentWidget() is window.internals.health
    panel = window.internals.health
    assert [r["global_step"] for r in panel.records] == [r["global_step"] for r in stored]
    assert f"#{row.id}" in panel.info.text() and "run store" in panel.info.text()
    x, y = panel._items[("grad", 0)].getData()
    assert len(x) == len(stored) and 10 ** y[-1] == pytest.approx(stored[-1]["layers"][0]["grad_norm"])  # log axis
    # a run recorded without health says so instead
    rid = store.start_run(name="bare", config={}, dataset={}, source="test")
    window.runs_view.refresh()
    window.runs_view.select_ids({rid})
    window.runs_view.buttons["health"].click()
    assert "no layer-health records" in window.runs_view.status.text()


def test_the_run_store_location_is_chosen_checked_and_remembered(window, qtbot, tmp_path):
    from gui import settings

    newer = tmp_path / "newer.db"
    RunStore(newer).close()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE runstore_version SET version_num = 'r9999'")
    errors = []
    window.error = lambda title, msg: errors.append(msg)
    assert not window.choose_run_store(str(newer))
    assert errors and "newer" in errors[0] and settings.read("runs_db") == ""
    mine = tmp_path / "mine.db"
    assert window.choose_run_store(str(mine))
    assert settings.read("runs_db") == str(mine)
    train(window, qtbot)
    assert len(RunStore(mine).runs()) == 1


def test_the_window_records_its_run_off_the_gui_thread(window, qtbot, tmp_path, monkeypatch):
    """Database writes in the GUI thread were stalls of several ms each second of a run."""
    import threading

    from engine.runs.record import RunRecorder

    threads = set()
    real = RunRecorder.on_event

    def spy(self, ev):
        threads.add(threading.current_thread() is threading.main_thread())
        return real(self, ev)

    monkeypatch.setattr(RunRecorder, "on_event", spy)
    window.controller.set_store(str(tmp_path / "runs.db"))
    train(window, qtbot, epochs=1)
    assert threads == {False}
    (row,) = RunStore(tmp_path / "runs.db").runs()
    assert row.status == "finished" and row.epochs_done == 1


def two_settings_two_seeds(window, tmp_path):
    """Weight decay 0.1 and 0.2, seeds 0 and 1, two epochs each (validation accuracy 0.5 + wd + 0.02 seed
    at the last), in a store the window uses."""
    from engine.runs.store import EpochRow

    store = RunStore(tmp_path / "runs.db")
    for wd in (0.1, 0.2):
        for seed in (0, 1):
            config = TrainConfig(epochs=2, weight_decay=wd, seed=seed).to_dict()
            rid = store.start_run(name=f"wd {wd} seed {seed}", config=config, dataset={}, source="test")
            acc = 0.5 + wd + 0.02 * seed
            store.write_progress(rid, [EpochRow(1, 2.0, 0.3, 2.1, acc - 0.1), EpochRow(2, 1.5, 0.5, 1.7, acc)])
            store.write_progress(rid, [], val_acc=acc, epochs_done=2, status="finished")
    store.close()
    window.controller.set_store(str(tmp_path / "runs.db"))


def test_seeds_of_one_setting_are_drawn_as_mean_and_band_when_asked(window, qtbot, tmp_path):
    import pyqtgraph as pg
    from PySide6.QtCore import Qt

    from gui import settings

    two_settings_two_seeds(window, tmp_path)
    view = window.runs_view
    window.tabs.setCurrentWidget(view)
    view.refresh()
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 4, timeout=10000)
    view.table.selectAll()
    assert len(view.acc_plot.listDataItems()) == 4  # one curve per run
    qtbot.mouseClick(view.group_box, Qt.LeftButton)
    assert settings.read("runs_group_seeds") is True
    curves = view.acc_plot.listDataItems()
    assert [c.name() for c in curves] == ["weight_decay 0.1 (n=2, seeds 0,1)", "weight_decay 0.2 (n=2, seeds 0,1)"]
    x, y = curves[0].getData()
    assert y[-1] == pytest.approx(0.6 + 0.01)  # the mean of 0.60 and 0.62
    fills = [i for i in view.acc_plot.getPlotItem().items if isinstance(i, pg.FillBetweenItem)]
    assert len(fills) == 2  # a ± std band for each setting
    qtbot.mouseClick(view.group_box, Qt.LeftButton)
    assert len(view.acc_plot.listDataItems()) == 4


def test_the_training_tab_draws_seeds_of_one_setting_as_mean_and_band_when_asked(window, qtbot, tmp_path):
    import pyqtgraph as pg
    from PySide6.QtCore import Qt

    from gui import settings

    two_settings_two_seeds(window, tmp_path)
    view, plots = window.runs_view, window.plots
    window.tabs.setCurrentWidget(view)
    view.refresh()
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 4, timeout=10000)
    view.table.selectAll()
    qtbot.mouseClick(view.buttons["overlay"], Qt.LeftButton)
    assert window.tabs.currentWidget() is plots
    earlier = [item for _c, items in plots.previous for key, item in items if key == "val_acc"]
    assert len(earlier) == 4 and all(i.isVisible() for i in earlier)

    def legend_names():
        return [label.text for _sample, label in plots.acc_plot.getPlotItem().legend.items]

    assert sum(name.startswith("#") for name in legend_names()) == 4  # one entry per run
    qtbot.mouseClick(plots.group_box, Qt.LeftButton)
    assert settings.read("training_group_seeds") is True
    assert not any(i.isVisible() for i in earlier)  # each run's own curves give way to its setting's band
    names = sorted(n for n in legend_names() if "n=2" in n)
    assert names == ["weight_decay 0.1 (n=2, seeds 0,1)", "weight_decay 0.2 (n=2, seeds 0,1)"]
    assert not any(n.startswith("#") for n in legend_names())
    (band,) = [b for b in plots.seed_bands if b.label.startswith("weight_decay 0.2")]
    _plot, mean, lo, hi, _fill = band.items["val_acc"]
    x, y = mean.getData()
    assert list(x) == [1.0, 2.0]
    assert y[-1] == pytest.approx(0.71)  # the mean of 0.70 and 0.72
    sd = np.std([0.70, 0.72], ddof=1)  # the sample std, as the report's figures
    assert hi.getData()[1][-1] == pytest.approx(0.71 + sd) and lo.getData()[1][-1] == pytest.approx(0.71 - sd)
    for plot in (plots.acc_plot, plots.loss_plot):  # train and validation bands for each setting
        assert len([i for i in plot.getPlotItem().items if isinstance(i, pg.FillBetweenItem)]) == 4
    qtbot.mouseClick(plots.group_box, Qt.LeftButton)  # off again: the runs as they were
    assert all(i.isVisible() for i in earlier)
    assert sum(name.startswith("#") for name in legend_names()) == 4
    assert not [i for i in plots.acc_plot.getPlotItem().items if isinstance(i, pg.FillBetweenItem)]


def test_the_run_in_progress_joins_its_settings_band(window, qtbot):
    from PySide6.QtCore import Qt

    from engine.config import TrainConfig
    from engine.training.run import EpochEvent, EvalEvent

    plots = window.plots
    qtbot.mouseClick(plots.group_box, Qt.LeftButton)

    def run(seed, accs):
        plots.start_run(f"seed {seed}", config=TrainConfig(epochs=2, seed=seed).to_dict())
        for epoch, acc in enumerate(accs, 1):
            events = [
                EpochEvent(epoch=epoch, epochs=2, train_loss=1.0, train_acc=acc, elapsed=0.1, eta=0.1),
                EvalEvent(epoch=epoch, val_loss=1.0, val_acc=acc, best_epoch=epoch, best_val_acc=acc),
            ]
            plots.add_update([], events)

    run(0, [0.5, 0.6])
    assert plots.seed_bands == []  # one run of a setting: no band
    run(1, [0.7])  # the second seed, one epoch in
    (band,) = plots.seed_bands
    assert band.has_current
    x, y = band.items["train_acc"][1].getData()
    assert list(x) == [1.0, 2.0] and list(y) == pytest.approx([0.6, 0.6])  # epoch 2: the earlier run alone
    plots.add_update([], [EpochEvent(epoch=2, epochs=2, train_loss=1.0, train_acc=0.8, elapsed=0.2, eta=0.0)])
    assert band.items["train_acc"][1].getData()[1][-1] == pytest.approx(0.7)


def test_the_status_filter_keeps_the_runs_of_the_chosen_status(window, qtbot, tmp_path):
    """The status column and the filter show the status in the window's language; the filter matches
    the status itself, not its words (chosen from the list by keyboard, as a person does)."""
    from PySide6.QtCore import QCoreApplication, Qt, QTranslator

    store = RunStore(tmp_path / "runs.db")
    for name, status in (("calm", "finished"), ("wild", "diverged"), ("cut", "stopped")):
        rid = store.start_run(name=name, config=TrainConfig(epochs=2).to_dict(), dataset={}, source="test")
        store.write_progress(rid, [], val_acc=0.5, epochs_done=1, status=status)
    store.close()
    window.controller.set_store(str(tmp_path / "runs.db"))
    view = window.runs_view
    window.tabs.setCurrentWidget(view)

    class Words(QTranslator):  # the window in another language: a status's words are not the status
        def translate(self, context, source, disambiguation=None, n=-1):
            return {"diverged": "发散", "finished": "完成"}.get(source) if context == "RunsView" else None

    words = Words()
    QCoreApplication.installTranslator(words)
    try:
        view.refresh()
    finally:
        QCoreApplication.removeTranslator(words)
    qtbot.waitUntil(lambda: view.proxy.rowCount() == 3, timeout=10000)
    assert {view.proxy.index(i, 2).data() for i in range(3)} == {"发散", "完成", "stopped"}
    view.status_box.setFocus()
    qtbot.keyClicks(view.status_box, "div")  # the item whose words start so: "diverged"
    assert view.status_box.currentData() == "diverged"
    assert view.proxy.rowCount() == 1 and view.proxy.index(0, 1).data() == "wild"
    qtbot.keyClick(view.status_box, Qt.Key_Home)  # back to "any status"
    assert view.proxy.rowCount() == 3
