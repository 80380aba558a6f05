"""Runs made outside the studio, imported into the run store: a CSV of per-epoch metrics or a
course script's printed log, so a student's earlier runs can be listed, compared, tabled and
drawn with the new ones.

- **CSV**: a header row naming the columns (``epoch`` and any of ``train_loss``, ``train_acc``,
  ``val_loss``, ``val_acc``, ``test_loss``, ``test_acc``; ``loss``/``acc`` mean the training
  ones), one row per epoch.
- **A printed log**: the MNIST course's ``[0] Accuracy: 0.9485`` lines (the test accuracy after
  each epoch, counted from 0), or lines that name an epoch and metrics, e.g. ``epoch 3: train
  loss 0.52, train acc 0.81, val acc 0.77`` (``:``, ``=`` or a space between a name and its value;
  accuracies given in % are read as fractions).

Per-epoch test accuracies without validation ones are kept as the MNIST course's runs are: the
evaluated split is the test split (``val_split`` 0).
"""

from __future__ import annotations

import csv
import io
import math
import re
import time
from pathlib import Path

from engine.data.files import read_bytes_limited
from engine.errors import UserError
from engine.i18n import N_, _
from engine.runs.store import EpochRow, RunStore

MAX_BYTES = 16 * 1024**2
MAX_EPOCHS = 1_000_000
METRICS = ("train_loss", "train_acc", "val_loss", "val_acc", "test_loss", "test_acc")
_ALIASES = {
    "loss": "train_loss",
    "acc": "train_acc",
    "accuracy": "train_acc",
    "train_accuracy": "train_acc",
    "training_loss": "train_loss",
    "training_acc": "train_acc",
    "training_accuracy": "train_acc",
    "valid_loss": "val_loss",
    "valid_acc": "val_acc",
    "validation_loss": "val_loss",
    "validation_acc": "val_acc",
    "validation_accuracy": "val_acc",
    "val_accuracy": "val_acc",
    "test_accuracy": "test_acc",
}
_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(%?)"
_MNIST_LINE = re.compile(r"^\s*\[(\d+)\]\s*accuracy\s*[:=]\s*" + _NUMBER, re.IGNORECASE)
_EPOCH = re.compile(r"\bepoch\s*[:=#\[]?\s*(\d+)", re.IGNORECASE)
_METRIC = re.compile(
    r"\b((?:train(?:ing)?|val(?:id(?:ation)?)?|test)?[ _]?(?:loss|acc(?:uracy)?))\b\s*[:=]?\s*" + _NUMBER,
    re.IGNORECASE,
)


def _name(raw: str) -> str | None:
    key = re.sub(r"[ \-]+", "_", raw.strip().lower())
    key = _ALIASES.get(key, key)
    return key if key in METRICS else None


def _value(key: str, text: str, percent: str, where: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise UserError(_("{where}: {text!r} is not a number").format(where=where, text=text)) from None
    if not math.isfinite(v):
        return math.nan
    if key.endswith("_acc") and (percent or v > 1.0):
        v /= 100.0
    return v


def parse_csv(text: str, path: str) -> dict[int, dict]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames:
        raise UserError(_("{path}: empty, or no header row naming the columns").format(path=path))
    columns = {f: _name(f) for f in reader.fieldnames if f is not None}
    if not any(columns.values()):
        raise UserError(
            _("{path}: no column it can read (header {columns}); name them epoch, {metrics}").format(
                path=path, columns=", ".join(reader.fieldnames), metrics=", ".join(METRICS)
            )
        )
    epoch_col = next((f for f in reader.fieldnames if f and f.strip().lower() == "epoch"), None)
    out: dict[int, dict] = {}
    for i, row in enumerate(reader, start=1):
        where = f"{path}: line {i + 1}"
        try:
            epoch = int(float(row[epoch_col])) if epoch_col else i
        except (TypeError, ValueError):
            raise UserError(
                _("{where}: epoch {epoch!r} is not a whole number").format(where=where, epoch=row.get(epoch_col))
            ) from None
        values = {
            key: _value(
                key, (row.get(col) or "").strip().rstrip("%"), "%" if "%" in (row.get(col) or "") else "", where
            )
            for col, key in columns.items()
            if key and (row.get(col) or "").strip()
        }
        out.setdefault(epoch, {}).update(values)
        if len(out) > MAX_EPOCHS:
            raise UserError(_("{path}: more than {max_epochs:,} epochs").format(path=path, max_epochs=MAX_EPOCHS))
    return out


def parse_log(text: str, path: str) -> dict[int, dict]:
    out: dict[int, dict] = {}
    for i, line in enumerate(text.splitlines(), start=1):
        where = f"{path}: line {i}"
        m = _MNIST_LINE.match(line)
        if m:  # the MNIST course: "[e] Accuracy: …", the test accuracy after epoch e (from 0)
            out.setdefault(int(m.group(1)) + 1, {})["test_acc"] = _value("test_acc", m.group(2), m.group(3), where)
            continue
        e = _EPOCH.search(line)
        if not e:
            continue
        values = {}
        for raw, number, percent in _METRIC.findall(line[e.end() :]):
            key = _name(raw)
            if key:
                values[key] = _value(key, number, percent, where)
        if values:
            out.setdefault(int(e.group(1)), {}).update(values)
        if len(out) > MAX_EPOCHS:
            raise UserError(_("{path}: more than {max_epochs:,} epochs").format(path=path, max_epochs=MAX_EPOCHS))
    return out


def read_metrics(path: str | Path) -> dict[int, dict]:
    """Epoch → metrics from a CSV or a printed log (by its suffix; .csv is a CSV)."""
    raw = read_bytes_limited(Path(path), MAX_BYTES, N_("log or CSV file"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gbk", errors="replace")  # a Windows console's log (中文 Windows)
    epochs = parse_csv(text, str(path)) if str(path).lower().endswith(".csv") else parse_log(text, str(path))
    epochs = {e: v for e, v in epochs.items() if v}
    if not epochs:
        raise UserError(
            _(
                "{path}: no epochs found (a CSV with an epoch column and metrics, or log lines such as '[0] "
                "Accuracy: 0.97' or 'epoch 1: loss 0.52 acc 0.81')"
            ).format(path=path)
        )
    if min(epochs) < 1:
        raise UserError(
            _("{path}: epoch {min_epochs} — epochs are counted from 1 (the MNIST log's [0] is epoch 1)").format(
                path=path, min_epochs=min(epochs)
            )
        )
    return dict(sorted(epochs.items()))


def import_run(
    store: RunStore, path: str | Path, name: str = "", settings: dict | None = None, dataset: str = ""
) -> tuple[int, int]:
    """Record the run the file describes; returns (run id, epochs)."""
    epochs = read_metrics(path)
    has_val = any("val_acc" in v or "val_loss" in v for v in epochs.values())
    per_epoch_test = any("test_acc" in v for v in epochs.values()) and not has_val
    config = {"val_split": 0.0} if per_epoch_test else {}
    config.update(settings or {})
    rows = []
    for e, v in epochs.items():
        val_loss = v.get("val_loss", v.get("test_loss") if per_epoch_test else None)
        val_acc = v.get("val_acc", v.get("test_acc") if per_epoch_test else None)
        rows.append(EpochRow(e, v.get("train_loss"), v.get("train_acc"), val_loss, val_acc))
    scored = [(r.val_acc, r.epoch) for r in rows if r.val_acc is not None and not math.isnan(r.val_acc)]
    best_acc, best_epoch = max(scored) if scored else (None, None)
    last = rows[-1]
    tests = [v["test_acc"] for v in epochs.values() if "test_acc" in v]
    run_id = store.start_run(
        name=name or Path(path).stem,
        config=config,
        dataset={"name": dataset},
        source="import",
    )
    store.write_progress(
        run_id,
        rows,
        status="finished",
        message=f"imported from {path}",
        ended=time.time(),
        epochs_done=last.epoch,
        train_loss=last.train_loss,
        train_acc=last.train_acc,
        val_loss=last.val_loss,
        val_acc=last.val_acc,
        best_val_acc=best_acc,
        best_epoch=best_epoch,
        test_acc=tests[-1] if tests else None,
    )
    return run_id, len(rows)
