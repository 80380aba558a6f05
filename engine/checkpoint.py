"""Checkpoints in the course's format (``state_dict`` + ``configs``) with our extras.

Loading never runs code and never trusts the file: ``torch.load(weights_only=True)`` refuses
pickled objects; only regular files of bounded size are opened; a zip archive's declared
sizes are bounded and its CRCs verified before torch reads it; every key is checked against
the schema below (one message naming the key); the parameter budget is checked from the
configs and from the tensors' shapes before anything is materialised. A course checkpoint
with only a ``state_dict`` loads with its sizes inferred from the tensors.

Saving is atomic: a temporary file in the same folder (normal permissions), flushed and
fsync'd, then ``os.replace`` and an fsync of the folder; any failure (including a full disk,
which torch reports as ``RuntimeError``, and Ctrl+C) leaves the old file and no temporary file.

torch is imported by the functions that need it, not with this module (the window imports it
and shows without waiting for torch).
"""

from __future__ import annotations

import math
import os
import pickle
import re
import tempfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.config import ACTIVATIONS, MAX_PARAMETERS, TrainConfig, check_parameter_budget
from engine.data.dataset import DIGITS, LETTERS
from engine.data.files import regular_file
from engine.data.layouts import MAX_NORM_SIDE
from engine.errors import UserError
from engine.i18n import N_, _
from engine.model.build import build_network
from engine.model.network import Network, state_dict_keys
from engine.training.history import History
from engine.training.processes import make_ordinary_file

FORMAT_VERSION = 2  # 2: adam means torch.optim.Adam (1 meant AdamW), split and position recorded
PREPROCESSING = {"grayscale": True, "exif_transpose": True, "resize": "bilinear", "scale": "(x/255 - 0.5) / 0.5"}
MAX_FILE_BYTES = MAX_PARAMETERS * 4 * 4 + 256 * 1024**2  # weights + optimizer buffers + history, generously
MAX_CLASSES = 100_000
MAX_LAYERS = 64


@dataclass
class Model:
    """A trained network with what it needs to classify and to be reproduced."""

    network: Network
    classes: list[str]
    norm_size: tuple[int, int]
    config: TrainConfig
    history: History = field(default_factory=History)
    optimizer_state: dict | None = None
    dataset_name: str = ""
    dataset: dict = field(default_factory=dict)  # path, layout, fingerprint, split_seed, val_split
    notes: list[str] = field(default_factory=list)  # what loading had to assume (shown to the user)
    name: str = ""  # the run's name (the user's, or made from its settings)

    @classmethod
    def for_run(cls, run, name: str = "") -> Model:
        """The model a run (or a prepared :class:`~engine.training.launch.RunPlan`) trains: its
        network, history and config, and the record of its dataset."""
        ds = run.dataset
        return cls(
            run.network,
            list(ds.classes),
            ds.norm_size,
            run.config,
            run.history,
            dataset_name=ds.name,
            dataset=dataset_record(ds),
            name=name or run.config.auto_name(),
        )

    def configs(self) -> dict:
        c = self.config
        return {
            "norm_size": tuple(self.norm_size),
            "output_size": len(self.classes),
            "hidden_size": list(c.hidden),
            "n_layers": len(c.hidden) + 1,
            "act_type": c.act,
        }


def dataset_record(ds) -> dict:
    """What a checkpoint or run records of its dataset: enough to rebuild the exact split."""
    return {
        "name": ds.name,
        "path": ds.source,
        "layout": ds.layout,
        "fingerprint": ds.fingerprint,
        "split_seed": ds.split_seed,
        "val_split": ds.val_split,
        "fixed_split": ds.fixed_split,
    }


def preprocessing(config: TrainConfig, norm_size) -> dict:
    """How an image becomes this model's input, in words a reader of the file understands."""
    scale = {
        "minus-one-one": "(x/255 - 0.5) / 0.5",
        "zero-one": "x/255",
        "standardize": f"(x/255 - {config.input_mean:g}) / {config.input_std:g}",
    }[config.input_norm]
    return {**PREPROCESSING, "scale": scale, "norm_size": tuple(norm_size), "bias": bool(config.bias)}


def save_checkpoint(path: str | os.PathLike, model: Model) -> None:
    """Write ``model`` to ``path`` atomically; a :class:`UserError` naming the file on any failure."""
    import torch

    path = Path(path)
    hist = model.history.to_dict()
    hist["step_loss"] = torch.tensor(hist["step_loss"], dtype=torch.float32)
    payload = {
        "state_dict": model.network.state_dict(),
        "configs": model.configs(),
        "format_version": FORMAT_VERSION,
        "class_names": list(model.classes),
        "preprocessing": preprocessing(model.config, model.norm_size),
        "hyperparameters": model.config.to_dict(),
        "history": hist,
        "optimizer_state": model.network.optimizer_state(),
        "dataset": model.dataset_name,
        "dataset_record": dict(model.dataset),
        "run_name": model.name,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temps(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise UserError(
            _("{path}: cannot write here ({reason})").format(path=path, reason=exc.strerror or exc)
        ) from None
    try:
        make_ordinary_file(fd, tmp)  # mkstemp makes 0600; a checkpoint is an ordinary file
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:  # disk full (torch: RuntimeError), permission, Ctrl+C: no temp file left
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc.__context__, KeyboardInterrupt):  # torch's writer turns Ctrl+C into an I/O error
            raise KeyboardInterrupt from None
        if isinstance(exc, (OSError, RuntimeError)):
            reason = getattr(exc, "strerror", None) or (
                "the disk is full or the write failed" if isinstance(exc, RuntimeError) else str(exc)
            )
            raise UserError(
                _("{path}: could not save ({reason}); the previous file is unchanged").format(path=path, reason=reason)
            ) from None
        raise
    _fsync_dir(path.parent)


def _remove_stale_temps(path: Path) -> None:
    """Temporary files of earlier saves of ``path`` whose writer was killed mid-write (a kill -9
    runs no cleanup: 46–84 MB each were left hidden beside the checkpoint): named by the writer's
    pid, removed when that process is gone."""
    from engine.training.processes import pid_alive

    prefix = f".{path.name}."
    try:
        names = os.listdir(path.parent)
    except OSError:
        return
    for name in names:
        if not (name.startswith(prefix) and name.endswith(".tmp")):
            continue
        pid = name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            try:
                os.unlink(path.parent / name)
            except OSError:
                pass


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _default_classes(n: int) -> list[str]:
    if n == 26:
        return list(LETTERS)
    if n == 10:
        return list(DIGITS)
    return [str(i) for i in range(n)]


def _check_archive(name: str) -> None:
    """Bound a zip checkpoint's declared sizes, then verify every record's CRC (reading at most those sizes)."""
    if not zipfile.is_zipfile(name):
        return  # torch's legacy format: bounded by the file size already
    try:
        with zipfile.ZipFile(name) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_FILE_BYTES or len(infos) > 100_000:
                raise UserError(
                    _(
                        "{name}: its records would unpack to {total:,} bytes (at most {max_file_bytes:,}); refusing "
                        "to read it"
                    ).format(name=name, total=total, max_file_bytes=MAX_FILE_BYTES)
                )
            bad = zf.testzip()
    except UserError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError):
        raise UserError(
            _("{name}: the file is damaged (its archive cannot be read); use another copy or retrain").format(name=name)
        ) from None
    if bad is not None:
        raise UserError(
            _("{name}: the file is damaged (checksum mismatch in {bad}); use another copy or retrain").format(
                name=name, bad=bad
            )
        )


def _read(name: str):
    import torch

    regular_file(name, N_("checkpoint"))
    size = os.stat(name).st_size
    if size > MAX_FILE_BYTES:
        raise UserError(
            _("{name}: {size:,} bytes is larger than any checkpoint this app writes").format(name=name, size=size)
        )
    if size == 0:
        raise UserError(_("{name}: the file is empty").format(name=name))
    _check_archive(name)
    with open(name, "rb") as fh:
        head = fh.read(2)
    if not zipfile.is_zipfile(name) and head[:1] != b"\x80":  # neither torch's zip nor a pickle
        raise UserError(
            _("{name}: not a checkpoint (no PyTorch tensor data in it; nothing from it was run)").format(name=name)
        )
    try:
        with warnings.catch_warnings():  # torch warns about unusual pickle protocols; we report instead
            warnings.simplefilter("ignore", UserWarning)
            return torch.load(name, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        glob = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if glob:
            raise UserError(
                _(
                    "{name}: refused: the file holds Python code or objects ({found}), not plain weights; "
                    "nothing from it was run"
                ).format(name=name, found=glob.group(1))
            ) from None
        if "WeightsUnpickler" in str(exc) or "Unsupported" in str(exc):
            raise UserError(
                _(
                    "{name}: refused: the file holds Python code or objects, or pickle data this app does not read, "
                    "not plain weights; nothing from it was run"
                ).format(name=name)
            ) from None
        raise UserError(
            _("{name}: not a checkpoint (no PyTorch tensor data in it; nothing from it was run)").format(name=name)
        ) from None
    except (MemoryError, RecursionError):
        raise UserError(
            _("{name}: refused: its contents are nested or repeated beyond what a checkpoint holds").format(name=name)
        ) from None
    except (RuntimeError, EOFError, ValueError, OSError, KeyError, AttributeError, TypeError, IndexError):
        raise UserError(
            _(
                "{name}: not a checkpoint, or a damaged or cut-short one (PyTorch could not read it); use another "
                "copy or retrain"
            ).format(name=name)
        ) from None


def _int(value, key: str, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or int(value) != value
        or not low <= int(value) <= high
    ):
        raise UserError(
            _("'{key}': {value!r} must be a whole number from {low} to {high}").format(
                key=key, value=value, low=low, high=high
            )
        )
    return int(value)


def _sizes_from_configs(cfg: dict) -> tuple[list[int], tuple[int, int], int, str]:
    if not isinstance(cfg, dict):
        raise UserError(_("'configs' must be a dictionary"))
    for k in ("norm_size", "output_size", "hidden_size"):
        if k not in cfg:
            raise UserError(_("'configs' lacks {k!r}").format(k=k))
    ns = cfg["norm_size"]
    if not isinstance(ns, (list, tuple)) or len(ns) != 2:
        raise UserError(_("'configs.norm_size': {ns!r} must be (width, height)").format(ns=ns))
    norm = tuple(_int(v, "configs.norm_size", 1, MAX_NORM_SIDE) for v in ns)
    n_out = _int(cfg["output_size"], "configs.output_size", 2, MAX_CLASSES)
    hs = cfg["hidden_size"]
    if isinstance(hs, (list, tuple)):
        if not 1 <= len(hs) <= MAX_LAYERS:
            raise UserError(
                _("'configs.hidden_size': {n_hs} entries (1 to {max_layers})").format(
                    n_hs=len(hs), max_layers=MAX_LAYERS
                )
            )
        hidden = [_int(h, "configs.hidden_size", 1, 65536) for h in hs]
    else:
        n_layers = _int(cfg.get("n_layers"), "configs.n_layers", 2, MAX_LAYERS + 1)
        hidden = [_int(hs, "configs.hidden_size", 1, 65536)] * (n_layers - 1)
    if "n_layers" in cfg and _int(cfg["n_layers"], "configs.n_layers", 2, MAX_LAYERS + 1) != len(hidden) + 1:
        raise UserError(
            _(
                "'configs': n_layers={n_layers} but hidden_size has {n_hidden} entries (n_layers must be "
                "len(hidden_size)+1)"
            ).format(n_layers=cfg["n_layers"], n_hidden=len(hidden))
        )
    act = cfg.get("act_type", "relu")
    if not isinstance(act, str) or act.lower() not in ACTIVATIONS:
        raise UserError(
            _("'configs.act_type': {act!r} is not one of {activations}").format(
                act=act, activations=", ".join(ACTIVATIONS)
            )
        )
    return hidden, norm, n_out, act.lower()


def _sizes_from_tensors(sd: dict) -> tuple[list[int], tuple[int, int], int]:
    """A ``state_dict``-only checkpoint: layer sizes from the tensors, a square input."""
    import torch

    n = 0
    while f"net.{2 * n}.W" in sd:
        n += 1
    if n < 2:
        raise UserError(_("'state_dict' has no net.0.W / net.2.W … layers to infer the network from"))
    shapes = []
    for i in range(n):
        t = sd[f"net.{2 * i}.W"]
        if not isinstance(t, torch.Tensor) or t.dim() != 2:
            raise UserError(_("'state_dict.net.{value}.W' is not a 2-D tensor").format(value=2 * i))
        shapes.append(tuple(t.shape))
    for i in range(1, n):
        if shapes[i][1] != shapes[i - 1][0]:
            raise UserError(
                _("'state_dict.net.{value}.W' takes {shape} inputs, the layer before gives {rows}").format(
                    value=2 * i, shape=shapes[i][1], rows=shapes[i - 1][0]
                )
            )
    side = math.isqrt(shapes[0][1])
    if side * side != shapes[0][1]:
        raise UserError(
            _(
                "'state_dict.net.0.W' takes {in_features} inputs: not a square image, so the input size cannot be "
                "inferred (add 'configs')"
            ).format(in_features=shapes[0][1])
        )
    return [s[0] for s in shapes[:-1]], (side, side), shapes[-1][0]


def _str_list(value, key: str, n: int) -> list[str]:
    if (
        not isinstance(value, (list, tuple))
        or len(value) != n
        or not all(isinstance(c, str) and 0 < len(c) <= 200 for c in value)
    ):
        raise UserError(_("'{key}' must be a list of {n} class names (short strings)").format(key=key, n=n))
    return list(value)


def load_checkpoint(path: str | os.PathLike, device: str = "cpu", act: str | None = None) -> Model:
    """Read a checkpoint (ours or the course's); every problem is a :class:`UserError` naming the file
    and the key. ``act`` sets the activation of a checkpoint that does not record one."""
    name = os.fspath(path)
    ckpt = _read(name)
    try:
        return _model_from(ckpt, device, act)
    except UserError as exc:
        raise UserError(f"{name}: {exc}") from None


def _model_from(ckpt, device: str, act_override: str | None) -> Model:
    """A checkpoint's dictionary, checked part by part, as a :class:`Model`; every problem is a
    :class:`UserError` naming the key."""
    sd = _state_dict_of(ckpt)
    if isinstance(ckpt, dict) and "state_dict" not in ckpt:
        ckpt = {"state_dict": sd}  # a bare torch.save(model.state_dict()), as many students save
    hidden, norm_size, n_out, act, notes = _shape_of(ckpt, sd, act_override)
    in_features = norm_size[0] * norm_size[1]
    check_parameter_budget(in_features, hidden, n_out)
    config = _config_of(ckpt, hidden, act, device)
    weights = _weights_of(sd, [in_features, *hidden, n_out])
    classes, history, record, dataset_name, name = _metadata_of(ckpt, n_out)
    network = build_network(config, in_features, n_out, weights=weights)
    opt_state = _optimizer_state_into(network, ckpt.get("optimizer_state"))
    return Model(network, classes, norm_size, config, history, opt_state, dataset_name, record, notes, name)


def _state_dict_of(ckpt) -> dict:
    if isinstance(ckpt, dict) and "state_dict" not in ckpt and "net.0.W" in ckpt:
        sd = ckpt  # a bare state dict
    else:
        if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
            raise UserError(_("not a Backprop Studio or course checkpoint (no 'state_dict' key)"))
        sd = ckpt["state_dict"]
        if isinstance(sd, dict) and sd and "net.0.W" not in sd:
            held = ", ".join(sorted(str(k) for k in sd)[:6])
            raise UserError(
                _("not a network checkpoint: it holds {held} (expected net.N.W / net.N.b tensors)").format(held=held)
            )
    if not isinstance(sd, dict) or not all(isinstance(k, str) for k in sd):
        raise UserError(_("'state_dict' must be a dictionary of named tensors"))
    return sd


def _shape_of(ckpt: dict, sd: dict, act_override: str | None):
    """(hidden sizes, input size, outputs, activation, notes): from 'configs', else from the tensors."""
    notes = []
    if "configs" in ckpt:
        hidden, norm_size, n_out, act = _sizes_from_configs(ckpt["configs"])
    else:
        hidden, norm_size, n_out = _sizes_from_tensors(sd)
        act = "relu"
        notes.append(
            _(
                "no configs in the file: sizes inferred from the weights ({sizes}); activation not recorded, "
                "assumed {act}"
            ).format(
                sizes=f"{norm_size[0]}×{norm_size[1]} → {' → '.join(map(str, hidden))} → {n_out}",
                act=act_override or act,
            )
        )
    if act_override:
        if act_override not in ACTIVATIONS:
            raise UserError(
                _("activation: {act!r} is not one of {activations}").format(
                    act=act_override, activations=", ".join(ACTIVATIONS)
                )
            )
        act = act_override
    return hidden, norm_size, n_out, act, notes


def _config_of(ckpt: dict, hidden: list[int], act: str, device: str) -> TrainConfig:
    version = ckpt.get("format_version", 0)
    hp = ckpt.get("hyperparameters") or {}
    if not isinstance(hp, dict) or not all(isinstance(k, str) for k in hp):
        raise UserError(_("'hyperparameters' must be a dictionary"))
    hp = dict(hp)
    if isinstance(version, int) and version < 2 and hp.get("optim") == "adam":
        hp["optim"] = "adamw"  # format 1 called decoupled decay "adam"
    engine = hp.get("engine", "torch")
    hp.update(hidden=hidden, act=act, device=device if engine == "torch" else "cpu")
    try:
        return TrainConfig.from_dict(hp).validate()
    except UserError as exc:
        raise UserError(f"'hyperparameters': {exc}") from None
    except TypeError:
        raise UserError(_("'hyperparameters' holds values of the wrong kind")) from None


def _weights_of(sd: dict, sizes: list[int]) -> list[np.ndarray]:
    """The layers' tensors as arrays, each checked (name, shape, dtype, storage, finite) before use."""
    keys = state_dict_keys(len(sizes) - 1)
    missing = [k for k in keys if k not in sd]
    if missing:
        raise UserError(
            _("'state_dict' lacks {missing} (has {value})").format(
                missing=", ".join(missing), value=", ".join(sorted(sd)[:12]) or "nothing"
            )
        )
    extra = [k for k in sd if k not in keys]
    if extra:
        raise UserError(
            _("'state_dict' has tensors the configs do not explain: {extra}").format(extra=", ".join(extra[:12]))
        )
    weights = []
    for i, k in enumerate(keys):
        layer = i // 2
        want = (sizes[layer + 1], sizes[layer]) if k.endswith(".W") else (sizes[layer + 1],)
        weights.append(_weight(k, sd[k], want))
    return weights


def _weight(k: str, t, want: tuple) -> np.ndarray:
    import torch

    if not isinstance(t, torch.Tensor):
        raise UserError(_("'state_dict.{k}' is not a tensor").format(k=k))
    if tuple(t.shape) != want:  # checked before anything is materialised
        raise UserError(
            _("'state_dict.{k}' has shape {shape}, the configs imply {want}").format(
                k=k, shape=list(t.shape), want=list(want)
            )
        )
    if t.dtype not in (torch.float32, torch.float64, torch.float16, torch.bfloat16):
        raise UserError(
            _("'state_dict.{k}' holds {dtype} values; weights must be floating point").format(
                k=k, dtype=str(t.dtype).replace("torch.", "")
            )
        )
    if not t.is_contiguous() or t.untyped_storage().nbytes() < (t.storage_offset() + t.numel()) * t.element_size():
        raise UserError(_("'state_dict.{k}' is not a plain tensor (its storage does not hold its shape)").format(k=k))
    w = t.detach().to(torch.float64 if t.dtype == torch.float64 else torch.float32).cpu().numpy().copy()
    if not np.isfinite(w).all():
        raise UserError(_("'state_dict.{k}' holds NaN or infinite values").format(k=k))
    return w


def _metadata_of(ckpt: dict, n_out: int):
    """(class names, history, dataset record, dataset name, run name), each checked."""
    classes = ckpt.get("class_names")
    classes = _default_classes(n_out) if classes is None else _str_list(classes, "class_names", n_out)
    try:
        history = History.from_dict(ckpt.get("history"))
    except ValueError as exc:
        raise UserError(f"'history': {exc}") from None
    record = ckpt.get("dataset_record") or {}
    if not isinstance(record, dict):
        raise UserError(_("'dataset_record' must be a dictionary"))
    record = {k: v for k, v in record.items() if isinstance(k, str) and isinstance(v, (str, int, float, bool))}
    dataset_name = ckpt.get("dataset", "")
    if not isinstance(dataset_name, str):
        raise UserError(_("'dataset' must be a name"))
    name = ckpt.get("run_name", "")
    if not isinstance(name, str) or len(name) > 200:
        raise UserError(_("'run_name' must be a name of at most 200 characters"))
    return classes, history, record, dataset_name, name


def _optimizer_state_into(network, opt_state):
    """The saved optimizer state loaded into ``network``: it, or None when it belongs to another
    engine or optimizer (the weights load, the optimizer starts fresh)."""
    if opt_state is None:
        return None
    if not isinstance(opt_state, dict):
        raise UserError(_("'optimizer_state' must be a dictionary"))
    try:
        return opt_state if network.load_optimizer_state(opt_state) else None
    except (ValueError, KeyError, RuntimeError, TypeError, IndexError) as exc:
        raise UserError(f"'optimizer_state': {exc}") from None
