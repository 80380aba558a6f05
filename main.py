"""Backprop Studio: no arguments opens the desktop app; a subcommand runs the headless CLI."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and not argv[0].startswith("-") or any(a in ("-h", "--help") for a in argv[:1]):
        from engine.cli import main as cli_main

        return cli_main(argv)
    from gui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl+C while torch or Qt is still importing
        print("interrupted", file=sys.stderr)
        sys.exit(130)
