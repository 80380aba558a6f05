"""What the engine may open: regular files only, inside the folder they belong to.

A FIFO would hang a read forever and ``/dev/zero`` would fill memory, so every path is
``stat``-ed (which never blocks) before it is opened.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from engine.errors import UserError
from engine.i18n import N_, _, translated


def regular_file(path: str | os.PathLike, what: str = N_("file")) -> Path:
    """``path`` if it is a regular file; a :class:`UserError` naming it otherwise."""
    p = Path(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise UserError(_("{p}: no such file").format(p=p)) from None
    except PermissionError:
        raise UserError(
            _("{p}: permission denied (cannot read the {what})").format(p=p, what=translated(what))
        ) from None
    except OSError as exc:
        raise UserError(
            _("{p}: cannot read the {what} ({reason})").format(p=p, what=translated(what), reason=exc.strerror or exc)
        ) from None
    if stat.S_ISDIR(st.st_mode):
        raise UserError(_("{p}: is a folder, not a {what}").format(p=p, what=translated(what)))
    if not stat.S_ISREG(st.st_mode):
        raise UserError(
            _("{p}: not a regular file (a device, pipe or socket); refusing to read it as a {what}").format(
                p=p, what=translated(what)
            )
        )
    return p


def inside(root: Path, relative: str, what: str) -> Path:
    """``root / relative`` if it stays inside ``root`` (after resolving links); else a UserError naming it."""
    if not isinstance(relative, str) or not relative.strip() or "\0" in relative:
        raise UserError(_("{what}: {relative!r} is not a file name").format(what=what, relative=relative))
    if os.path.isabs(relative):
        raise UserError(
            _("{what}: {relative!r} is an absolute path; names must stay inside {root}").format(
                what=what, relative=relative, root=root
            )
        )
    candidate = (root / relative).resolve()
    base = root.resolve()
    if candidate != base and base not in candidate.parents:
        raise UserError(_("{what}: {relative!r} points outside {root}").format(what=what, relative=relative, root=root))
    return candidate


def read_bytes_limited(path: Path, limit: int, what: str = N_("file")) -> bytes:
    """The whole regular file, refusing one larger than ``limit`` bytes."""
    regular_file(path, what)
    size = os.stat(path).st_size
    if size > limit:
        raise UserError(
            _("{path}: {size:,} bytes is larger than a {what} may be ({limit:,})").format(
                path=path, size=size, what=translated(what), limit=limit
            )
        )
    try:
        with open(path, "rb") as fh:
            return fh.read(limit + 1)[:limit]
    except OSError as exc:
        raise UserError(_("{path}: cannot read ({reason})").format(path=path, reason=exc.strerror or exc)) from None
