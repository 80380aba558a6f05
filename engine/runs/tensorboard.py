"""The run store as TensorBoard event files (tensorboardX), so TensorBoard, W&B
(``wandb sync --sync-tensorboard``) and Aim read the studio's runs as they are.

One folder per run (``run-<id>-<name>``): the per-step training loss (``train/loss_step``, as
downsampled in the store), per-epoch ``train/loss``, ``train/accuracy``, ``val/loss``,
``val/accuracy``, and the run's hyperparameters with its final metrics (the HParams tab).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from engine.errors import UserError
from engine.runs.store import RunRow, RunStore

HPARAMS = ("optim", "lr", "momentum", "weight_decay", "batch_size", "epochs", "act", "init", "engine", "seed")
EPOCH_SCALARS = {
    "train/loss": "train_loss",
    "train/accuracy": "train_acc",
    "val/loss": "val_loss",
    "val/accuracy": "val_acc",
}


def folder_name(row: RunRow) -> str:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", row.name).strip("-")[:60]
    return f"run-{row.id}-{slug}" if slug else f"run-{row.id}"


def _hparam(v):
    if isinstance(v, (bool, int, float, str)):
        return v
    return ",".join(map(str, v)) if isinstance(v, (list, tuple)) else str(v)


def export_tensorboard(store: RunStore, rows: list[RunRow], folder: str | Path) -> list[Path]:
    """Write each run's event file under ``folder``; returns the run folders written."""
    from tensorboardX import SummaryWriter

    root = Path(folder)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"--tensorboard {folder}: {exc.strerror or exc}") from None
    written = []
    for row in rows:
        target = root / folder_name(row)
        with SummaryWriter(logdir=str(target), flush_secs=3600) as w:
            for step, loss in store.steps(row.id):
                if math.isfinite(loss):
                    w.add_scalar("train/loss_step", loss, int(step))
            for e in store.epochs(row.id):
                for tag, field in EPOCH_SCALARS.items():
                    v = getattr(e, field)
                    if v is not None and math.isfinite(v):
                        w.add_scalar(tag, v, e.epoch)
            metrics = {
                f"hparam/{k}": getattr(row, k)
                for k in ("val_acc", "best_val_acc", "test_acc")
                if getattr(row, k) is not None
            }
            hparams = {k: _hparam(row.config[k]) for k in HPARAMS if k in row.config}
            hparams["hidden"] = _hparam(row.config.get("hidden", []))
            # in a folder of its own: a second writer in the same folder within the same second would
            # write the same event file as the first
            w.add_hparams(hparams, metrics, name="hparams", global_step=row.epochs_done)
        written.append(target)
    return written
