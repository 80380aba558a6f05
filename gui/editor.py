"""From a diagnosis to the code: open the student's file at the line, in their own editor.

``$VISUAL`` or ``$EDITOR`` when set (``vim +34 file``, ``code -g file:34``, ``subl file:34`` …),
else the desktop's handler for the file (QDesktopServices: no line number there)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

GOTO_FLAG = {"code", "code-insiders", "codium", "cursor"}  # `code -g file:line`
COLON_LINE = {"subl", "sublime_text", "zed", "gedit", "kate", "pycharm", "charm", "idea"}  # `subl file:line`


def editor_command(editor: str, path: str, line: int) -> list[str]:
    """The command line that opens ``path`` at ``line`` in ``editor`` (a ``$EDITOR`` value)."""
    cmd = shlex.split(editor, posix=os.name != "nt")
    name = Path(cmd[0]).stem.lower() if cmd else ""
    if name in GOTO_FLAG:
        return [*cmd, "-g", f"{path}:{line}"]
    if name in COLON_LINE:
        return [*cmd, f"{path}:{line}"]
    return [*cmd, f"+{line}", path]  # vi, vim, nvim, emacs, nano, micro, kak, …


def open_in_editor(path: str, line: int) -> str:
    """Open ``path`` at ``line``; returns how (the editor's name, or "the desktop"); raises OSError."""
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if editor:
        cmd = editor_command(editor, path, line)
        extra = {"start_new_session": True} if sys.platform != "win32" else {}
        subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **extra)
        return Path(cmd[0]).name
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
        raise OSError(0, "no application opens it", str(path))
    return "the desktop"
