"""The Functions tab: load (menu or drop), the colour-coded check with diagnoses, role
corrections kept across re-checks, re-check on save, the race plot, and training with them."""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from engine.config import TrainConfig

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "userfn"
LETTERS = [FIX / "letters" / n for n in ("network.py", "losses.py", "activations.py")]


def wait_checked(view, qtbot, action):
    with qtbot.waitSignal(view.checked, timeout=60000) as blocker:
        action()
    return blocker.args[0]


def drop(window, paths):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    window.dropEvent(QDropEvent(QPointF(100, 100), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))


def test_dropped_functions_are_checked_and_shown_colour_coded(window, qtbot, tmp_path):
    for f in [*LETTERS, FIX / "mistakes" / "sigmoid_input.py"]:
        shutil.copy(f, tmp_path / f.name)
    view = window.functions_view
    res = wait_checked(view, qtbot, lambda: drop(window, [tmp_path / "network.py", tmp_path / "sigmoid_input.py"]))
    assert window.tabs.currentWidget() is view
    names = [view.table.item(i, 0).text() for i in range(view.table.rowCount())]
    # network.py imports its activations.py: found there too, with the mistaken Sigmoid beside them
    assert {"LinearFunction", "Sigmoid", "Tanh", "ReLU"} <= set(names)
    row = names.index("Sigmoid")
    sig = next(r for r in res.results if r.name == "Sigmoid" and r.file == "sigmoid_input.py")
    assert sig.passed is False
    verdicts = {
        view.table.item(i, 0).text() + view.table.item(i, 5).text(): view.table.item(i, 2) for i in range(len(names))
    }
    bad = verdicts["Sigmoidsigmoid_input.py:6"]
    assert bad.text() == "FAIL" and bad.foreground().color().name().lower() == "#d55e00"
    assert verdicts[f"LinearFunctionnetwork.py:{_line('network.py', 'class LinearFunction')}"].text() == "PASS"
    view.table.selectRow(row)
    assert "input x where it needs the output y" in view.details.toPlainText()


def _line(name, text):
    src = next(f for f in LETTERS if f.name == name).read_text().splitlines()
    return next(i + 1 for i, line in enumerate(src) if line.startswith(text))


def test_a_corrected_role_is_kept_across_a_recheck_on_save(window, qtbot, tmp_path):
    f = tmp_path / "mine.py"
    f.write_text(
        "import torch\n"
        "class Squash(torch.autograd.Function):\n"
        "    @staticmethod\n"
        "    def forward(ctx, x):\n"
        "        y = torch.tanh(x); ctx.save_for_backward(y); return y\n"
        "    @staticmethod\n"
        "    def backward(ctx, g):\n"
        "        (y,) = ctx.saved_tensors; return g * (1 - y)\n"
    )
    view = window.functions_view
    res = wait_checked(view, qtbot, lambda: view.load([str(f)]))
    assert res.ops[0]["role"] == "tanh" and res.results[0].passed is False
    box = view.table.cellWidget(0, 1)
    res = wait_checked(view, qtbot, lambda: box.setCurrentText("activation"))
    assert res.ops[0]["role"] == "activation" and res.ops[0]["how"] == "user"
    # fix the file and save it: checked again by itself, the correction kept
    res = wait_checked(view, qtbot, lambda: f.write_text(f.read_text().replace("g * (1 - y)", "g * (1 - y * y)")))
    assert res.ops[0]["role"] == "activation" and view.roles == {"Squash": "activation"}
    box = view.table.cellWidget(0, 1)
    res = wait_checked(view, qtbot, lambda: box.setCurrentText("tanh"))
    assert res.results[0].passed is True


def test_code_that_crashes_leaves_the_window_usable(window, qtbot):
    view = window.functions_view
    res = wait_checked(view, qtbot, lambda: view.load([str(FIX / "hostile" / "segfault.py")]))
    assert res is None and "segmentation fault" in view.details.toPlainText()
    res = wait_checked(view, qtbot, lambda: view.load([str(f) for f in LETTERS]))
    assert res.passed


def test_race_plot_and_training_with_your_functions(window, qtbot):
    view = window.functions_view
    wait_checked(view, qtbot, lambda: view.load([str(f) for f in LETTERS]))
    with qtbot.waitSignal(view.raced, timeout=120000) as blocker:
        assert view.race(steps=60)
    res = blocker.args[0]
    assert res.first_difference is None and len(res.yours) == 60
    assert len(view.loss_plot.listDataItems()) == 2 and "agree at every step" in view.race_label.text()
    # Train with These: a run starts at once, with engine "user" in a worker, and learns
    window.hyper.set_config(TrainConfig(epochs=2, batch_size=16, engine="torch"))
    with qtbot.waitSignal(window.training_finished, timeout=120000) as blocker:
        qtbot.mouseClick(view.train_button, Qt.LeftButton)
        assert window.training and window.tabs.currentWidget() is window.plots
    config = window.hyper.config()
    assert config.engine == "user" and config.functions == [str(f.resolve()) for f in LETTERS]
    ev = blocker.args[0]
    assert not ev.stopped and ev.epochs_completed == 2 and ev.test_acc > 0.1  # 2.6× chance after 20 steps
    h = window.session.model.history
    assert h.train_loss[-1] < h.train_loss[0]  # it learned, with the user's backward
    assert window.session.model.config.engine == "user"


def test_gradient_check_says_it_checks_the_studios_ops_and_checks_yours_on_a_click(window, qtbot):
    view = window.functions_view
    wait_checked(view, qtbot, lambda: view.load([str(f) for f in LETTERS]))
    window.actions.gradcheck.trigger()
    dialog = window._gradcheck_dialog
    assert "not the 3 file(s) of yours" in dialog.yours_note.text()
    window.tabs.setCurrentWidget(window.plots)
    res = wait_checked(view, qtbot, lambda: qtbot.mouseClick(dialog.check_yours, Qt.LeftButton))
    assert res.passed and window.tabs.currentWidget() is view


def test_the_check_follows_the_panels_loss_gradient_and_shows_the_op_to_look_at(window, qtbot, tmp_path):
    """The letters template (backward without 1/N): a WARN that explains the convention with the
    panel's "Loss gradient: mean", shown first; with "sum" (the letters-course preset's) no such warning."""
    view = window.functions_view
    for f in LETTERS:
        shutil.copy(f, tmp_path / f.name)
    shutil.copy(FIX / "mistakes" / "batch_factor.py", tmp_path / "losses.py")
    files = [str(tmp_path / f.name) for f in LETTERS]
    window.hyper.loss_reduction.setCurrentText("mean")
    res = wait_checked(view, qtbot, lambda: view.load(files))
    row = view.table.currentRow()
    assert view.table.item(row, 0).text() == "CrossEntropyLoss" and view.table.item(row, 2).text() == "WARN"
    assert "⚠ backward gives the gradient of the summed loss" in view.details.toPlainText()
    assert "worked example, batch of 2: logits =" in view.details.toPlainText()  # expected beside theirs
    assert res.passed and "batch-mean loss (the panel's)" in view.status.text()
    window.hyper.loss_reduction.setCurrentText("sum")
    res = wait_checked(view, qtbot, lambda: qtbot.mouseClick(view.reload_button, Qt.LeftButton))
    r = next(r for r in res.results if r.name == "CrossEntropyLoss")
    assert not any("summed loss" in w for w in r.warnings) and res.reduction == "sum"


def test_double_clicking_an_op_opens_its_code_in_the_users_editor_at_the_line(window, qtbot, tmp_path, monkeypatch):
    import sys

    for f in [*LETTERS, FIX / "mistakes" / "sigmoid_input.py"]:
        shutil.copy(f, tmp_path / f.name)
    opened = tmp_path / "opened.txt"
    fake = tmp_path / "fake_editor.py"
    fake.write_text(f"import sys\nopen({str(opened)!r}, 'w').write(' '.join(sys.argv[1:]))\n")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f'"{sys.executable}" "{fake}"')
    view = window.functions_view
    wait_checked(view, qtbot, lambda: drop(window, [tmp_path / "network.py", tmp_path / "sigmoid_input.py"]))
    rows = [view.table.item(i, 5).text() for i in range(view.table.rowCount())]
    for where in ("sigmoid_input.py:6", f"activations.py:{_line('activations.py', 'class Tanh')}"):
        opened.unlink(missing_ok=True)
        item = view.table.item(rows.index(where), 5)
        rect = view.table.visualItemRect(item)
        qtbot.mouseClick(view.table.viewport(), Qt.LeftButton, pos=rect.center())  # a double-click is a
        qtbot.mouseDClick(view.table.viewport(), Qt.LeftButton, pos=rect.center())  # press, then the second
        qtbot.waitUntil(opened.exists, timeout=20000)
        name, line = where.split(":")
        assert opened.read_text() == f"+{line} {tmp_path / name}"  # vi-style: +LINE FILE
    assert "Opened activations.py at line" in view.status.text()


def test_editor_command_lines_follow_the_editor():
    from gui.editor import editor_command

    assert editor_command("vim", "/a/b.py", 34) == ["vim", "+34", "/a/b.py"]
    assert editor_command("code --wait", "/a/b.py", 34) == ["code", "--wait", "-g", "/a/b.py:34"]
    assert editor_command("/usr/bin/subl", "/a/b.py", 3) == ["/usr/bin/subl", "/a/b.py:3"]
    assert editor_command("emacs -nw", "/a/b.py", 7) == ["emacs", "-nw", "+7", "/a/b.py"]
