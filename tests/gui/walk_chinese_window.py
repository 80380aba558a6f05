"""Run by tests/gui/test_language.py in a process of its own: the window built in Chinese, as the
app builds it at start (translators installed once, before any widget), and every menu, tab,
button, group box and visible label read back. Prints one JSON object. Switching translators
back and forth inside the test process is what the app never does (and aborted a CI run)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    from PySide6.QtWidgets import QAbstractButton, QApplication, QGroupBox, QLabel, QMenu

    from engine import i18n as engine_i18n
    from engine.data.dataset import LETTERS, Dataset
    from engine.data.letters import NORM_SIZE, generate
    from gui import i18n

    app = QApplication([sys.argv[0]])
    lang = i18n.install("zh_CN")
    from gui.main_window import MainWindow

    s = generate({"train": 4, "val": 1, "test": 1}, seed=7)
    ds = Dataset("small letters", "builtin", "builtin", list(LETTERS), NORM_SIZE, s["train"], s["val"], s["test"])
    w = MainWindow(load_default=False)
    w.session.set_dataset(ds)
    w.show()
    app.processEvents()
    texts = []
    for menu in w.menuBar().findChildren(QMenu):
        texts.append(("menu", menu.title()))
        for act in menu.actions():
            if not act.isSeparator() and act.menu() is None and act.text() not in i18n.LANGUAGES.values():
                texts.append(("menu item", act.text()))
    texts += [("tab", w.tabs.tabText(i)) for i in range(w.tabs.count())]
    texts += [(type(b).__name__, b.text()) for b in w.findChildren(QAbstractButton) if b.text()]
    texts += [("group", g.title()) for g in w.findChildren(QGroupBox)]
    texts += [("label", lb.text()) for lb in w.findChildren(QLabel) if lb.isVisibleTo(w) and lb.text()]
    out = {
        "language": lang,
        "texts": [(where, t.replace(ds.name, "")) for where, t in texts],  # the data's own name stays
        "first_tab": w.tabs.tabText(0),
        "first_menu": w.menuBar().actions()[0].text(),
        "engine_language": engine_i18n.language(),
        "engine_text": engine_i18n._("all checks passed"),
    }
    w.shutdown_workers()
    w.dirty = False
    print(json.dumps(out, ensure_ascii=False))
    sys.stdout.flush()
    os._exit(0)  # no teardown of the window: the result is out


if __name__ == "__main__":
    main()
