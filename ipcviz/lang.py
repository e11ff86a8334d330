"""Which language to speak: --lang, then IPCVIZ_LANG, then the system locale; English
where a text has no translation.

The locale is read in gettext's order (GNU gettext manual, "The LANGUAGE variable" and
"Locale Environment Variables"): LANGUAGE, LC_ALL, LC_MESSAGES, LANG, and the first one
that is set and not empty decides, even when it names a language ipcviz does not speak
(`LC_ALL=fr_FR LANG=zh_CN` is French, so English here).  LANGUAGE is a colon-separated
list of preferences, and gettext honours it only when the locale itself is not "C" (or
POSIX, or unset, which means "C").
"""

from __future__ import annotations

import os
from collections.abc import Mapping

LANGUAGES = ("en", "zh")
_C_LOCALES = ("C", "POSIX")


def _code(value: str) -> str:
    """'zh_CN.UTF-8@latin' -> 'zh'."""
    return value.split(".")[0].split("@")[0].split("_")[0].lower()


def from_locale(env: Mapping[str, str]) -> str:
    """The language the locale variables of `env` ask for, as gettext picks it: 'en' when
    the deciding variable names a language ipcviz does not speak."""
    locale = next((env[k] for k in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(k)), "C")
    if env.get("LANGUAGE") and locale.split(".")[0] not in _C_LOCALES:
        for item in env["LANGUAGE"].split(":"):
            if item and _code(item) in LANGUAGES:
                return _code(item)
        return "en"
    code = _code(locale)
    return code if code in LANGUAGES else "en"


def choose(explicit: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """--lang (`explicit`, an error when unknown), then IPCVIZ_LANG (ignored when unknown),
    then the locale of `env` (os.environ by default)."""
    env = os.environ if env is None else env
    if explicit:
        if _code(explicit) in LANGUAGES:
            return _code(explicit)
        raise ValueError(f"unknown language '{explicit}' (known: {', '.join(LANGUAGES)})")
    own = env.get("IPCVIZ_LANG")
    if own and _code(own) in LANGUAGES:
        return _code(own)
    return from_locale(env)
