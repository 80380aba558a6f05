"""Checkpoints in the course's format (``state_dict`` + ``configs``) with our extras.

Loading uses ``torch.load(weights_only=True)``: a pickle that carries code is
refused before anything runs. Saving is atomic: a temporary file in the same
folder, flushed and fsync'd, then ``os.replace``.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from engine.config import TrainConfig
from engine.data import DIGITS, LETTERS
from engine.errors import UserError
from engine.network import Network, state_dict_keys
from engine.training import History

FORMAT_VERSION = 1
PREPROCESSING = {"grayscale": True, "resize": "bilinear", "scale": "(x/255 - 0.5) / 0.5"}


@dataclass
class Model:
    """A trained network with what it needs to classify: classes, input size, its config and history."""

    network: Network
    classes: list[str]
    norm_size: tuple[int, int]
    config: TrainConfig
    history: History = field(default_factory=History)
    optimizer_state: dict | None = None
    dataset_name: str = ""

    def configs(self) -> dict:
        c = self.config
        return {"norm_size": tuple(self.norm_size), "output_size": len(self.classes),
                "hidden_size": list(c.hidden), "n_layers": len(c.hidden) + 1, "act_type": c.act}


def save_checkpoint(path: str | os.PathLike, model: Model) -> None:
    """Write ``model`` to ``path`` atomically (temp file in the same folder, fsync, replace)."""
    path = Path(path)
    hist = model.history.to_dict()
    hist["step_loss"] = torch.tensor(hist["step_loss"], dtype=torch.float32)
    payload = {
        "state_dict": model.network.state_dict(),
        "configs": model.configs(),
        "format_version": FORMAT_VERSION,
        "class_names": list(model.classes),
        "preprocessing": {**PREPROCESSING, "norm_size": tuple(model.norm_size)},
        "hyperparameters": model.config.to_dict(),
        "history": hist,
        "optimizer_state": model.network.optimizer_state(),
        "dataset": model.dataset_name,
    }
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise UserError(f"{path}: cannot write here ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise UserError(f"{path}: could not save ({exc.strerror or exc})") from None


def _default_classes(n: int) -> list[str]:
    if n == 26:
        return list(LETTERS)
    if n == 10:
        return list(DIGITS)
    return [str(i) for i in range(n)]


def load_checkpoint(path: str | os.PathLike, device: str = "cpu") -> Model:
    """Read a checkpoint (ours or the course's); every problem is a :class:`UserError` naming it."""
    name = os.fspath(path)
    try:
        with warnings.catch_warnings():  # torch warns about unusual pickle protocols; we report instead
            warnings.simplefilter("ignore", UserWarning)
            ckpt = torch.load(name, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{name}: is a folder, not a checkpoint") from None
    except pickle.UnpicklingError as exc:
        glob = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if glob:
            raise UserError(f"{name}: refused: the file holds Python code or objects ({glob.group(1)}), "
                            f"not plain weights; nothing from it was run") from None
        raise UserError(f"{name}: not a readable checkpoint (not PyTorch tensor data; "
                        f"nothing from it was run)") from None
    except (RuntimeError, EOFError, ValueError, OSError, KeyError, AttributeError, TypeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise UserError(f"{name}: not a readable checkpoint ({first[:160]})") from None
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "configs" not in ckpt:
        raise UserError(f"{name}: not a Backprop Studio or course checkpoint "
                        f"(needs 'state_dict' and 'configs' keys)")
    sd, cfg = ckpt["state_dict"], ckpt["configs"]
    if not isinstance(sd, dict) or not isinstance(cfg, dict):
        raise UserError(f"{name}: 'state_dict' and 'configs' must be dictionaries")
    try:
        hidden = [int(h) for h in cfg["hidden_size"]] if isinstance(cfg["hidden_size"], (list, tuple)) \
            else [int(cfg["hidden_size"])] * (int(cfg["n_layers"]) - 1)
        norm_size = tuple(int(v) for v in cfg["norm_size"])
        n_out = int(cfg["output_size"])
        act = str(cfg.get("act_type", "relu")).lower()
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{name}: configs are incomplete or malformed ({exc})") from None
    if "n_layers" in cfg and int(cfg["n_layers"]) != len(hidden) + 1:
        raise UserError(f"{name}: configs say n_layers={cfg['n_layers']} but hidden_size has "
                        f"{len(hidden)} entries (n_layers must be len(hidden_size)+1)")
    hp = dict(ckpt.get("hyperparameters") or {})
    hp.update(hidden=hidden, act=act, device=device if hp.get("engine", "torch") == "torch" else "cpu")
    try:
        config = TrainConfig.from_dict(hp).validate()
    except UserError as exc:
        raise UserError(f"{name}: {exc}") from None
    sizes = [norm_size[0] * norm_size[1], *hidden, n_out]
    weights = []
    keys = state_dict_keys(len(sizes) - 1)
    missing = [k for k in keys if k not in sd]
    if missing:
        raise UserError(f"{name}: state_dict lacks {', '.join(missing)} (has {', '.join(sorted(sd)) or 'nothing'})")
    extra = [k for k in sd if k not in keys]
    if extra:
        raise UserError(f"{name}: state_dict has tensors the configs do not explain: {', '.join(extra)}")
    for i, k in enumerate(keys):
        t = sd[k]
        layer = i // 2
        want = (sizes[layer + 1], sizes[layer]) if k.endswith(".W") else (sizes[layer + 1],)
        if not isinstance(t, torch.Tensor):
            raise UserError(f"{name}: {k} is not a tensor")
        if tuple(t.shape) != want:
            raise UserError(f"{name}: {k} has shape {list(t.shape)}, configs imply {list(want)}")
        w = t.detach().float().cpu().numpy()
        if not np.isfinite(w).all():
            raise UserError(f"{name}: {k} holds NaN or infinite values")
        weights.append(w)
    classes = ckpt.get("class_names") or _default_classes(n_out)
    if len(classes) != n_out:
        classes = _default_classes(n_out)
    network = Network(config, sizes[0], n_out, weights=weights)
    opt_state = ckpt.get("optimizer_state")
    if opt_state:
        try:
            network.load_optimizer_state(opt_state)
        except (ValueError, KeyError, RuntimeError, TypeError):
            opt_state = None  # an optimizer state that does not fit is dropped; weights still load
    return Model(network, [str(c) for c in classes], norm_size, config,
                 History.from_dict(ckpt.get("history")), opt_state, str(ckpt.get("dataset", "")))
