"""A lint: ``clicked``, ``triggered`` and ``toggled`` carry a bool, and a slot with an optional
parameter receives it (Race got "False steps", Delete got confirm=False). Such a signal is
connected only to a lambda/partial or to a callable whose parameters are all required."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BOOL_SIGNALS = {"clicked", "triggered", "toggled"}


def _functions(trees) -> dict[str, list[ast.FunctionDef]]:
    defs: dict[str, list] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                defs.setdefault(node.name, []).append(node)
    return defs


def _has_optional_positional(fn: ast.FunctionDef) -> bool:
    return bool(fn.args.defaults)  # *args is a deliberate sink, not a parameter a bool can land in


def violations(sources: dict[str, str]) -> list[str]:
    trees = {name: ast.parse(text) for name, text in sources.items()}
    defs = _functions(trees)
    found = []
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "connect"
            ):
                continue
            signal = node.func.value
            if not (isinstance(signal, ast.Attribute) and signal.attr in BOOL_SIGNALS) or not node.args:
                continue
            slot = node.args[0]
            if isinstance(slot, ast.Lambda) or (
                isinstance(slot, ast.Call) and getattr(slot.func, "id", getattr(slot.func, "attr", "")) == "partial"
            ):
                continue
            if isinstance(slot, ast.Attribute):
                target = slot.attr
                if signal.attr == "toggled" and target.startswith("set"):  # setChecked(bool), setVisible(bool)…
                    if target not in defs:
                        continue
                candidates = defs.get(target)
                if candidates is None:  # a Qt method (e.g. legends.setChecked): not ours to judge by name
                    continue
                if any(_has_optional_positional(fn) for fn in candidates):
                    found.append(f"{name}:{node.lineno}: {signal.attr} → {target}() has an optional parameter")
            else:
                found.append(f"{name}:{node.lineno}: {signal.attr} → {ast.unparse(slot)}: wrap it (lambda: f())")
    return found


def test_no_bool_signal_lands_in_an_optional_parameter():
    sources = {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in (ROOT / "gui").rglob("*.py")}
    assert violations(sources) == []


def test_the_lint_catches_what_broke_race_and_delete():
    bad = {
        "view.py": (
            "class V:\n"
            "    def __init__(self):\n"
            "        self.b.clicked.connect(self.race)\n"
            "        for slot in (self.race,):\n"
            "            self.c.clicked.connect(slot)\n"
            "        self.d.clicked.connect(lambda: self.race())\n"
            "        self.e.toggled.connect(self.set_on)\n"
            "    def race(self, steps: int = 200):\n"
            "        pass\n"
            "    def set_on(self, on):\n"
            "        pass\n"
        )
    }
    found = violations(bad)
    assert len(found) == 2 and "race() has an optional parameter" in found[0] and "wrap it" in found[1]
