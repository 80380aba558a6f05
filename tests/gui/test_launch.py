"""Launching as a desktop does: files from "Open with", a second launch handing its files to the
window already open, Qt's own options, no display."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT


def test_a_second_launch_hands_its_files_to_the_first(qtbot, tmp_path):
    from PySide6.QtCore import QCoreApplication, QEvent

    from gui.instance import InstanceServer, hand_over

    name = f"backprop-studio-test-{os.getpid()}"
    server = InstanceServer(name)
    assert server.listening
    sent = [str(tmp_path / "模型 一.pt"), str(tmp_path / "images")]
    second = (
        "import sys, json; from PySide6.QtCore import QCoreApplication; app = QCoreApplication([]);"
        "from gui.instance import hand_over; sys.exit(0 if hand_over(json.loads(sys.argv[1]), sys.argv[2]) else 1)"
    )
    with qtbot.waitSignal(server.paths_received, timeout=60000) as blocker:
        launch = subprocess.Popen([sys.executable, "-c", second, json.dumps(sent), name], cwd=ROOT)
    qtbot.waitUntil(lambda: launch.poll() is not None, timeout=60000)
    assert blocker.args[0] == sent and launch.returncode == 0
    server.close()
    assert hand_over(sent, name) is False  # nobody listening: this launch opens its own window
    server.deleteLater()  # gone within this test, its sockets' last events delivered, not at collection
    QCoreApplication.sendPostedEvents(None, QEvent.DeferredDelete)


def test_the_window_opens_files_given_at_launch(window, qtbot, tmp_path, small_letters):
    from engine.checkpoint import Model, save_checkpoint
    from engine.config import TrainConfig
    from engine.training.run import TrainingRun

    run = TrainingRun(TrainConfig(epochs=1, batch_size=16, engine="numpy"), small_letters)
    run.run()
    path = tmp_path / "给 老师.pt"
    save_checkpoint(path, Model(run.network, small_letters.classes, small_letters.norm_size, run.config, run.history))
    with qtbot.waitSignal(window.model_changed, timeout=30000):
        window.open_from_launch([str(path), str(tmp_path / "gone.png")])
    assert window.session.checkpoint_path == str(path)


def test_routing_subcommands_files_and_qt_options():
    import main

    assert main.wants_cli(["train", "--epochs", "1"]) and main.wants_cli(["--version"])
    assert main.wants_cli(["frobnicate"])  # a mistyped command is the CLI's to refuse
    assert not main.wants_cli([]) and not main.wants_cli(["-style", "fusion"])
    assert not main.wants_cli([str(ROOT)])  # an existing folder opens in the app


def test_no_display_is_one_line_not_an_abort():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    if not sys.platform.startswith("linux"):
        return
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py")], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "no display found" in done.stderr and "xvfb-run" in done.stderr
