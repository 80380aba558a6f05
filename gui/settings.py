"""The one place that touches QSettings: typed reads with defaults, JSON for structures.

Tests point it at a temporary INI file with ``BACKPROP_STUDIO_SETTINGS``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

DEFAULTS: dict[str, Any] = {
    "hyperparameters": {},
    "recent_checkpoints": [],
    "recent_datasets": [],
    "last_dataset": "builtin",
    "log_loss": False,
    "keep_previous_runs": True,
    "geometry": b"",
    "window_state": b"",
    "splitter": b"",
    "last_dir": "",  # where files were last opened from
    "last_save_dir": "",  # where a checkpoint was last saved (Save As starts there)
    "last_export_dir": "",
    "show_legends": True,
    "runs_group_seeds": False,  # Runs tab: seeds of one setting drawn as mean ± std
    "training_group_seeds": False,  # Training tab: the same for the earlier runs and this one
    "smoothing": 0.95,
    "runs_db": "",  # the run store: a file or a database URL; empty for the default
    "language": "system",  # "system" (the locale's), "en" or "zh_CN": applied at the next launch
    "last_model": "",  # the model open at the last close (its file, or the run store's copy): reopened
}
MAX_RECENT = 8


def _qsettings() -> QSettings:
    path = os.environ.get("BACKPROP_STUDIO_SETTINGS")
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings()


def file_name() -> str:
    """The settings file (or, on Windows, the registry key) in use."""
    return _qsettings().fileName()


def settings_dir() -> Path:
    """The folder of the settings file (the autosave lives there too)."""
    return Path(_qsettings().fileName()).parent


def read(key: str) -> Any:
    default = DEFAULTS[key]
    value = _qsettings().value(key)
    if value is None:
        return default
    if isinstance(default, bool):
        return value in (True, "true", "1", 1)
    if isinstance(default, (dict, list)):
        try:
            parsed = json.loads(value)
        except (TypeError, ValueError):
            return default
        return parsed if isinstance(parsed, type(default)) else default
    if isinstance(default, bytes):
        if isinstance(value, QByteArray):
            return value.data()
        return bytes(value) if isinstance(value, (bytes, bytearray)) else default
    try:
        return type(default)(value)
    except (TypeError, ValueError):
        return default


def _check_type(key: str, value: Any) -> None:
    """A value of the wrong type is a bug (a clicked(bool) once wrote runs_db=false): refused."""
    default = DEFAULTS[key]
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif isinstance(default, bytes):
        ok = isinstance(value, (bytes, bytearray, QByteArray))
    else:
        ok = isinstance(value, type(default)) and not isinstance(value, bool)
    if not ok:
        raise TypeError(f"setting {key!r} takes a {type(default).__name__}, not {value!r}")


def write(key: str, value: Any) -> None:
    _check_type(key, value)
    s = _qsettings()
    if isinstance(DEFAULTS[key], (dict, list)):
        value = json.dumps(value)
    elif isinstance(value, (bytes, bytearray)):
        value = QByteArray(bytes(value))  # stored as @ByteArray, not a pickled Python object
    s.setValue(key, value)
    s.sync()


def add_recent(key: str, path: str) -> list[str]:
    items = [p for p in read(key) if p != path]
    items.insert(0, path)
    items = items[:MAX_RECENT]
    write(key, items)
    return items
