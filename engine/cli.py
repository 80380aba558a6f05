"""The headless command line: ``train``, ``test``, ``predict``, ``gradcheck`` (DESIGN.md).

User mistakes print one line ``error: <file or value>: <problem>`` and exit 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import signal
import sys
import time
from pathlib import Path

from engine.config import parse_hidden_sizes
from engine.errors import UserError
from engine.i18n import _
from engine.training.history import format_duration


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for every user error
        raise UserError(message)


# Training options: (flags, dest, type, help). Defaults are None: a flag overrides the preset only if given.
TRAIN_OPTIONS = [
    (("--hsize", "--hidden"), "hidden", str, "hidden sizes, e.g. 64 or 128,64"),
    (("--act",), "act", str, "relu | sigmoid | tanh | identity"),
    (
        ("--optim", "--optim_type"),
        "optim",
        str,
        "sgd | adam (torch.optim.Adam: L2 decay) | adamw (decoupled) | adagrad | rmsprop | adadelta",
    ),
    (("--lr",), "lr", float, "learning rate"),
    (("--momentum",), "momentum", float, "momentum (sgd, rmsprop)"),
    (("--weight-decay", "--weight_decay"), "weight_decay", float, "weight decay"),
    (("--batch-size", "--batchsize"), "batch_size", int, "batch size"),
    (("--epochs", "--epoch"), "epochs", int, "epochs in total (with --resume: the total to reach)"),
    (("--val-interval", "--valInterval"), "val_interval", int, "evaluate on validation every N epochs"),
    (("--engine",), "engine", str, "torch | numpy | user (your own Functions: give --functions)"),
    (("--seed",), "seed", int, "training seed: initial weights and batch order"),
    (("--device",), "device", str, "cpu | cuda | mps"),
    (
        ("--init",),
        "init",
        str,
        "he | xavier | normal (N(0,1), the letters course's torch.randn) | uniform (U(±1/√fan_in), "
        "nn.Linear's default, the MNIST course's)",
    ),
    (
        ("--input-norm",),
        "input_norm",
        str,
        "minus-one-one ((x/255-0.5)/0.5, the letters course's) | zero-one (x/255) | standardize "
        "((x/255-mean)/std: --input-mean/--input-std, or the training split's own)",
    ),
    (("--input-mean",), "input_mean", float, "mean for --input-norm standardize (MNIST: 0.1307; 0: measured)"),
    (("--input-std",), "input_std", float, "std for --input-norm standardize (MNIST: 0.3081; 0: measured)"),
    (
        ("--threads",),
        "threads",
        int,
        "CPU threads a run computes with (default 1): part of its settings, so the same settings and "
        "seed give the same numbers on any machine",
    ),
    (
        ("--precision",),
        "precision",
        str,
        "float32 | float64 (the MNIST course's NumPy loop computes in float64; mnist-course uses it)",
    ),
    (("--loss-reduction",), "loss_reduction", str, "mean | sum (sum: the letters course's backward, no 1/N)"),
    (
        ("--val-split",),
        "val_split",
        float,
        "validation fraction where the data has no validation split (0: train on all of it)",
    ),
    (("--split-seed",), "split_seed", int, "seed of the train/val/test split where the data has none"),
    (("--functions",), "functions", str, "your own ops, FILE.py[,FILE.py] (with --engine user)"),
    (("--function-roles",), "function_roles", str, "corrections of the roles found: Class=role,…"),
]


def build_parser() -> argparse.ArgumentParser:
    from engine import __version__
    from engine.config import PRESETS

    p = _Parser(
        prog=program_name(),
        description="Backprop Studio: MLPs with hand-written gradients. Without a command: the desktop app.",
    )
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    t = sub.add_parser("train", help="train a model")
    t.add_argument("--data", default="builtin", help="dataset folder (default: the built-in letters)")
    t.add_argument(
        "--preset",
        choices=list(PRESETS),
        help="start from these settings (default: the dataset kind's: letters for letters, "
        "mnist-course for IDX, default for folders)",
    )
    for flags, dest, typ, help_ in TRAIN_OPTIONS:
        t.add_argument(*flags, dest=dest, type=typ, default=None, help=help_)
    t.add_argument(
        "--layer",
        "--layers",
        dest="layers",
        type=int,
        default=None,
        help="number of linear layers (course alias: repeats a single --hsize)",
    )
    _bias_option(t)
    t.add_argument("--norm-size", type=int, default=32, help="input side for image folders (default 32)")
    t.add_argument("--out", help="write the checkpoint here")
    t.add_argument("--resume", help="continue training from this checkpoint, exactly where it stopped")
    t.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    _store_options(t)
    e = sub.add_parser("test", help="evaluate a checkpoint on the split it was trained against")
    e.add_argument("--checkpoint", required=True, help="the .pt/.pth file to evaluate")
    e.add_argument("--data", default=None, help="dataset folder (default: the one recorded in the checkpoint)")
    e.add_argument("--split", default="test", help="train | val | test (default test)")
    e.add_argument("--act", default=None, help="activation, for a checkpoint that does not record one")
    pr = sub.add_parser("predict", help="classify image files")
    pr.add_argument("--checkpoint", required=True, help="the .pt/.pth file to classify with")
    pr.add_argument("--topk", type=int, default=1, help="print the K most likely classes per image (default 1)")
    pr.add_argument("--act", default=None, help="activation, for a checkpoint that does not record one")
    pr.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, BMP, …)")
    sub.add_parser("gradcheck", help="check every hand-written backward numerically")
    ck = sub.add_parser("check", help="check your own backward passes (Functions or NumPy ops) against the reference")
    ck.add_argument("files", nargs="*", metavar="FILE.py", help="your modules (a course's network.py, losses.py, …)")
    ck.add_argument(
        "--class",
        dest="class_dir",
        metavar="SUBMISSIONS",
        help="grade a class: a folder (or .zip) per student, each checked in its own sandbox; needs --out",
    )
    ck.add_argument("--out", help="--class: the gradebook folder (CSV, JSON, summary, Gradescope results.json)")
    ck.add_argument(
        "--workers", type=int, default=None, help="--class: submissions at once (default: the number of cores)"
    )
    ck.add_argument(
        "--rubric",
        metavar="FILE.toml",
        help="--class: points from a TOML file: op = 1, mlp = 2, warn = 1 (a WARN's share), [roles] linear = 2 …",
    )
    ck.add_argument("--role", action="append", default=[], metavar="CLASS=ROLE", help="correct a role found")
    ck.add_argument("--act", help="the activation of the end-to-end MLP check (default: the first found)")
    ck.add_argument("--race", action="store_true", help="also train beside the reference and report where they part")
    ck.add_argument("--data", default="builtin", help="the data of the race (default: the built-in letters)")
    ck.add_argument("--steps", type=int, default=200, help="steps of the race (default 200)")
    ck.add_argument("--time-limit", type=float, default=60.0, help="seconds your code may take (default 60)")
    ck.add_argument(
        "--reduction",
        help="the loss gradient's convention: mean (of the batch-mean loss, default) or sum (of the summed "
        "loss: the letters course's template, whose backward omits 1/N)",
    )
    ck.add_argument("--preset", choices=list(PRESETS), help="check with this preset's convention (letters-course: sum)")
    ck.add_argument("--strict", action="store_true", help="warnings (⚠) fail too (exit status 1)")
    ex = sub.add_parser("explain", help="one backward pass step by step for one image, checked")
    ex.add_argument("--checkpoint", required=True, help="the .pt/.pth file whose network is explained")
    ex.add_argument("image", help="the image file to explain")
    ex.add_argument("--label", help="the true class (default: the predicted one)")
    ex.add_argument("--lr", type=float, default=0.1, help="learning rate of the 'apply this update' line")
    ex.add_argument("--act", default=None, help="activation, for a checkpoint that does not record one")
    em = sub.add_parser("embed", help="2-D map of a split's logits or hidden activations (PCA or t-SNE) as CSV")
    em.add_argument("--checkpoint", required=True, help="the .pt/.pth file whose network maps the images")
    em.add_argument("--data", required=True, help="the dataset folder whose images are mapped")
    em.add_argument("--split", default="test", choices=["train", "val", "test"], help="the split mapped (default test)")
    em.add_argument("--method", default="pca", choices=["pca", "tsne"], help="pca (fast, default) or tsne")
    em.add_argument("--layer", type=int, default=None, help="hidden layer (1-based); default: the logits")
    em.add_argument("--limit", type=int, default=2000, help="at most this many images (default 2000)")
    em.add_argument("--out", help="CSV file (default: standard output)")
    em.add_argument("--act", default=None, help="activation, for a checkpoint that does not record one")
    x = sub.add_parser("export", help="export a checkpoint for other tools (ONNX: Netron, onnxruntime)")
    x.add_argument("--checkpoint", required=True, help="the .pt/.pth file to export")
    x.add_argument("--onnx", required=True, metavar="OUT.onnx", help="where to write the ONNX model")
    x.add_argument("--act", default=None, help="activation, for a checkpoint that does not record one")
    from engine.runs.sweep import FORMATS, PRUNERS, SEARCHES

    sw = sub.add_parser(
        "sweep",
        help="run many configurations × seeds on worker processes and print the results table",
        description="Sweep hyperparameters with Optuna. The letters course's Table 1 (momentum with sgd): "
        "sweep --data DIR --preset letters --optim sgd --lr 0.01 --weight-decay 0 "
        "--grid momentum=0.88,0.9,0.92,0.95,0.98 --seeds 0,1,2 --workers 2 --format markdown. "
        "The MNIST course's experiments: sweep --data MNIST --preset mnist-course --grid batch_size=128,256 "
        "--seeds 0,1,2 --per-epoch",
    )
    sw.add_argument("--data", default="builtin", help="dataset folder (default: the built-in letters)")
    sw.add_argument("--preset", choices=list(PRESETS), help="the settings every trial starts from")
    for flags, dest, typ, help_ in TRAIN_OPTIONS:
        help_ = "epochs of every trial" if dest == "epochs" else help_  # a sweep has no --resume
        sw.add_argument(*flags, dest=dest, type=typ, default=None, help=f"fixed for every trial: {help_}")
    _bias_option(sw)
    sw.add_argument("--norm-size", type=int, default=32, help="input side for image folders (default 32)")
    sw.add_argument(
        "--grid",
        "--param",
        dest="grid",
        action="append",
        default=[],
        metavar="NAME=VALUES",
        help="a swept hyperparameter: a list (momentum=0.88,0.9), a range (lr=1e-4..1e-1:5:log; "
        "a count for grids, a distribution for random/tpe); repeat for several",
    )
    sw.add_argument("--seeds", default="0", help="seeds run for every configuration, e.g. 0,1,2 or 0..4")
    sw.add_argument("--search", choices=SEARCHES, default="grid", help="grid (default), random or tpe")
    sw.add_argument("--trials", type=int, help="configurations to sample (random, tpe)")
    sw.add_argument("--minutes", type=float, help="start no trial after this many minutes")
    sw.add_argument("--prune", choices=PRUNERS, default="none", help="stop poor trials early (on val accuracy)")
    sw.add_argument(
        "--workers",
        type=int,
        default=None,
        help="trials at once (default and most: the number of cores; --force-workers for more)",
    )
    sw.add_argument("--force-workers", action="store_true", help="allow more workers than cores")
    sw.add_argument(
        "--max-trials", type=int, default=10_000, help="refuse a sweep of more trials than this (default 10,000)"
    )
    sw.add_argument("--format", choices=FORMATS, default="markdown", help="the results table's format")
    sw.add_argument("--ci", action="store_true", help="± the 95 %% t interval instead of the sample std")
    sw.add_argument("--storage", help="Optuna storage URL (default: sweeps.db beside the run store)")
    sw.add_argument("--study", help="the study's name (default: sweep-DATE-TIME)")
    sw.add_argument("--quiet", action="store_true", help="no per-trial lines")
    sw.add_argument(
        "--per-epoch",
        action="store_true",
        help="also print each row's accuracy after every epoch (mean ± std over seeds), as the MNIST course reports",
    )
    _store_options(sw)
    sww = sub.add_parser("sweep-worker", help="join a study in shared storage and run its trials until it is done")
    sww.add_argument("--storage", required=True, help="the study's storage URL (postgresql+psycopg://…)")
    sww.add_argument("--study", required=True, help="the study's name (as the sweep printed it)")
    sww.add_argument("--data", help="this machine's copy of the dataset (default: the path the study recorded)")
    sww.add_argument("--workers", type=int, default=None, help="trials at once (default: the number of cores)")
    sww.add_argument("--format", choices=FORMATS, default="markdown", help="the results table's format")
    sww.add_argument("--quiet", action="store_true", help="no per-trial lines")
    _store_options(sww)
    rn = sub.add_parser(
        "runs",
        help="the recorded runs: list, show ID, compare ID ID…, export (tables for a report), prune",
        description="Runs recorded in the run store. Examples: runs list --sweep NAME; runs show 12; "
        "runs compare 12 13; runs export --where 'wd>0.1' --format latex; runs export --curves; "
        "runs prune --keep 20 (checkpoint files of older, untagged runs)",
    )
    rn.add_argument(
        "action",
        choices=["list", "show", "compare", "export", "prune", "import"],
        help="what to do (prune: delete the checkpoint files of old runs, keeping --keep recent and tagged ones; "
        "import: a run made elsewhere, from --from FILE)",
    )
    rn.add_argument("ids", nargs="*", type=int, metavar="ID", help="run ids (show: one; compare: two or more)")
    rn.add_argument("--tag", help="only runs with this tag")
    rn.add_argument("--sweep", help="only the runs of this sweep")
    rn.add_argument("--status", help="only runs with this status (finished, stopped, diverged, failed, …)")
    rn.add_argument(
        "--where", action="append", default=[], metavar="COND", help="e.g. 'wd>0.1', optim=sgd (repeatable)"
    )
    rn.add_argument(
        "--format",
        choices=["table", "csv", "markdown", "latex", "json"],
        default="table",
        help="output format (default: an aligned table)",
    )
    rn.add_argument("--curves", action="store_true", help="export: per-epoch curves (long CSV) instead of rows")
    rn.add_argument(
        "--tensorboard",
        metavar="DIR",
        help="export: TensorBoard event files, a folder per run (for tensorboard --logdir DIR, wandb sync, Aim)",
    )
    rn.add_argument("--out", help="write to this file instead of standard output")
    rn.add_argument(
        "--keep", type=int, default=20, help="prune: the most recent runs whose checkpoints stay (default 20)"
    )
    rn.add_argument("--dry-run", action="store_true", help="prune: list what would be deleted, delete nothing")
    rn.add_argument(
        "--always",
        action="store_true",
        help="prune: also keep to --keep after every run from now on (a cap stored with the runs)",
    )
    rn.add_argument("--no-cap", action="store_true", help="prune: remove the cap set by --always (deletes nothing)")
    rn.add_argument(
        "--from",
        dest="source",
        metavar="FILE",
        help="import: a CSV of per-epoch metrics (epoch, train_loss, train_acc, val_loss, val_acc, test_acc) "
        "or a course script's printed log ('[0] Accuracy: 0.97', 'epoch 1: loss 0.52 acc 0.81')",
    )
    rn.add_argument("--name", help="import: the run's name (default: the file's name)")
    rn.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="import: a setting of that run, e.g. --set lr=0.1 --set batch_size=128 (repeatable)",
    )
    rn.add_argument("--dataset", help="import: the dataset's name, as the Runs tab shows it")
    rn.add_argument(
        "--runs-db", help="the run store: a file or a database URL (default: runs.db in the user's data folder)"
    )
    c = sub.add_parser("cache", help="the decoded-dataset cache: info or clear")
    c.add_argument("action", choices=["info", "clear"], help="info: where and how big; clear: delete it")
    return p


def program_name() -> str:
    """How the user started us, for help and usage lines: the installed command or main.py."""
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
    if name.lower().startswith("backprop-studio"):
        return "backprop-studio"
    return "main.py"


def _store_options(p) -> None:
    p.add_argument(
        "--runs-db", help="the run store: a file or a database URL (default: runs.db in the user's data folder)"
    )
    p.add_argument("--no-record", action="store_true", help="do not record the run(s) in the run store")


def _open_store(a):
    """The run store, or None (with a one-line warning) if it cannot be used: training goes on."""
    if getattr(a, "no_record", False):
        return None
    from engine.runs.store import RunStore, StoreError

    try:
        return RunStore(a.runs_db)
    except StoreError as exc:
        print(_("warning: {message}").format(message=exc), file=sys.stderr)
        return None


def _bias_option(p) -> None:
    p.add_argument(
        "--no-bias",
        dest="bias",
        action="store_const",
        const=False,
        default=None,
        help="a bias-free MLP (the MNIST course's network); checkpoints say so",
    )


def _overrides(a) -> dict:
    """The training options given on the command line (and only those)."""
    given = {dest: getattr(a, dest) for _flags, dest, _kind, _help in TRAIN_OPTIONS if getattr(a, dest) is not None}
    if getattr(a, "bias", None) is not None:
        given["bias"] = a.bias
    if "hidden" in given:
        given["hidden"] = parse_hidden_sizes(given["hidden"])
    if "functions" in given:
        files = [f.strip() for f in given["functions"].split(",") if f.strip()]
        for f in files:
            if not Path(f).is_file():
                raise UserError(_("--functions {f}: no such file").format(f=f))
        given["functions"] = [str(Path(f).resolve()) for f in files]
        given.setdefault("engine", "user")
    if getattr(a, "layers", None) is not None:
        if a.layers < 2:
            raise UserError(_("--layer: {layers} must be at least 2 (one hidden layer)").format(layers=a.layers))
        hidden = given.get("hidden")
        if hidden is None or len(hidden) == 1:
            from engine.config import PRESETS

            base = hidden or PRESETS[a.preset or "letters"]["hidden"][:1]
            given["hidden"] = base * (a.layers - 1)
        elif len(hidden) != a.layers - 1:
            raise UserError(
                _("--layer {layers} needs {n_hidden_layers} hidden sizes, got {n_hidden}").format(
                    layers=a.layers, n_hidden_layers=a.layers - 1, n_hidden=len(hidden)
                )
            )
    return given


def _print_hyperparameters(config, given: dict, note: str = "") -> None:
    origin = _("preset {name}").format(name=config.preset) if config.preset else _("checkpoint")
    set_here = _("; from the command line: {names}").format(names=", ".join(sorted(given))) if given else ""
    print(
        _("hyperparameters ({origin}{set_here}{note}):").format(origin=origin, set_here=set_here, note=note), flush=True
    )
    for line in config.effective_lines():
        print(f"  {line}")


def _report(events, a, val: dict):
    """Consume the run's events, printing a line per epoch (and validation); returns the final event."""
    from engine.training.health import HealthEvent
    from engine.training.run import EpochEvent, EvalEvent, FailedEvent, FinishedEvent, TestEvent, WarningEvent

    last = None
    said: set[str] = set()
    for ev in events:
        if isinstance(ev, HealthEvent):
            for w in ev.warnings:
                key = re.sub(r"\d[\d.e+-]*", "#", w)  # a layer's finding, said once whatever its numbers
                if key not in said:
                    said.add(key)
                    print(
                        _("warning: at epoch {epoch:.1f}: {w}").format(epoch=ev.epoch, w=w),
                        file=sys.stderr,
                        flush=True,
                    )
            continue
        if isinstance(ev, EvalEvent):
            val.update(val_loss=ev.val_loss, val_acc=ev.val_acc)
            if not a.quiet:
                print(
                    _("  val_loss {loss}  val_acc {acc}  (best {best} @ epoch {epoch})").format(
                        loss=f"{ev.val_loss:.4f}",
                        acc=f"{ev.val_acc:.4f}",
                        best=f"{ev.best_val_acc:.4f}",
                        epoch=ev.best_epoch,
                    ),
                    flush=True,
                )
        elif isinstance(ev, TestEvent) and not a.quiet:  # no validation split: as the MNIST course reports
            print(
                _("  test_loss {loss}  test_acc {acc}  (no validation split)").format(
                    loss=f"{ev.test_loss:.4f}", acc=f"{ev.test_acc:.4f}"
                ),
                flush=True,
            )
        elif isinstance(ev, EpochEvent) and not a.quiet:
            print(
                _("epoch {epoch}/{epochs}  loss {loss}  acc {acc}  elapsed {elapsed}  ETA {eta}").format(
                    epoch=ev.epoch,
                    epochs=ev.epochs,
                    loss=f"{ev.train_loss:.4f}",
                    acc=f"{ev.train_acc:.4f}",
                    elapsed=format_duration(ev.elapsed),
                    eta=format_duration(ev.eta),
                ),
                flush=True,
            )
        elif isinstance(ev, WarningEvent):
            print(_("warning: {message}").format(message=ev.message), file=sys.stderr, flush=True)
        elif isinstance(ev, (FinishedEvent, FailedEvent)):
            last = ev
    return last


def _check_writable(out: str) -> None:
    """Before training: the checkpoint's folder must exist or be creatable, and be writable."""
    path = Path(out)
    if path.exists() and not path.is_file():
        raise UserError(_("--out {out}: exists and is not a regular file").format(out=out))
    folder = path.parent if str(path.parent) else Path(".")
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not os.access(probe, os.W_OK | os.X_OK):
        raise UserError(
            _("--out {out}: the folder {folder} is not writable; nothing was trained").format(out=out, folder=folder)
        )


def _opening_progress(path, tty: bool, clock=time.monotonic):
    """(progress, finish) for opening ``path``: a line on stderr once it takes over a second (200,000
    small images take minutes), updated in place on a terminal, a line every 5 s in a log."""
    start = clock()
    state = {"last": 0.0, "shown": False}

    def progress(done: int, total: int, _message: str) -> None:
        now = clock()
        if now - start < 1.0 or now - state["last"] < (0.5 if tty else 5.0) or total <= 0:
            return
        state["last"], state["shown"] = now, True
        left = (now - start) / max(done, 1) * max(total - done, 0)
        line = _("opening {path}: {done} of {total} ({pct} %), about {left} left (Ctrl+C stops)").format(
            path=path, done=f"{done:,}", total=f"{total:,}", pct=round(100 * done / total), left=format_duration(left)
        )
        print("\r" + line if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    def finish() -> None:
        if state["shown"] and tty:
            print(file=sys.stderr, flush=True)

    return progress, finish


def _open_data(path, **kwargs):
    """``open_dataset`` with :func:`_opening_progress`; Ctrl+C stops it (exit 130, nothing written)."""
    from engine.data.layouts import open_dataset

    progress, finish = _opening_progress(path, sys.stderr.isatty())
    try:
        return open_dataset(path, progress=progress, **kwargs)
    finally:
        finish()


def _fingerprint_warning(model, ds, what: str) -> None:
    from engine.predict import fingerprint_warning

    warning = fingerprint_warning(model, ds, what)
    if warning:
        print(_("warning: {message}").format(message=warning), file=sys.stderr)


def _resumed_config(a, given: dict):
    """``--resume``: the checkpoint's model and its config with the few settings one may change."""
    from engine.checkpoint import load_checkpoint

    resumed = load_checkpoint(a.resume)
    unknown = set(given) - {"epochs", "device", "val_interval"}
    if unknown:
        raise UserError(
            _("--resume continues with the checkpoint's settings; remove {value}").format(
                value=", ".join("--" + k.replace("_", "-") for k in sorted(unknown))
            )
        )
    return resumed, dataclasses.replace(resumed.config, **given).validate()


def _train_plan(a, given: dict):
    """The run the command line asks for: (plan, the checkpoint it resumes or None)."""
    from engine.config import LAYOUT_PRESETS, preset_config
    from engine.data.layouts import layout_of
    from engine.model.build import available_devices
    from engine.training.launch import RunPlan

    resumed = None
    if a.resume:
        resumed, config = _resumed_config(a, given)
        norm = resumed.norm_size
    else:
        config = preset_config(a.preset or LAYOUT_PRESETS[layout_of(a.data)], **given).validate()
        norm = (a.norm_size, a.norm_size)
    if config.device != "cpu" and config.device not in available_devices():
        raise UserError(
            _("--device: {device!r} is not available here (have {available_devices})").format(
                device=config.device, available_devices=", ".join(available_devices())
            )
        )
    t0 = time.perf_counter()
    ds = _open_data(a.data, norm_size=norm, split_seed=config.split_seed, val_split=config.val_split)
    print(
        _("data: {data} (ready in {seconds:.1f} s)").format(data=ds.describe(), seconds=time.perf_counter() - t0),
        flush=True,
    )
    for s in ds.skipped[:5]:
        print(f"warning: {s}" if "skipped" in s or "leak" in s else f"warning: skipped {s}", file=sys.stderr)
    if resumed is None:
        return RunPlan(config, ds), None
    if resumed.classes != ds.classes or resumed.norm_size != ds.norm_size:
        raise UserError(_("{resume}: its classes/input size do not match {data}").format(resume=a.resume, data=a.data))
    _fingerprint_warning(resumed, ds, a.resume)
    resumed.network.config = config
    print(_("resuming {where}").format(where=resumed.history.where()), flush=True)
    return RunPlan(config, ds, resumed.network, resumed.history), resumed


def _save_recovery(a, model, epochs: int, exc: Exception) -> None:
    """A late failure must not take the trained weights with it: they go beside ``--out``."""
    from engine.checkpoint import save_checkpoint

    out = Path(a.out)
    recovery = out.with_name(out.stem + ".recovered" + (out.suffix or ".pt"))
    save_checkpoint(recovery, model)
    raise UserError(
        _("training failed ({kind}: {exc}); the weights after epoch {epochs} were saved to {recovery}").format(
            kind=type(exc).__name__, exc=exc, epochs=epochs, recovery=recovery
        )
    ) from None


def _save_after_failure(a, model, reason: str) -> None:
    from engine.checkpoint import save_checkpoint

    print(_("error: {reason}").format(reason=reason), file=sys.stderr)
    if a.out:
        out = Path(a.out)
        target = out if not out.exists() else out.with_name(out.stem + ".recovered" + (out.suffix or ".pt"))
        save_checkpoint(target, model)
        print(
            f"the last good weights were saved to {target}" + (f" ({out} was left as it was)" if target != out else ""),
            file=sys.stderr,
        )


def _final_line(a, last, val: dict) -> str:
    test = ""
    if last.test_acc is not None:
        test = f"test_loss={last.test_loss:.4f} test_acc={last.test_acc:.4f} "
    if last.best_test_acc is not None:
        test += f"best_val_epoch={last.best_epoch} test_acc_at_best_val={last.best_test_acc:.4f} "
    valtxt = " ".join(f"{k}={v:.4f}" for k, v in val.items())
    where = f"stopped_at=epoch{last.epoch}:step{last.step}/{last.steps_per_epoch} " if last.partial else ""
    return f"final: epochs={last.epochs_completed} {where}{test}{valtxt} time={last.elapsed:.1f}s" + (
        f" saved={a.out}" if a.out else ""
    )


def cmd_train(a) -> int:
    """Plan → start → record while printing → save: the one run lifecycle (engine.training.launch,
    engine.runs.record) as the sweep and the window use it."""
    from engine.checkpoint import save_checkpoint
    from engine.runs.record import Recording
    from engine.training.launch import start_run
    from engine.training.run import FailedEvent

    given = _overrides(a)
    if a.out:
        _check_writable(a.out)
    plan, _resumed = _train_plan(a, given)
    store = _open_store(a)
    run = start_run(plan)  # the user's own Functions: in a worker process of its own
    config, ds = run.config, run.dataset
    _print_hyperparameters(config, given)
    print(
        _("model: {value}, {optim}, lr {lr:g}, batch {batch}, engine {engine}").format(
            value=config.summary(ds.in_features, len(ds.classes)),
            optim=config.optim,
            lr=config.lr,
            batch=config.batch_size,
            engine=config.engine,
        ),
        flush=True,
    )
    val: dict = {}

    def stop_gently(_sig, _frame):  # first Ctrl+C: stop after this step, still save
        print(_("stopping after this step (Ctrl+C again to abort)"), file=sys.stderr, flush=True)
        run.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    held = []

    def hold(_sig, _frame):  # Ctrl+C while the trained model is being saved: saved first, then stop
        if not held:
            print(_("saving the trained model first; stopping when it is saved"), file=sys.stderr, flush=True)
        held.append(True)

    previous_handler = signal.signal(signal.SIGINT, stop_gently)
    try:
        with Recording(run, store, source="cli") as rec:
            said = rec.error  # said once: a store that refused the run at the start refuses it at the end too
            if said:
                print(_("warning: {message}").format(message=said), file=sys.stderr)
            try:
                last = _report(rec.events(), a, val)
            except Exception as exc:  # noqa: BLE001 - a late failure must not take the trained weights with it
                if a.out and run.history.epochs_completed >= 1:
                    _save_recovery(a, rec.model, run.history.epochs_completed, exc)
                raise
            signal.signal(signal.SIGINT, hold)  # training is over: what it made is not lost to a keypress
            if a.out and not isinstance(last, FailedEvent):
                save_checkpoint(a.out, rec.model)  # the model the user asked for first: the store's copy may fail
        if rec.error and rec.error != said:
            print(_("warning: {message}").format(message=rec.error), file=sys.stderr)
        if isinstance(last, FailedEvent):
            _save_after_failure(a, rec.model, last.reason)
            code = 1
        else:
            print(_final_line(a, last, val), flush=True)
            code = 0
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    if held:
        raise KeyboardInterrupt  # asked for while saving: everything is written, now stop
    return code


def _sweep_printer(a, sweep_ref: list):
    from engine.runs.sweep import TrialInfo

    def on_event(kind, payload):
        if kind == "storage":  # said even with --quiet: the sweep is waiting
            print(_("warning: {message}").format(message=payload), file=sys.stderr, flush=True)
            return
        if a.quiet or kind != "trial" or not isinstance(payload, TrialInfo) or payload.state == "running":
            return
        t, p = payload, sweep_ref[0].progress()
        done = t.finished_as or p.done  # this trial's own place: two finishing at once never share one
        acc = ""
        if t.val_acc is not None:
            acc = f"val {t.val_acc:.4f}" + (f" test {t.test_acc:.4f}" if t.test_acc is not None else "")
        elif t.test_acc is not None:
            acc = f"test {t.test_acc:.4f} (no validation split)"
        what = {"complete": acc, "pruned": f"pruned at epoch {t.epochs_done} ({acc})"}.get(t.state, t.reason)
        eta = f", ETA {format_duration(p.eta)}" if p.eta is not None and done < p.total else ""
        print(f"[{done}/{p.total}] {t.name}: {what} ({t.seconds:.1f} s{eta})", file=sys.stderr, flush=True)

    return on_event


def _run_sweep(a, study, spec, ds) -> int:
    from engine.runs.sweep import Sweep, format_table, per_epoch_table, results

    store = _open_store(a)
    ref: list = []
    sweep = Sweep(study, spec, ds, workers=a.workers, store=store, on_event=_sweep_printer(a, ref))
    ref.append(sweep)
    where = f"; runs recorded in {store.where}" if store else ""
    print(
        _(
            "sweep {name}: {trials} trials ({configurations} configurations × {n_seeds} seeds) "
            "on {workers} worker(s){where}"
        ).format(
            name=sweep.name,
            trials=spec.total_trials(),
            configurations=spec.configurations(),
            n_seeds=len(spec.seeds),
            workers=sweep.workers,
            where=where,
        ),
        file=sys.stderr,
        flush=True,
    )

    def cancel(_sig, _frame):
        print(_("cancelling: running trials stop now; finished ones are kept"), file=sys.stderr, flush=True)
        sweep.cancel()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, cancel)
    t = time.perf_counter()
    try:
        sweep.run()
    finally:
        signal.signal(signal.SIGINT, previous)
    if sweep.store_error:
        print(_("warning: {message}").format(message=sweep.store_error), file=sys.stderr)
    if sweep.storage_error:
        raise UserError(sweep.storage_error)
    if sweep.redone:
        redone = ", ".join(f"#{n}" for n in sweep.redone)
        print(
            _("redone: trial(s) {redone} left running by a sweep process that is gone").format(redone=redone),
            file=sys.stderr,
        )
    rows = results(study, spec)
    print(format_table(rows, spec, a.format, ci=getattr(a, "ci", False)), end="", flush=True)
    if getattr(a, "per_epoch", False):
        print(per_epoch_table(rows, spec), end="", flush=True)
    print(
        _("{n} trials in {duration}").format(n=len(sweep.trials), duration=format_duration(time.perf_counter() - t)),
        file=sys.stderr,
    )
    return 0 if any(r.val for r in rows) or not sweep.trials else 1


def cmd_sweep(a) -> int:
    from engine.checkpoint import dataset_record
    from engine.config import LAYOUT_PRESETS
    from engine.data.layouts import layout_of
    from engine.runs.sweep import build_spec, check_size, default_storage, open_study, parse_seeds

    if a.workers is not None and a.workers < 1:
        raise UserError(_("--workers: {workers} must be at least 1").format(workers=a.workers))
    cores = os.cpu_count() or 1
    if a.workers is not None and a.workers > cores and not a.force_workers:
        print(
            _(
                "note: --workers {workers} on {cores} cores: using {cores} (more only compete for the same cores and "
                "memory; --force-workers to insist)"
            ).format(workers=a.workers, cores=cores),
            file=sys.stderr,
        )
        a.workers = cores
    preset = a.preset or LAYOUT_PRESETS[layout_of(a.data)]
    spec = build_spec(
        preset, _overrides(a), a.grid, parse_seeds(a.seeds, a.max_trials), a.search, a.trials, a.minutes, a.prune
    )  # every value checked before anything runs
    check_size(spec, a.max_trials)
    ds = _open_data(
        a.data,
        norm_size=(a.norm_size, a.norm_size),
        split_seed=spec.base["split_seed"],
        val_split=spec.base["val_split"],
    )
    spec.dataset = {**dataset_record(ds), "norm_size": list(ds.norm_size)}
    name = a.study or time.strftime("sweep-%Y%m%d-%H%M%S")
    study, spec = open_study(a.storage or default_storage(), name, spec)
    return _run_sweep(a, study, spec, ds)


def cmd_sweep_worker(a) -> int:
    from engine.runs.sweep import check_fingerprint, open_study

    if a.workers is not None and a.workers < 1:
        raise UserError(_("--workers: {workers} must be at least 1").format(workers=a.workers))
    study, spec = open_study(a.storage, a.study)
    data = a.data or spec.dataset.get("path") or "builtin"
    norm = tuple(spec.dataset.get("norm_size") or (32, 32))
    ds = _open_data(data, norm_size=norm, split_seed=spec.base["split_seed"], val_split=spec.base["val_split"])
    check_fingerprint(spec, ds)
    return _run_sweep(a, study, spec, ds)


def cmd_test(a) -> int:
    from engine.checkpoint import load_checkpoint
    from engine.predict import predict_arrays, recorded_data

    model = load_checkpoint(a.checkpoint, act=a.act)
    for note in model.notes:
        print(_("note: {note}").format(note=note), file=sys.stderr)
    ds, warning = recorded_data(model, a.data, a.checkpoint)
    if warning:
        print(_("warning: {message}").format(message=warning), file=sys.stderr)
    split = ds.split(a.split)
    if len(split) == 0:
        raise UserError(_("{source}: the {split} split is empty").format(source=ds.source, split=a.split))
    probs = predict_arrays(model, split.x)
    acc = float((probs.argmax(1) == split.y).mean())
    how = "fixed split" if ds.fixed_split else f"split seed {ds.split_seed}, val split {ds.val_split:g}"
    print(_("{n} images in {split} ({how})").format(n=len(split), split=a.split, how=how))
    print(f"accuracy={acc:.4f}")
    return 0


def cmd_predict(a) -> int:
    from engine.checkpoint import load_checkpoint
    from engine.predict import classify_files

    model = load_checkpoint(a.checkpoint, act=a.act)
    for note in model.notes:
        print(_("note: {note}").format(note=note), file=sys.stderr)
    failed = 0
    for r in classify_files(model, a.images, topk=max(1, a.topk)):
        if r.error:
            failed += 1
            print(f"error: {escape_field(r.error)}", file=sys.stderr)
        else:
            extra = "".join(f"\t{lab}\t{p:.4f}" for lab, p in r.top[1 : a.topk])
            print(f"{escape_field(r.path)}\t{escape_field(r.label)}\t{r.probability:.4f}{extra}")
    return 2 if failed else 0


def cmd_export(a) -> int:
    from engine.checkpoint import load_checkpoint
    from engine.export import export_onnx

    model = load_checkpoint(a.checkpoint, act=a.act)
    for note in model.notes:
        print(_("note: {note}").format(note=note), file=sys.stderr)
    out = export_onnx(model, a.onnx)
    w, h = model.norm_size
    print(
        _(
            "wrote {out}: input pixels [N, 1, {h}, {w}] float32 in 0–255 (normalised inside), outputs logits and "
            "probabilities over {n_classes} classes"
        ).format(out=out, h=h, w=w, n_classes=len(model.classes))
    )
    return 0


def escape_field(text: str) -> str:
    """A TSV field on one line: backslash, tab, newline and carriage return escaped as \\\\ \\t \\n \\r."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def cmd_cache(a) -> int:
    from engine.data import cache

    if a.action == "clear":
        print(_("removed {n} file(s) from {folder}").format(n=cache.clear(), folder=cache.cache_dir()))
    else:
        n, size = cache.info()
        cap = cache.cache_cap() / 1024**2
        print(
            _("{folder}: {n} dataset(s), {mib:.1f} MiB (cap {cap:.0f} MiB)").format(
                folder=cache.cache_dir(), n=n, mib=size / 1024**2, cap=cap
            )
        )
    return 0


def cmd_gradcheck(a) -> int:
    from engine.inspect.gradcheck import format_table, run_all

    results = run_all()
    print(format_table(results))
    return 0 if all(r.passed for r in results) else 1


def _check_reduction(a) -> str:
    """The loss-gradient convention a check expects: --reduction, else the preset's (the
    letters-course preset's backward omits the 1/N), else mean."""
    from engine.config import LOSS_REDUCTIONS, PRESETS

    if a.reduction:
        if a.reduction not in LOSS_REDUCTIONS:
            raise UserError(
                _("--reduction {reduction}: choose one of {loss_reductions}").format(
                    reduction=a.reduction, loss_reductions=", ".join(LOSS_REDUCTIONS)
                )
            )
        return a.reduction
    if a.preset:
        return PRESETS[a.preset]["loss_reduction"]
    return "mean"


def _chosen_rows(store, a) -> list:
    """The runs a ``runs`` command is about: the ids given (in their order), else the filters'."""
    from engine.runs.tables import choose_runs

    if a.action in ("show", "compare") or a.ids:
        rows = store.runs(ids=a.ids) if a.ids else []
        missing = sorted(set(a.ids) - {r.id for r in rows})
        if missing:
            raise UserError(_("run {ids}: not in {store}").format(ids=", ".join(map(str, missing)), store=store.where))
        rows.sort(key=lambda r: a.ids.index(r.id))
    else:
        rows = store.runs(sweep=a.sweep)
    try:
        return choose_runs(rows, a.tag, a.sweep, a.status, a.where)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _show_run(rows: list, fmt: str) -> str:
    """``runs show``: one run's settings, results, checkpoint and function files (or its JSON)."""
    import dataclasses
    import json

    if len(rows) != 1:
        raise UserError(_("runs show: give one run id"))
    r = rows[0]
    if fmt == "json":
        return json.dumps(dataclasses.asdict(r), indent=2, default=str, ensure_ascii=False) + "\n"
    lines = [f"#{r.id} {r.name} ({r.status}, {r.source}, {r.dataset_name})"]
    lines += [f"  {k} = {v}" for k, v in sorted(r.config.items())]
    lines += [f"  {k}: {getattr(r, k)}" for k in ("epochs_done", "val_acc", "best_val_acc", "test_acc")]
    lines += [f"  checkpoint: {r.final_checkpoint or '–'}"]
    for f in r.versions.get("functions", []):
        lines.append(f"  your functions: {f.get('file')} (sha256 {f.get('sha256', '?')}, copy {f.get('copy', '–')})")
    return "\n".join(lines) + "\n"


def cmd_runs(a) -> int:
    import dataclasses
    import json

    from engine.runs.store import RunStore, StoreError
    from engine.runs.tables import compare_runs, curves_long_csv, format_runs

    try:
        store = RunStore(a.runs_db)
    except StoreError as exc:
        raise UserError(str(exc)) from None
    if a.action in ("prune", "import"):
        try:
            return _prune(store, a) if a.action == "prune" else _import(store, a)
        finally:
            store.close()
    try:
        rows = _chosen_rows(store, a)
        fmt = "text" if a.format == "table" else a.format
        if a.action == "show":
            text = _show_run(rows, fmt)
        elif a.action == "compare":
            if len(rows) < 2:
                raise UserError(_("runs compare: give two or more run ids"))
            text = compare_runs(rows, "text" if fmt == "json" else fmt)
        elif a.tensorboard:
            from engine.runs.tensorboard import export_tensorboard

            written = export_tensorboard(store, rows, a.tensorboard)
            text = "".join(f"{p}\n" for p in written)
            print(
                _("{n} run(s) → {tensorboard} (tensorboard --logdir {tensorboard})").format(
                    n=len(written), tensorboard=a.tensorboard
                ),
                file=sys.stderr,
            )
        elif a.curves:
            text = curves_long_csv(store, rows)
        elif fmt == "json":
            text = json.dumps([dataclasses.asdict(r) for r in rows], indent=2, default=str, ensure_ascii=False) + "\n"
        else:
            text = format_runs(rows, fmt)
    finally:
        store.close()
    if a.out:
        try:
            Path(a.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"--out {a.out}: {exc.strerror or exc}") from None
        print(_("{n} run(s) → {out}").format(n=len(rows), out=a.out), file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _import(store, a) -> int:
    import json

    from engine.runs.importer import import_run

    if not a.source:
        raise UserError(_("runs import: give the file with --from FILE"))
    settings = {}
    for item in a.settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(_("--set {item!r}: expected KEY=VALUE, e.g. lr=0.1").format(item=item))
        try:
            settings[key.strip()] = json.loads(value)
        except ValueError:
            settings[key.strip()] = value
    run_id, n = import_run(store, a.source, a.name or "", settings, a.dataset or "")
    print(
        _("imported {source} as run #{run_id} ({n} epoch(s)) in {store}").format(
            source=a.source, run_id=run_id, n=n, store=store.where
        ),
        file=sys.stderr,
    )
    return 0


def _prune(store, a) -> int:
    keep, dry_run = a.keep, a.dry_run
    if keep < 0:
        raise UserError(_("--keep: {keep} must be 0 or more").format(keep=keep))
    if a.no_cap:
        store.set_checkpoint_cap(None)
        print(
            _("no checkpoint cap: every run keeps its checkpoints in {store}").format(store=store.where),
            file=sys.stderr,
        )
        return 0
    if a.always and not dry_run:
        store.set_checkpoint_cap(keep)
        print(
            _(
                "checkpoint cap: after every run, only the {keep} most recent runs (and tagged ones) keep their "
                "checkpoint files in {store}; `runs prune --no-cap` removes it"
            ).format(keep=keep, store=store.where),
            file=sys.stderr,
        )
    files, size, runs = store.prune_checkpoints(keep, dry_run)
    for f in files:
        print(f)
    verb = _("would delete") if dry_run else _("deleted")
    print(
        _(
            "{verb} {n_files} checkpoint file(s) of {runs} run(s), {mb:.1f} MB (kept: the {keep} most recent "
            "runs and every tagged run) in {store}"
        ).format(verb=verb, n_files=len(files), runs=runs, mb=size / 1e6, keep=keep, store=store.where),
        file=sys.stderr,
    )
    return 0


def cmd_check_class(a) -> int:
    import threading

    from engine.inspect.gradebook import check_class, load_rubric

    if not a.out:
        raise UserError(_("check --class: say where the gradebook goes with --out FOLDER"))
    if a.files:
        raise UserError(_("check --class: give the submissions folder only (no files)"))
    workers = a.workers or os.cpu_count() or 1
    cancel = threading.Event()

    def progress(done, total, g, eta):
        what = g.error or f"{g.score:g}/{g.max_score:g}" + (f", {len(g.diagnoses)} mistake(s)" if g.diagnoses else "")
        left = f", ETA {format_duration(eta)}" if done < total else ""
        print(
            _("[{done}/{total}] {student}: {what} ({seconds:.1f} s{left})").format(
                done=done, total=total, student=g.student, what=what, seconds=g.seconds, left=left
            ),
            file=sys.stderr,
            flush=True,
        )

    def stop(_sig, _frame):
        print(_("stopping: the submissions checked so far are kept; a rerun checks the rest"), file=sys.stderr)
        cancel.set()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous = signal.signal(signal.SIGINT, stop)
    t = time.perf_counter()
    try:
        grades = check_class(
            a.class_dir,
            a.out,
            workers,
            _check_reduction(a),
            a.time_limit,
            progress=progress,
            cancel=cancel,
            rubric=load_rubric(a.rubric),
        )
    finally:
        signal.signal(signal.SIGINT, previous)
    clean = sum(not g.diagnoses and not g.error for g in grades)
    print(
        _(
            "{n_grades} submissions ({clean} with no mistake) in {duration}: {gradebook}, summary.txt, "
            "class.json, gradescope/"
        ).format(
            n_grades=len(grades),
            clean=clean,
            duration=format_duration(time.perf_counter() - t),
            gradebook=Path(a.out) / "gradebook.csv",
        )
    )
    return 0


def cmd_check(a) -> int:
    from engine.inspect.functions import format_report
    from engine.inspect.sandbox import SandboxError
    from engine.inspect.sandboxed import check_in_sandbox

    if a.class_dir:
        return cmd_check_class(a)
    files, roles = _check_inputs(a)
    try:
        res, output = check_in_sandbox(files, roles, a.act, _check_reduction(a), time_limit=a.time_limit)
    except SandboxError as exc:
        print(f"{', '.join(Path(f).name for f in files)}: {exc}", file=sys.stderr)
        if exc.output.strip():
            print(_("its last output:") + "\n" + exc.output.strip()[-800:], file=sys.stderr)
        return 1
    if not res.ops:
        print(
            _("{files}: no torch.autograd.Function subclasses or classes with forward and backward found").format(
                files=", ".join(Path(f).name for f in files)
            ),
            file=sys.stderr,
        )
        return 1
    print(format_report(res))
    ok = res.passed and not (a.strict and res.warnings)
    if res.passed and not ok:
        print(_("--strict: the warnings count as failures"))
    if a.race:
        ok = _race(a, files, roles, res.mlp.act or "relu") and ok
    return 0 if ok else 1


def _check_inputs(a) -> tuple[list[str], dict]:
    """``check``'s files (existing .py files, made absolute) and ``--role`` overrides, each checked."""
    from engine.model.userops import ROLES, parse_roles

    if not a.files:
        raise UserError(_("check: give your modules (FILE.py …), or --class SUBMISSIONS --out FOLDER"))
    files = []
    for f in a.files:
        p = Path(f)
        if not p.is_file():
            raise UserError(_("{f}: no such file").format(f=f))
        if p.suffix != ".py":
            raise UserError(_("{f}: not a Python file (.py)").format(f=f))
        files.append(str(p.resolve()))
    roles = parse_roles(",".join(a.role))
    for name, role in roles.items():
        if role not in ROLES:
            raise UserError(
                _("--role {name}={role}: unknown role; choose one of {roles}").format(
                    name=name, role=role, roles=", ".join(ROLES)
                )
            )
    return files, roles


def _race(a, files: list[str], roles: dict, act: str) -> bool:
    """``check --race``: their Functions against the reference, step by step on the data; True if
    they agree at every step."""
    from engine.data.images import normalize
    from engine.inspect.functions import format_race
    from engine.inspect.sandbox import SandboxError
    from engine.inspect.sandboxed import race_in_sandbox

    ds = _open_data(a.data)
    try:
        race = race_in_sandbox(
            files,
            roles,
            act,
            normalize(ds.train.x[:2000]),
            ds.train.y[:2000],
            [32],
            a.steps,
            time_limit=a.time_limit,
        )
    except SandboxError as exc:
        print(f"race: {exc}", file=sys.stderr)
        return False
    print(format_race(race))
    return not race.error and race.first_difference is None


def cmd_explain(a) -> int:
    from engine.checkpoint import load_checkpoint
    from engine.data.images import load_image, normalize
    from engine.inspect.explain import apply_update, explain, format_explanation

    model = load_checkpoint(a.checkpoint, act=a.act)
    x = normalize(load_image(a.image, model.norm_size)[None], model.config)[0].reshape(-1)
    weights = model.network.weights()
    if a.label is None:  # the predicted class
        from engine.inspect.embed import layer_outputs

        label = int(layer_outputs(weights, model.config.act, x[None])[0].argmax())
    else:
        wanted = a.label.strip()
        matches = [i for i, c in enumerate(model.classes) if c.lower() == wanted.lower()]
        if not matches:
            raise UserError(
                _("--label {label}: not a class of this model ({classes})").format(
                    label=a.label, classes=", ".join(model.classes[:30])
                )
            )
        label = matches[0]
    ex = explain(weights, model.config.act, x, label)
    print(format_explanation(ex, model.classes))
    before, after = apply_update(weights, model.config.act, x, label, a.lr)
    print(
        _("apply this update (SGD, lr {lr:g}, this image alone): loss {before:.4f} → {after:.4f}").format(
            lr=a.lr, before=before, after=after
        )
    )
    return 0 if ex.all_checked else 1


def cmd_embed(a) -> int:
    from engine.checkpoint import load_checkpoint
    from engine.data.images import normalize
    from engine.inspect.embed import embed_split, layer_outputs, points_csv

    model = load_checkpoint(a.checkpoint, act=a.act)
    ds = _open_data(
        a.data, norm_size=model.norm_size, split_seed=model.config.split_seed, val_split=model.config.val_split
    )
    if ds.classes != model.classes:
        raise UserError(_("{data}: its classes differ from the model's").format(data=a.data))
    split = ds.split(a.split)
    if not len(split):
        raise UserError(_("{data}: the {split} split is empty").format(data=a.data, split=a.split))
    n = min(len(split), max(1, a.limit))
    hidden = len(model.config.hidden)
    if a.layer is not None and not 1 <= a.layer <= hidden:
        raise UserError(
            _("--layer {layer}: this model has hidden layers 1 to {hidden}").format(layer=a.layer, hidden=hidden)
        )

    def progress(done, total):
        print(f"t-SNE {done}/{total}", file=sys.stderr, flush=True)

    kw = {"progress": progress} if a.method == "tsne" else {}
    weights, act = model.network.weights(), model.config.act
    pts = embed_split(weights, act, split.x[:n], a.method, a.layer, model.config, **kw)
    pred = layer_outputs(weights, act, normalize(split.x[:n], model.config)).argmax(1)
    text = points_csv(pts, split.y[:n], pred, model.classes)
    if not a.out:
        sys.stdout.write(text)
    else:
        try:
            Path(a.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UserError(f"--out {a.out}: {exc.strerror or exc}") from None
        print(
            _("{n} points ({method}, {value}) → {out}").format(
                n=n, method=a.method, value="logits" if a.layer is None else f"hidden layer {a.layer}", out=a.out
            )
        )
    return 0


def main(argv: list[str]) -> int:
    try:
        a = build_parser().parse_args(argv)
        return {
            "train": cmd_train,
            "test": cmd_test,
            "predict": cmd_predict,
            "gradcheck": cmd_gradcheck,
            "check": cmd_check,
            "explain": cmd_explain,
            "embed": cmd_embed,
            "cache": cmd_cache,
            "export": cmd_export,
            "sweep": cmd_sweep,
            "sweep-worker": cmd_sweep_worker,
            "runs": cmd_runs,
        }[a.command](a)
    except UserError as exc:
        print(f"error: {escape_field(str(exc))}", file=sys.stderr)
        return 2
    except MemoryError:
        print(_("error: out of memory: the data or network is too large for this machine"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_("interrupted"), file=sys.stderr)
        return 130
