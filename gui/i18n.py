"""The window's language: Qt's translators for our strings and Qt's own (Save, Cancel, the file
dialogs), chosen from the settings ("system" follows the system's locale).

Our translations are Qt Linguist sources in ``gui/translations/*.ts`` (kept in the repository,
updated with ``make translations``). They are compiled with ``pyside6-lrelease`` (shipped with
PySide6 on every OS) into ``.qm`` files: by ``make`` in a checkout, and otherwise on first use into
the user's cache folder, so a ``pip install`` works too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLibraryInfo, QLocale, QTranslator

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
LANGUAGES = {"system": QT_TRANSLATE_NOOP("I18n", "System language"), "en": "English", "zh_CN": "简体中文"}
CATALOGUE = "backprop_studio"

_installed: list[QTranslator] = []


def available() -> list[str]:
    """The languages with a translation (English needs none)."""
    return ["en"] + sorted(p.stem.removeprefix(CATALOGUE + "_") for p in TRANSLATIONS.glob(f"{CATALOGUE}_*.ts"))


def resolve(choice: str) -> str:
    """The language a setting means: "system" is the system locale's, if we have it, else English."""
    if choice and choice != "system":
        return choice if choice in available() else "en"
    name = QLocale.system().name()  # e.g. zh_CN, en_US
    for lang in available():
        if name == lang or name.split("_")[0] == lang.split("_")[0] and lang != "en":
            return lang
    return "en"


def _lrelease() -> str | None:
    """The path of Qt's lrelease: PySide6's wrapper beside this Python, or on PATH."""
    here = Path(sys.executable).parent
    for name in ("pyside6-lrelease", "pyside6-lrelease.exe"):
        if (here / name).is_file():
            return str(here / name)
    return shutil.which("pyside6-lrelease") or shutil.which("lrelease")


def compiled(lang: str, cache: Path | None = None) -> Path | None:
    """The ``.qm`` of ``lang``: beside its ``.ts`` if built and current, else compiled into
    ``cache`` (the user's cache folder); None if it cannot be had."""
    ts = TRANSLATIONS / f"{CATALOGUE}_{lang}.ts"
    if not ts.is_file():
        return None
    qm = ts.with_suffix(".qm")
    if qm.is_file() and qm.stat().st_mtime >= ts.stat().st_mtime:
        return qm
    if cache is None:
        import platformdirs

        cache = Path(platformdirs.user_cache_dir("backprop-studio")) / "translations"
    out = cache / qm.name
    if out.is_file() and out.stat().st_mtime >= ts.stat().st_mtime:
        return out
    tool = _lrelease()
    if tool is None:
        return None
    cache.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run(
            [tool, "-silent", str(ts), "-qm", str(out)],
            check=True,
            capture_output=True,
            timeout=60,
            env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out if out.is_file() else None


def install(choice: str) -> str:
    """Load the translators for the setting ``choice`` into the running application (replacing
    any loaded before); returns the language now in use."""
    app = QCoreApplication.instance()
    for t in _installed:
        app.removeTranslator(t)
    _installed.clear()
    lang = resolve(choice)
    from engine import i18n as engine_i18n

    engine_i18n.set_language(lang)  # the engine's messages (the check's diagnoses, in worker processes too)
    if lang == "en":
        _install_mnemonics(app, lang)
        return lang
    qm = compiled(lang)
    ours = QTranslator(app)
    if qm is None or not ours.load(str(qm)):
        return "en"
    qt = QTranslator(app)  # Qt's own words: Save, Cancel, Open, the file dialogs
    if qt.load(f"qtbase_{lang}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        _installed.append(qt)
    app.installTranslator(ours)
    _installed.append(ours)
    _install_mnemonics(app, lang)
    return lang


# Qt's standard Save and Discard buttons carry no mnemonic ("Discard": Alt+D did nothing in the
# unsaved-model question); these give them one, in front of every other translator
MNEMONICS = {
    "en": {"Save": "&Save", "Discard": "&Discard"},
    "zh_CN": {"Save": "保存(&S)", "Discard": "放弃(&D)"},
}


class _Mnemonics(QTranslator):
    def __init__(self, words: dict, parent=None):
        super().__init__(parent)
        self.words = words

    def translate(self, context, source, disambiguation=None, n=-1):  # noqa: ARG002 - Qt's signature
        if context == "QPlatformTheme" and source in self.words:
            return self.words[source]
        return None  # not ours: the next translator, or the source


def _install_mnemonics(app, lang: str) -> None:
    words = MNEMONICS.get(lang)
    if words:
        t = _Mnemonics(words, app)
        app.installTranslator(t)
        _installed.append(t)


def arg(template: str, *values) -> str:
    """``template``'s Qt-style placeholders %1, %2 … filled with ``values`` in one pass (a value
    that itself contains "%2" is left as it is), as ``QString::arg`` does."""
    import re

    def fill(m: re.Match) -> str:
        i = int(m.group(1))
        return str(values[i - 1]) if 0 < i <= len(values) else m.group(0)

    return re.sub(r"%(\d+)", fill, template)
