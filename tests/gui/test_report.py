"""Export for Report: the results table, the figures and every run used, in one folder — from
the command line and from the Runs tab — with the sweep table's statistics."""

from __future__ import annotations

import csv
import io

import pytest

from engine.config import TrainConfig
from engine.runs.curves import settings_table
from engine.runs.store import EpochRow, RunStore


def make_store(path, accs: dict[float, list[float]]):
    """Runs with the given final validation accuracies per weight decay (one per seed)."""
    s = RunStore(path)
    for wd, values in accs.items():
        for seed, acc in enumerate(values):
            config = TrainConfig(epochs=2, weight_decay=wd, seed=seed).to_dict()
            rid = s.start_run(name=f"wd {wd}", config=config, dataset={}, source="test", sweep="wd")
            s.write_progress(rid, [EpochRow(1, 2.0, 0.3, 2.1, acc - 0.1), EpochRow(2, 1.5, 0.5, 1.7, acc)])
            s.write_progress(rid, [], val_acc=acc, test_acc=acc - 0.02, epochs_done=2, status="finished")
    return s


def test_the_table_is_mean_and_sample_std_per_setting_and_bolds_only_a_clear_best(tmp_path):
    clear = make_store(tmp_path / "a.db", {0.1: [0.70, 0.71, 0.72], 0.2: [0.80, 0.81, 0.82]})
    md = settings_table(clear.runs(), "markdown")
    lines = [line for line in md.splitlines() if line.startswith(("| 0.", "| **0."))]
    assert lines[0].startswith("| 0.1 | 3 | 71.0 ± 1.0 | 69.0 ± 1.0 |")  # sample std of 70, 71, 72: 1.0
    assert "**" in lines[1] and "**" not in lines[0]  # 0.2 clears 0.1's interval: bold
    close = make_store(tmp_path / "b.db", {0.1: [0.70, 0.80, 0.75], 0.2: [0.74, 0.79, 0.78]})
    md = settings_table(close.runs(), "markdown")
    assert "**" not in md and "no clear best" in md


def test_the_report_command_writes_the_bundle(tmp_path, capsys):
    from main import run

    make_store(tmp_path / "runs.db", {0.1: [0.70, 0.71], 0.2: [0.80, 0.82], 0.3: [0.75, 0.74]})
    out = tmp_path / "report"
    assert run(["report", "--runs-db", str(tmp_path / "runs.db"), "--sweep", "wd", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "README.md", "curves.pdf", "curves.png", "results.md", "results.tex", "runs.csv", "runs.md", "sweep.pdf",
        "sweep.png",
    ]  # fmt: skip
    table = list(csv.DictReader(io.StringIO((out / "runs.csv").read_text(encoding="utf-8"))))
    assert sorted(int(r["id"]) for r in table) == [1, 2, 3, 4, 5, 6]  # every run used, traceable
    tex = (out / "results.tex").read_text(encoding="utf-8")
    assert r"\toprule" in tex and r"$\pm$" in tex and "weight\\_decay" in tex
    assert "1, 2, 3, 4, 5, 6" in (out / "README.md").read_text(encoding="utf-8")
    assert (out / "sweep.pdf").read_bytes().startswith(b"%PDF")
    assert run(["report", "--runs-db", str(tmp_path / "runs.db"), "--tag", "none", "--out", str(out)]) == 2
    assert "no runs match" in capsys.readouterr().err


def test_export_for_report_button_writes_the_selected_runs(window, qtbot, tmp_path, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    from tests.gui.test_clicks import one_run_selected

    view = one_run_selected(window, qtbot, tmp_path)
    folder = tmp_path / "for-report"
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    qtbot.mouseClick(view.buttons["report"], Qt.LeftButton)
    assert (folder / "results.md").is_file() and (folder / "curves.pdf").is_file()
    assert not (folder / "sweep.pdf").exists()  # one run: nothing swept
    assert "Wrote" in view.status.text()


@pytest.mark.skipif(__import__("shutil").which("pdflatex") is None, reason="pdflatex is not installed")
def test_the_latex_table_compiles(tmp_path):
    import subprocess

    s = make_store(tmp_path / "runs.db", {0.1: [0.70, 0.71], 0.2: [0.80, 0.82]})
    doc = "\\documentclass{article}\\usepackage{booktabs}\\begin{document}" + settings_table(s.runs(), "latex")
    (tmp_path / "t.tex").write_text(doc + "\\end{document}\n", encoding="utf-8")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "t.tex"], cwd=tmp_path, check=True, capture_output=True)
    assert (tmp_path / "t.pdf").is_file()


def test_the_report_and_its_figures_are_in_the_users_language(tmp_path):
    """A Chinese student's report is written in Chinese: from the command line (a process of its own,
    whose translators follow the language as the window's do) the table's headers, the README and the
    figures' axis words are Chinese; the numbers are the same."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    make_store(tmp_path / "runs.db", {0.1: [0.70, 0.71], 0.2: [0.80, 0.82]})
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BACKPROP_STUDIO_LANG": "zh_CN"}
    db = str(tmp_path / "runs.db")
    for args in (
        ["report", "--sweep", "wd", "--out", str(tmp_path / "r")],
        ["figure", "--out", str(tmp_path / "c.svg")],
    ):
        r = subprocess.run(
            [sys.executable, str(root / "main.py"), *args, "--runs-db", db],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            cwd=tmp_path,
        )
        assert r.returncode == 0, r.stderr[-2000:]
    md = (tmp_path / "r" / "results.md").read_text(encoding="utf-8")
    assert "验证集准确率（%）" in md and "测试集准确率（%）" in md and "70.5 ± 0.7" in md
    assert "Backprop Studio 导出的结果" in (tmp_path / "r" / "README.md").read_text(encoding="utf-8")
    svg = (tmp_path / "c.svg").read_text(encoding="utf-8")
    assert "轮次" in svg and "验证集准确率" in svg and "epoch" not in svg
