"""The one exception type for mistakes a user can fix (bad file, bad value)."""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input; its message names the file or value and the problem.

    The CLI prints it on one line and exits with status 2; the GUI shows it in a dialog.
    """
