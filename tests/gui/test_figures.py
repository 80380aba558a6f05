"""Report figures: runs grouped by setting with mean ± sample std over seeds (engine.runs.curves),
and the drawing for print — white, 8 pt text at the printed width, PDF/SVG vectors, PNG 300 dpi."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from engine.config import TrainConfig
from engine.runs.curves import bands, group_by_setting, sweep_points, varying
from engine.runs.store import EpochRow, RunStore

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Three weight decays × two seeds, with hand-written curves (no training: exact numbers)."""
    s = RunStore(tmp_path_factory.mktemp("figs") / "runs.db")
    for wd in (0.05, 0.15, 0.5):
        for seed in (0, 1):
            config = TrainConfig(epochs=3, weight_decay=wd, seed=seed).to_dict()
            rid = s.start_run(name=f"wd {wd} seed {seed}", config=config, dataset={}, source="test", sweep="wd")
            acc = [0.5 + wd / 10 + 0.1 * e + 0.01 * seed for e in (1, 2, 3)]
            rows = [EpochRow(e, 2.0 - 0.5 * e, acc[e - 1], 2.2 - 0.4 * e, acc[e - 1] - 0.05) for e in (1, 2, 3)]
            s.write_progress(rid, rows, val_acc=acc[-1] - 0.05, epochs_done=3)
            s.write_progress(rid, [], status="finished")
    return s


def test_runs_are_grouped_by_every_setting_but_the_seed(store):
    rows = sorted(store.runs(), key=lambda r: r.id)
    assert varying(rows) == ["seed", "weight_decay"] or varying(rows) == ["weight_decay"]
    groups = group_by_setting(rows)
    assert [label for label, _ in groups] == [
        "weight_decay 0.05 (n=2, seeds 0,1)",
        "weight_decay 0.15 (n=2, seeds 0,1)",
        "weight_decay 0.5 (n=2, seeds 0,1)",
    ]
    assert all(len(members) == 2 for _, members in groups)


def test_a_band_is_the_mean_and_sample_std_over_seeds(store):
    rows = sorted(store.runs(), key=lambda r: r.id)
    b = bands(store, rows, "val_acc")[0]  # weight decay 0.05, seeds 0 and 1
    first = [0.5 + 0.005 + 0.1 - 0.05, 0.5 + 0.005 + 0.1 + 0.01 - 0.05]
    assert b.epoch.tolist() == [1, 2, 3] and b.n.tolist() == [2, 2, 2]
    assert b.mean[0] == pytest.approx(np.mean(first))
    assert b.std[0] == pytest.approx(np.std(first, ddof=1))  # the sample std: 0.01/√2
    assert b.std[0] == pytest.approx(0.01 / np.sqrt(2))
    with pytest.raises(ValueError, match="metric"):
        bands(store, rows, "nonsense")


def test_a_sweep_is_its_metric_against_the_swept_value(store):
    pts = sweep_points(store.runs(sweep="wd"), "val_acc")
    assert pts.param == "weight_decay" and pts.x == [0.05, 0.15, 0.5]
    assert pts.n.tolist() == [2, 2, 2]
    assert pts.mean[2] == pytest.approx(0.5 + 0.05 + 0.3 + 0.005 - 0.05)
    with pytest.raises(ValueError, match="one hyperparameter"):
        sweep_points(store.runs()[:1] + [r for r in store.runs() if r.config["weight_decay"] == 0.5][:1], "val_acc")


@pytest.fixture(scope="module")
def drawn(store, tmp_path_factory):
    from gui import figures

    out = tmp_path_factory.mktemp("drawn")
    rows = sorted(store.runs(), key=lambda r: r.id)
    w = figures.curves_figure(
        bands(store, rows, "train_loss") + bands(store, rows, "val_loss"), bands(store, rows, "val_acc"), 8.5
    )
    yield {s: figures.save(w, out / f"curves{s}", 8.5) for s in (".pdf", ".svg", ".png")}, w
    figures.dispose(w)


def test_a_png_is_300_dpi_at_the_printed_width_on_white(drawn):
    from PySide6.QtGui import QImage

    files, _w = drawn
    img = QImage(files[".png"])
    assert img.width() == pytest.approx(8.5 / 2.54 * 300, abs=3)  # 1004 px: 8.5 cm at 300 dpi
    assert round(img.dotsPerMeterX() * 0.0254) == 300
    corners = [img.pixelColor(x, y).name() for x, y in ((0, 0), (img.width() - 1, 0), (0, img.height() - 1))]
    assert corners == ["#ffffff"] * 3  # white, whatever the window's theme
    dark = sum(
        img.pixelColor(x, y).lightness() < 100 for x in range(0, img.width(), 4) for y in range(0, img.height(), 4)
    )
    assert dark > 200  # something is drawn: axes, text, curves


def test_text_is_8_pt_at_the_printed_size(drawn):
    from gui.figures import FONT_PT, SCALE

    _files, w = drawn
    plot = w.ci.getItem(0, 0)
    tick = plot.getAxis("bottom").style["tickFont"]
    width_pt = 8.5 / 2.54 * 72
    assert w.width() / SCALE == pytest.approx(width_pt, abs=1)  # 1 pt of the print = SCALE units here
    assert tick.pixelSize() / SCALE == FONT_PT
    legend = w.ci.getItem(1, 0).legend
    assert legend.items and all(
        f"{FONT_PT * SCALE}px" in label.text or label.opts.get("size") for _s, label in legend.items
    )


def test_pdf_and_svg_are_vector_drawings_of_the_right_size(drawn):
    files, _w = drawn
    with open(files[".pdf"], "rb") as f:
        pdf = f.read()
    assert pdf.startswith(b"%PDF")
    box = [float(v) for v in pdf.split(b"/MediaBox [", 1)[1].split(b"]", 1)[0].split()]
    assert box[2] - box[0] == pytest.approx(8.5 / 2.54 * 72, abs=1.5)  # points
    assert b"/Image" not in pdf or pdf.count(b"/Subtype /Image") == 0  # paths and text, no bitmap
    root = ET.parse(files[".svg"]).getroot()
    assert root.tag.endswith("svg") and root.iter()
    assert any(el.tag.endswith("path") or el.tag.endswith("polyline") for el in root.iter())


def test_the_figure_command_draws_from_the_store_and_refuses_bad_input(store, tmp_path, capsys):
    from main import run

    db = str(store.where) if os.path.exists(str(store.where)) else None
    if db is None:
        pytest.skip("the store is not a file")
    out = tmp_path / "sweep.png"
    assert run(["figure", "--runs-db", db, "--kind", "sweep", "--sweep", "wd", "--out", str(out), "--width", "17"]) == 0
    assert out.is_file() and "17 cm wide, 6 runs" in capsys.readouterr().out
    assert run(["figure", "--runs-db", db, "--out", str(tmp_path / "x.gif")]) == 2
    assert "a figure is .pdf, .svg or .png" in capsys.readouterr().err
    assert run(["figure", "--runs-db", db, "--width", "1", "--out", str(out)]) == 2
    assert "--width 1" in capsys.readouterr().err
    assert run(["figure", "--runs-db", db, "--tag", "nothing", "--out", str(out)]) == 2
    assert "no runs match" in capsys.readouterr().err


def test_a_runs_confusion_matrix_figure_is_its_checkpoint_on_its_recorded_test_split(tmp_path):
    """Counts that sum to the test split and whose diagonal is the accuracy the run reported; the
    drawing at the printed width; a run whose checkpoint was pruned is one clear line."""
    from PIL import Image

    from engine.data.layouts import open_dataset
    from gui.figures import main as figure_main
    from gui.figures import run_confusion
    from tests.conftest import write_course_layout
    from tests.engine.test_runs import record

    ds = open_dataset(write_course_layout(tmp_path / "course", (52, 26, 26)), use_cache=False)
    s = RunStore(tmp_path / "runs.db")
    run_id, _run, last = record(s, ds, TrainConfig(epochs=2, batch_size=16, hidden=[16], engine="numpy"))
    row = s.run(run_id)
    counts, classes, title = run_confusion(s, row, None)  # the data the run recorded
    assert counts.sum() == len(ds.test) == 26 and classes == list(ds.classes)
    assert np.trace(counts) / counts.sum() == pytest.approx(last.test_acc) and "test accuracy" in title
    out = tmp_path / "cm.png"
    args = [str(run_id), "--kind", "confusion", "--runs-db", str(tmp_path / "runs.db")]
    assert figure_main([*args, "--out", str(out)]) == 0
    with Image.open(out) as img:
        assert abs(img.size[0] - round(8.5 / 2.54 * 300)) <= 2 and img.getpixel((2, 2))[:3] == (255, 255, 255)
    Path(row.final_checkpoint).unlink()
    Path(row.best_checkpoint).unlink(missing_ok=True)
    assert figure_main([*args, "--out", str(tmp_path / "again.png")]) == 2


def test_a_diverging_loss_is_drawn_on_a_log_axis_and_every_sweep_point_inside_the_frame(store):
    from engine.runs.curves import Band, SweepPoints
    from gui import figures

    epochs = np.array([1, 2, 3])

    def band(label, mean):
        mean = np.array(mean, float)
        return Band(label, "train_loss", epochs, mean, mean * 0.1, np.array([2, 2, 2]), (1, 2))

    calm = [band("calm", [2.0, 1.0, 0.5])]
    w = figures.curves_figure(calm, [], 8.5)
    assert not w.getItem(0, 0).getAxis("left").logMode  # a loss within a few decades: a linear axis
    figures.dispose(w)
    wild = calm + [band("momentum 0.95", [2.0, 1e8, 1e16])]
    w = figures.curves_figure(wild, [], 8.5)
    loss = w.getItem(0, 0)
    assert loss.getAxis("left").logMode  # 10¹⁶ beside 0.5: decades, or the calm runs are a flat line at 0
    (fill,) = [i for i in loss.items if type(i).__name__ == "FillBetweenItem" and i.curves[0].yData[-1] > 10]
    assert max(fill.curves[0].yData.max(), fill.curves[1].yData.max()) < 17  # its edges in log10 units too
    figures.dispose(w)

    pts = SweepPoints(
        "momentum",
        "val_acc",
        [0.88, 0.9, 0.95],
        np.array([0.84, 0.84, 0.47]),
        np.array([0.02, 0.01, 0.08]),
        np.array([3, 3, 3]),
    )
    w = figures.sweep_figure(pts, 8.5)
    plot = w.getItem(0, 0)
    (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
    assert x0 < 0.88 and x1 > 0.95  # the last value's marker is not cut at the right edge
    assert y0 < 0.47 - 0.08 and y1 > 0.84 + 0.02  # nor an error bar at the bottom or top
    assert "3 seeds" in plot.titleLabel.text and "validation accuracy" not in plot.titleLabel.text  # fits its width
    figures.dispose(w)


def test_a_setting_whose_runs_all_diverged_is_a_row_of_the_results_table(tmp_path):
    from engine.runs.curves import settings_table

    s = RunStore(tmp_path / "runs.db")
    for momentum, status in ((0.9, "finished"), (0.98, "diverged")):
        for seed in (0, 1):
            config = TrainConfig(optim="sgd", momentum=momentum, seed=seed).to_dict()
            rid = s.start_run(name=f"m {momentum}", config=config, dataset={}, source="test")
            s.write_progress(rid, [], val_acc=0.8 + 0.01 * seed, test_acc=0.8, epochs_done=3, status=status)
    table = settings_table(s.runs(), "markdown")
    assert "| **0.9** | **2** | **80.5 ± 0.7** | **80.0 ± 0.0** ★ |" in table  # the only one left: best
    assert "| 0.98 | 0 (+2 diverged) | diverged (2 of 2) | diverged (2 of 2) |" in table  # a finding, not a gap
