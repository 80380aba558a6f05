"""Backprop Studio: no arguments opens the desktop app; a subcommand runs the headless CLI.

``backprop-studio FILE.pt``, a dataset folder or image files open them in the app (what a file
manager's "Open with" runs); a second launch hands its files to the window already open.
"""

from __future__ import annotations

import os
import sys

CLI_COMMANDS = {
    "train",
    "test",
    "predict",
    "gradcheck",
    "check",
    "explain",
    "embed",
    "export",
    "sweep",
    "sweep-worker",
    "cache",
    "runs",
}
CLI_OPTIONS = {"-h", "--help", "--version"}


def wants_cli(argv: list[str]) -> bool:
    """A subcommand or --help/--version: the CLI (a mistyped command too: it says so). Files and
    folders that exist, and options (Qt's own, such as ``-style fusion``): the app."""
    if not argv:
        return False
    first = argv[0]
    if first in CLI_COMMANDS or first in CLI_OPTIONS:
        return True
    return not first.startswith("-") and not os.path.exists(first)


def no_display() -> str:
    """Why the app cannot open a window here, in one line ("" if it can)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return ""
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return ""
    return (
        "no display found (DISPLAY and WAYLAND_DISPLAY are unset): use the command line "
        "(backprop-studio --help), or run the app under a virtual display: xvfb-run -a backprop-studio"
    )


def run(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["figure"]:  # report figures: drawn with Qt, offscreen, no window
        from gui.figures import main as figure_main

        return figure_main(argv[1:])
    if argv[:1] == ["report"]:  # the report bundle: tables, figures, the runs used
        from gui.report import main as report_main

        return report_main(argv[1:])
    if wants_cli(argv):
        from engine.cli import main as cli_main

        return cli_main(argv)
    why = no_display()
    if why:
        print(f"error: {why}", file=sys.stderr)
        return 2
    from gui.app import run_app

    return run_app(argv)


def main(argv: list[str] | None = None) -> int:
    """The ``backprop-studio`` command (a console script: its output shows on Windows too)."""
    try:
        return run(argv)
    except KeyboardInterrupt:  # Ctrl+C while torch or Qt is still importing
        print("interrupted", file=sys.stderr)
        return 130


def gui_main() -> int:
    """The ``backprop-studio-gui`` command (no console window on Windows): always the app."""
    from gui.app import run_app

    return run_app(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
