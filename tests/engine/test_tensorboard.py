"""runs export --tensorboard: the run store as TensorBoard event files, read back record by
record (TFRecord framing, tensorboardX's own Event protobuf) — what TensorBoard would read."""

from __future__ import annotations

import json
import struct

import pytest

from engine.config import TrainConfig
from engine.runs.store import EpochRow, RunStore

pytest.importorskip("tensorboardX", reason="tensorboardX is a dependency: pip install -e .")


def read_events(folder):
    """Every Event of every event file under ``folder``: (tag, step, value) for scalars, and the
    plugin names of summaries without a simple value (the hparams)."""
    from tensorboardX.proto.event_pb2 import Event

    scalars, plugins = [], set()
    for path in sorted(folder.rglob("events.out.tfevents.*")):
        data = path.read_bytes()
        i = 0
        while i < len(data):
            (n,) = struct.unpack("<Q", data[i : i + 8])
            event = Event.FromString(data[i + 12 : i + 12 + n])
            i += 12 + n + 4  # length, its crc, the record, its crc
            for v in event.summary.value:
                if v.HasField("simple_value"):
                    scalars.append((v.tag, event.step, v.simple_value))
                elif v.metadata.plugin_data.plugin_name:
                    plugins.add(v.metadata.plugin_data.plugin_name)
    return scalars, plugins


def test_a_run_exported_for_tensorboard_reads_back_with_its_curves_and_hparams(tmp_path):
    from engine.cli import main

    store = RunStore(tmp_path / "runs.db")
    config = TrainConfig(epochs=2, weight_decay=0.15, seed=1).to_dict()
    rid = store.start_run(name="wd 0.15 / seed 1", config=config, dataset={}, source="test")
    store.write_progress(
        rid,
        [EpochRow(1, 1.5, 0.4, 1.7, 0.35), EpochRow(2, 1.0, 0.6, 1.2, 0.55)],
        epochs_done=2,
        val_acc=0.55,
        test_acc=0.5,
        status="finished",
        steps=json.dumps([[1, 2.5], [2, 2.25], [3, float("nan")], [4, 1.75]]),
    )
    out = tmp_path / "tb"
    assert main(["runs", "export", "--runs-db", str(tmp_path / "runs.db"), "--tensorboard", str(out)]) == 0
    run_folder = out / f"run-{rid}-wd-0.15-seed-1"
    assert run_folder.is_dir()
    scalars, plugins = read_events(run_folder)
    by_tag: dict[str, list] = {}
    for tag, step, value in scalars:
        by_tag.setdefault(tag, []).append((step, pytest.approx(value)))
    assert by_tag["train/loss_step"] == [(1, 2.5), (2, 2.25), (4, 1.75)]  # a NaN step is left out
    assert by_tag["train/loss"] == [(1, 1.5), (2, 1.0)]
    assert by_tag["val/accuracy"] == [(1, 0.35), (2, 0.55)]
    assert by_tag["train/accuracy"] == [(1, 0.4), (2, 0.6)]
    assert ("hparam/test_acc", 2, pytest.approx(0.5)) in scalars
    assert "hparams" in plugins  # TensorBoard's HParams tab
    _read_back_with_tensorboard(run_folder)


def _read_back_with_tensorboard(folder) -> None:
    """What TensorBoard itself shows (its own event reader, the `test` extra), where installed."""
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        return  # tensorboard is a test extra: the raw-record check above still ran
    acc = EventAccumulator(str(folder))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    assert {"train/loss_step", "train/loss", "val/accuracy", "train/accuracy"} <= set(tags)
    assert [(e.step, round(e.value, 6)) for e in acc.Scalars("val/accuracy")] == [(1, 0.35), (2, 0.55)]
    assert [e.step for e in acc.Scalars("train/loss_step")] == [1, 2, 4]


def test_an_unwritable_folder_is_one_clear_line(tmp_path, capsys):
    from engine.cli import main

    store = RunStore(tmp_path / "runs.db")
    store.start_run(name="x", config=TrainConfig().to_dict(), dataset={}, source="test")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code = main(["runs", "export", "--runs-db", str(tmp_path / "runs.db"), "--tensorboard", str(blocker / "tb")])
    assert code == 2 and "--tensorboard" in capsys.readouterr().err
