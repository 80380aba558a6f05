"""The check and the race of a user's Functions, each in a sandbox child, as typed records.

The child answers in JSON (see :mod:`engine.inspect.sandbox`); here its answer becomes a
:class:`~engine.inspect.check_result.FilesCheck` or a :class:`~engine.inspect.check_result.RaceResult`,
or a :class:`SandboxError` when it is not one. The command line, the gradebook and the window
all come through these two doors.
"""

from __future__ import annotations

from engine.inspect import functions
from engine.inspect.check_result import FilesCheck, RaceResult
from engine.inspect.sandbox import SandboxError, run_sandboxed


def check_in_sandbox(
    files: list[str], roles: dict | None = None, act: str | None = None, reduction: str = "mean", **limits
) -> tuple[FilesCheck, str]:
    """``functions.check_files`` in a sandbox child: its record and what their code printed, or
    a ``SandboxError`` saying why there is none. ``limits``: :func:`run_sandboxed`'s."""
    answer, output = run_sandboxed(functions.check_files, files, roles, act, reduction, files=files, **limits)
    try:
        return FilesCheck.from_dict(answer), output
    except (KeyError, TypeError, ValueError) as exc:
        raise SandboxError(f"the check sent back something unreadable ({exc})", output) from None


def race_in_sandbox(files: list[str], roles: dict | None, act: str, x, y, hidden: list[int], steps: int, **limits):
    """``functions.race_files`` in a sandbox child: a :class:`RaceResult` (its ``error`` says why
    there was no race), or a ``SandboxError``."""
    answer, output = run_sandboxed(
        functions.race_files, files, roles or {}, act, x, y, hidden, steps, files=files, **limits
    )
    try:
        return RaceResult.from_dict(answer)
    except (KeyError, TypeError, ValueError) as exc:
        raise SandboxError(f"the race sent back something unreadable ({exc})", output) from None
