"""Messages in the user's language, without Qt: GNU gettext from Python's standard library.

The check's diagnoses (what is wrong with a student's backward pass, in words) are the studio's
most valuable text; they are written ``_("… {name} …").format(name=…)`` and looked up in
``engine/locale/<lang>/LC_MESSAGES/backprop-studio.po``. The compiled ``.mo`` beside each ``.po``
is kept in git (Python has no gettext compiler and Windows no ``msgfmt``); ``make translations``
re-extracts and recompiles them, and a test checks that code, ``.po`` and ``.mo`` agree.

The language: ``BACKPROP_STUDIO_LANG`` (the window sets it, so its worker processes follow), else
the usual ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``; English where there is no catalogue.
"""

from __future__ import annotations

import gettext
import os
from pathlib import Path

DOMAIN = "backprop-studio"
LOCALE = Path(__file__).resolve().parent / "locale"

_catalogues: dict[str, gettext.NullTranslations] = {}


def language() -> str:
    """The language messages are given in now (``zh_CN``, ``en`` …)."""
    choice = os.environ.get("BACKPROP_STUDIO_LANG", "")
    if choice and choice != "system":
        return choice
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            name = value.split(":")[0].split(".")[0]
            return "en" if name in ("C", "POSIX") else name
    return "en"


def set_language(lang: str) -> None:
    """Give messages in ``lang`` from now on, here and in worker processes started after."""
    os.environ["BACKPROP_STUDIO_LANG"] = lang


def _catalogue() -> gettext.NullTranslations:
    lang = language()
    if lang not in _catalogues:
        _catalogues[lang] = gettext.translation(DOMAIN, LOCALE, languages=[lang], fallback=True)
    return _catalogues[lang]


def _(message: str) -> str:
    """``message`` in the user's language (itself where there is no translation)."""
    return _catalogue().gettext(message)


def N_(message: str) -> str:  # noqa: N802 - gettext's name for it
    """Marks ``message`` for translation where it is defined (a table of names); :func:`translated`
    gives it in the user's language where it is shown."""
    return message


def translated(message: str) -> str:
    """A message marked with :func:`N_`, in the user's language."""
    return _catalogue().gettext(message)
