"""The headless command line: ``train``, ``test``, ``predict``, ``gradcheck`` (DESIGN.md).

User mistakes print one line ``error: <file or value>: <problem>`` and exit 2.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time

from engine.config import TrainConfig, parse_hidden_sizes
from engine.errors import UserError
from engine.training import format_duration


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for every user error
        raise UserError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="main.py", description="Backprop Studio: MLPs with hand-written gradients.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    d = TrainConfig()
    t = sub.add_parser("train", help="train a model")
    t.add_argument("--data", default="builtin", help="dataset folder (default: the built-in letters)")
    t.add_argument("--hsize", "--hidden", dest="hidden", default=",".join(map(str, d.hidden)),
                   help="hidden sizes, e.g. 64 or 128,64")
    t.add_argument("--layer", "--layers", dest="layers", type=int, default=None,
                   help="number of linear layers (course alias: repeats a single --hsize)")
    t.add_argument("--act", default=d.act)
    t.add_argument("--optim", "--optim_type", dest="optim", default=d.optim)
    t.add_argument("--lr", type=float, default=d.lr)
    t.add_argument("--momentum", type=float, default=d.momentum)
    t.add_argument("--weight-decay", "--weight_decay", dest="weight_decay", type=float, default=d.weight_decay)
    t.add_argument("--batch-size", "--batchsize", dest="batch_size", type=int, default=d.batch_size)
    t.add_argument("--epochs", "--epoch", dest="epochs", type=int, default=d.epochs)
    t.add_argument("--val-interval", "--valInterval", dest="val_interval", type=int, default=d.val_interval)
    t.add_argument("--engine", default=d.engine, choices=["torch", "numpy"])
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument("--device", default=d.device)
    t.add_argument("--norm-size", type=int, default=32, help="input side for image folders (default 32)")
    t.add_argument("--out", help="write the checkpoint here")
    t.add_argument("--resume", help="continue training from this checkpoint")
    t.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    e = sub.add_parser("test", help="evaluate a checkpoint on a dataset split")
    e.add_argument("--checkpoint", required=True)
    e.add_argument("--data", default="builtin")
    e.add_argument("--split", default="test")
    pr = sub.add_parser("predict", help="classify image files")
    pr.add_argument("--checkpoint", required=True)
    pr.add_argument("--topk", type=int, default=1)
    pr.add_argument("images", nargs="+")
    sub.add_parser("gradcheck", help="check every hand-written backward numerically")
    return p


def _config_from_args(a) -> TrainConfig:
    hidden = parse_hidden_sizes(a.hidden)
    if a.layers is not None:
        if a.layers < 1:
            raise UserError(f"--layer: {a.layers} must be at least 1")
        if len(hidden) == 1:
            hidden = hidden * (a.layers - 1) or []
        elif len(hidden) != a.layers - 1:
            raise UserError(f"--layer {a.layers} needs {a.layers - 1} hidden sizes, got {len(hidden)}")
        if not hidden:
            raise UserError("--layer: at least 2 (one hidden layer) is needed")
    return TrainConfig(hidden=hidden, act=a.act, optim=a.optim, lr=a.lr, momentum=a.momentum,
                       weight_decay=a.weight_decay, batch_size=a.batch_size, epochs=a.epochs,
                       val_interval=a.val_interval, engine=a.engine, seed=a.seed, device=a.device).validate()


def _report(run, a, val: dict):
    """Consume the run, printing a line per epoch (and validation); returns the final event."""
    from engine.training import EpochEvent, EvalEvent, FailedEvent, FinishedEvent

    last = None
    for ev in run.events():
        if isinstance(ev, EvalEvent):
            val.update(val_loss=ev.val_loss, val_acc=ev.val_acc)
            if not a.quiet:
                print(f"  val_loss {ev.val_loss:.4f}  val_acc {ev.val_acc:.4f}  "
                      f"(best {ev.best_val_acc:.4f} @ epoch {ev.best_epoch})", flush=True)
        elif isinstance(ev, EpochEvent) and not a.quiet:
            print(f"epoch {ev.epoch}/{ev.epochs}  loss {ev.train_loss:.4f}  acc {ev.train_acc:.4f}  "
                  f"elapsed {format_duration(ev.elapsed)}  ETA {format_duration(ev.eta)}", flush=True)
        elif isinstance(ev, (FinishedEvent, FailedEvent)):
            last = ev
    return last


def cmd_train(a) -> int:
    from engine.checkpoint import Model, load_checkpoint, save_checkpoint
    from engine.data import open_dataset
    from engine.training import FailedEvent, TrainingRun

    config = _config_from_args(a)
    if config.device != "cpu":
        from engine.config import available_devices

        if config.device not in available_devices():
            raise UserError(f"--device: {config.device!r} is not available here "
                            f"(have {', '.join(available_devices())})")
    resumed = load_checkpoint(a.resume, config.device) if a.resume else None
    norm = resumed.norm_size if resumed else (a.norm_size, a.norm_size)
    t0 = time.perf_counter()
    ds = open_dataset(a.data, norm_size=norm, seed=config.seed)
    print(f"data: {ds.describe()} (ready in {time.perf_counter() - t0:.1f} s)", flush=True)
    for s in ds.skipped[:5]:
        print(f"warning: skipped {s}", file=sys.stderr)
    if resumed:
        if resumed.classes != ds.classes or resumed.norm_size != ds.norm_size:
            raise UserError(f"{a.resume}: its classes/input size do not match {a.data}")
        config = resumed.config.__class__(**{**resumed.config.to_dict(), "epochs": config.epochs})
        run = TrainingRun(config, ds, resumed.network, resumed.history)
    else:
        run = TrainingRun(config, ds)
    print(f"model: {config.summary(ds.in_features, len(ds.classes))}, {config.optim}, "
          f"lr {config.lr:g}, batch {config.batch_size}, engine {config.engine}", flush=True)
    val: dict = {}

    def stop_gently(_sig, _frame):  # first Ctrl+C: stop after this step, still save
        print("stopping after this step (Ctrl+C again to abort)", file=sys.stderr, flush=True)
        run.stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    previous_handler = signal.signal(signal.SIGINT, stop_gently)
    try:
        last = _report(run, a, val)
    finally:
        signal.signal(signal.SIGINT, previous_handler)
    model = Model(run.network, ds.classes, ds.norm_size, config, run.history, dataset_name=ds.name)
    if a.out:
        save_checkpoint(a.out, model)
    if isinstance(last, FailedEvent):
        print(f"error: {last.reason}", file=sys.stderr)
        return 1
    test = ""
    if last.test_acc is not None:
        test = f"test_loss={last.test_loss:.4f} test_acc={last.test_acc:.4f} "
    if last.best_test_acc is not None:
        test += f"best_val_epoch={last.best_epoch} test_acc_at_best_val={last.best_test_acc:.4f} "
    valtxt = " ".join(f"{k}={v:.4f}" for k, v in val.items())
    print(f"final: epochs={last.epoch} {test}{valtxt} time={last.elapsed:.1f}s"
          + (f" saved={a.out}" if a.out else ""), flush=True)
    return 0


def cmd_test(a) -> int:
    from engine.checkpoint import load_checkpoint
    from engine.data import open_dataset
    from engine.predict import predict_arrays

    model = load_checkpoint(a.checkpoint)
    ds = open_dataset(a.data, norm_size=model.norm_size)
    if ds.norm_size != model.norm_size:
        raise UserError(f"{a.data}: images are {ds.norm_size}, the model expects {model.norm_size}")
    if len(ds.classes) != len(model.classes):
        raise UserError(f"{a.data}: {len(ds.classes)} classes, the model has {len(model.classes)}")
    split = ds.split(a.split)
    if len(split) == 0:
        raise UserError(f"{a.data}: the {a.split} split is empty")
    probs = predict_arrays(model, split.x)
    acc = float((probs.argmax(1) == split.y).mean())
    print(f"{len(split)} images in {a.split}")
    print(f"accuracy={acc:.4f}")
    return 0


def cmd_predict(a) -> int:
    from engine.checkpoint import load_checkpoint
    from engine.predict import classify_files

    model = load_checkpoint(a.checkpoint)
    failed = 0
    for r in classify_files(model, a.images, topk=max(1, a.topk)):
        if r.error:
            failed += 1
            print(f"error: {r.error}", file=sys.stderr)
        else:
            extra = "".join(f"\t{lab}\t{p:.4f}" for lab, p in r.top[1 : a.topk])
            print(f"{r.path}\t{r.label}\t{r.probability:.4f}{extra}")
    return 2 if failed else 0


def cmd_gradcheck(a) -> int:
    from engine.gradcheck import format_table, run_all

    results = run_all()
    print(format_table(results))
    return 0 if all(r.passed for r in results) else 1


def main(argv: list[str]) -> int:
    try:
        a = build_parser().parse_args(argv)
        return {"train": cmd_train, "test": cmd_test, "predict": cmd_predict,
                "gradcheck": cmd_gradcheck}[a.command](a)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
