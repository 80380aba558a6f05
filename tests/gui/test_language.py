"""The window in the students' language: every label through Qt's translation, a complete
Simplified Chinese catalogue kept in step with the code, the language chosen and remembered."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMenu

from gui import i18n
from tests.conftest import ROOT

TS = ROOT / "gui" / "translations" / "backprop_studio_zh_CN.ts"

# Qt calls whose string arguments a user reads, and where in the call they stand
VISIBLE = {
    "QPushButton": [0],
    "QLabel": [0],
    "QCheckBox": [0],
    "QRadioButton": [0],
    "QGroupBox": [0],
    "QAction": [0],
    "QToolButton": [0],
    "setText": [0],
    "setToolTip": [0],
    "setStatusTip": [0],
    "setPlaceholderText": [0],
    "setWindowTitle": [0],
    "setTitle": [0],
    "addTab": [1],
    "setTabText": [1],
    "addRow": [0],
    "addMenu": [0],
    "setHorizontalHeaderLabels": [0],
    "warning": [1, 2],
    "information": [1, 2],
    "question": [1, 2],
    "critical": [1, 2],
    "about": [1],
    "getOpenFileName": [1],
    "getOpenFileNames": [1],
    "getSaveFileName": [1],
    "getExistingDirectory": [1],
    "getInt": [1, 2],
    "getText": [1, 2],
    "error": [0, 1],
    "emit": [0, 1],  # a message or an error for the status bar or a dialog
    "show_status": [0],
    "setLabel": [1],
    "_action": [2, 5],
    "titled_plot": [0, 1],
}
PLOTS = {
    "PlotWidget",
    "PlotItem",
    "addPlot",
    "plot",
    "PlotDataItem",
    "PlotCurveItem",
    "ScatterPlotItem",
    "BarGraphItem",
}
# f-strings still handed to those calls untranslated (English with numbers in it): this number
# may only go down; each one converted is a `tr("… %1 …")` with `arg`.
MOST_UNTRANSLATED_FSTRINGS = 0
ENGLISH_ALLOWED = {  # names that stay as they are in Chinese text
    "ONNX", "PCA", "t-SNE", "SVG", "PNG", "CSV", "SGD", "TPE", "URL", "Netron", "onnxruntime", "ReLU", "relu",
    "Adam", "AdamW", "Backprop", "Studio", "Ctrl", "Shift", "Space", "Esc", "English", "user", "torch", "numpy",
    "cpu", "random", "Xavier", "He", "MLP", "TensorBoard", "tanh", "sigmoid", "py", "network", "losses",
    "activations", "Function", "autograd", "forward", "backward", "nn", "Linear", "randn", "fan_in", "he",
    "xavier", "normal", "uniform", "mean", "sum", "minus", "one", "zero", "standardize", "MNIST",
}  # fmt: skip


def _calls(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", None)
            for i in VISIBLE.get(name, []):
                if i < len(node.args):
                    yield from _parts(node.args[i])
            if name in PLOTS:  # a plot's title, a curve's legend entry
                for k in node.keywords:
                    if k.arg in ("title", "name"):
                        yield from _parts(k.value)


def _parts(arg):
    """The strings an argument is made of: a list's items, both sides of a + and of an if-else."""
    if isinstance(arg, (ast.List, ast.Tuple)):
        for e in arg.elts:
            yield from _parts(e)
    elif isinstance(arg, ast.BinOp):
        yield from _parts(arg.left)
        yield from _parts(arg.right)
    elif isinstance(arg, ast.IfExp):
        yield from _parts(arg.body)
        yield from _parts(arg.orelse)
    else:
        yield arg


def _is_words(node) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and bool(re.search(r"[A-Za-z]{2}", re.sub(r"<[^>]*>", "", node.value)))  # words, not markup
    )


def test_every_label_in_the_window_goes_through_translation():
    bare = [
        f"{p.relative_to(ROOT)}:{n.lineno} {n.value!r}"
        for p in sorted((ROOT / "gui").rglob("*.py"))
        for n in _calls(p)
        if _is_words(n)
    ]
    assert not bare, "user-visible text not wrapped in tr()/translate():\n" + "\n".join(bare)


def _is_words_fstring(node) -> bool:  # f"{lr:g}" is a number, f"{n} runs" is words
    return isinstance(node, ast.JoinedStr) and any(_is_words(v) for v in node.values)


def test_untranslated_fstrings_only_decrease():
    n = sum(_is_words_fstring(a) for p in (ROOT / "gui").rglob("*.py") for a in _calls(p))
    assert n <= MOST_UNTRANSLATED_FSTRINGS, f"{n} f-strings shown untranslated: wrap new ones as tr('… %1') + arg"


def _messages(path: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.parse(path).getroot()
    return {
        (ctx.findtext("name"), m.findtext("source")): m.find("translation")
        for ctx in root.iter("context")
        for m in ctx.iter("message")
    }


def test_the_chinese_catalogue_is_complete_and_in_step_with_the_code(tmp_path):
    lupdate = Path(sys.executable).parent / "pyside6-lupdate"
    if not lupdate.is_file():
        pytest.skip("pyside6-lupdate is not installed beside this Python")
    fresh = tmp_path / TS.name
    shutil.copy(TS, fresh)
    files = [str(p) for p in sorted((ROOT / "gui").rglob("*.py"))]
    subprocess.run(
        [str(lupdate), *files, "-ts", str(fresh), "-no-obsolete", "-locations", "none"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    ours, theirs = _messages(TS), _messages(fresh)
    assert set(theirs) == set(ours), (
        "gui/translations is out of date with the code (run `make translations`): "
        f"new {sorted(set(theirs) - set(ours))[:5]}, gone {sorted(set(ours) - set(theirs))[:5]}"
    )

    def texts(t) -> list[str]:  # a plural message keeps its forms in <numerusform>s
        forms = t.findall("numerusform")
        return [f.text or "" for f in forms] if forms else [t.text or ""]

    unfinished = [k for k, t in ours.items() if t.get("type") == "unfinished" or not all(x.strip() for x in texts(t))]
    assert not unfinished, f"untranslated: {unfinished[:10]}"
    for (ctx, src), t in ours.items():  # every %1 … (and %n) of the source is in the translation
        for text in texts(t):
            assert sorted(re.findall(r"%[\dn]", src)) == sorted(re.findall(r"%[\dn]", text)), (ctx, src, text)
            assert src.count("&") == text.count("&"), f"mnemonic lost: {src!r} → {text!r}"


def test_arg_fills_placeholders_once():
    assert i18n.arg("第 %1/%2 轮", 3, 10) == "第 3/10 轮"
    assert i18n.arg("%1 and %2", "%2", "x") == "%2 and x"  # a value is not filled again
    assert i18n.arg("%1 %3", "a") == "a %3"


def test_the_language_follows_the_setting_and_the_system(monkeypatch):
    from PySide6.QtCore import QLocale

    assert set(i18n.available()) >= {"en", "zh_CN"}
    assert i18n.resolve("zh_CN") == "zh_CN" and i18n.resolve("en") == "en" and i18n.resolve("xx") == "en"
    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("zh_CN")))
    assert i18n.resolve("system") == "zh_CN"
    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("de_DE")))
    assert i18n.resolve("system") == "en"


def test_a_missing_compiled_catalogue_is_compiled_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(i18n, "TRANSLATIONS", tmp_path / "src")
    (tmp_path / "src").mkdir()
    shutil.copy(TS, tmp_path / "src" / TS.name)
    qm = i18n.compiled("zh_CN", cache=tmp_path / "cache")
    if qm is None:
        pytest.skip("no lrelease here")
    assert qm.parent == tmp_path / "cache" and qm.stat().st_size > 1000


def _english_words(text: str) -> list[str]:
    text = re.sub(r"<[^>]+>", " ", text)  # markup
    text = re.sub(r"\(&\w\)|&", "", text)  # mnemonics
    return [w for w in re.findall(r"[A-Za-z][A-Za-z_-]+", text) if w not in ENGLISH_ALLOWED]


@pytest.fixture(scope="module")
def chinese_window(tmp_path_factory):
    """The window built in Chinese in a process of its own (tests/gui/walk_chinese_window.py)."""
    import json

    env = {**os.environ, "BACKPROP_STUDIO_LANG": "", "QT_QPA_PLATFORM": "offscreen"}
    env["BACKPROP_STUDIO_SETTINGS"] = str(tmp_path_factory.mktemp("zh") / "settings.ini")
    r = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "gui" / "walk_chinese_window.py")],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_installing_a_language_sets_the_engines_too(chinese_window):
    assert chinese_window["language"] == "zh_CN"
    assert chinese_window["engine_language"] == "zh_CN" and chinese_window["engine_text"] == "全部检查通过"


def test_the_window_in_chinese_has_no_english_left_in_menus_tabs_and_buttons(chinese_window):
    found = {f"{where}: {text!r}": _english_words(text) for where, text in chinese_window["texts"]}
    found = {k: v for k, v in found.items() if v}
    assert not found, "English left in the Chinese window:\n" + "\n".join(f"{k} {v}" for k, v in found.items())
    assert len(chinese_window["texts"]) > 100  # the walk saw the window
    assert chinese_window["first_tab"] == "训练" and chinese_window["first_menu"] == "文件(&F)"


def test_view_language_is_remembered_for_the_next_launch(window):
    from gui import settings

    menu = next(m for m in window.menuBar().findChildren(QMenu) if m.title() == "&Language")
    chinese = next(a for a in menu.actions() if a.text() == "简体中文")
    chinese.trigger()
    assert settings.read("language") == "zh_CN" and chinese.isChecked()
    assert "next launch" in window.status_message.message()


@pytest.mark.parametrize("lang, save, discard", [("en", "&Save", "&Discard"), ("zh_CN", "保存(&S)", "放弃(&D)")])
def test_save_and_discard_buttons_have_mnemonics(tmp_path, lang, save, discard):
    """Qt's own Save and Discard buttons (the unsaved-model question) answer to Alt+S and Alt+D.
    In a process of its own: translators are installed once, before any widget, as the app does."""
    code = (
        "import sys; from PySide6.QtWidgets import QApplication, QMessageBox\n"
        "app = QApplication([]); from gui import i18n\n"
        f"print(i18n.install({lang!r}))\n"
        "buttons = QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel\n"
        "box = QMessageBox(QMessageBox.Question, 't', 'x', buttons)\n"
        "print(box.button(QMessageBox.Save).text()); print(box.button(QMessageBox.Discard).text())\n"
        "print(box.button(QMessageBox.Cancel).text())\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "BACKPROP_STUDIO_SETTINGS": str(tmp_path / "s.ini")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    used, save_text, discard_text, cancel_text = r.stdout.strip().splitlines()[-4:]
    assert (used, save_text, discard_text) == (lang, save, discard)
    assert cancel_text  # the other buttons keep their words
