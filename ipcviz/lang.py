"""Which language to speak: --lang, then IPCVIZ_LANG, then the system locale; English
where a text has no translation."""

from __future__ import annotations

import os

LANGUAGES = ("en", "zh")


def choose(explicit: str | None = None) -> str:
    for value in (explicit, os.environ.get("IPCVIZ_LANG"), os.environ.get("LC_ALL"),
                  os.environ.get("LC_MESSAGES"), os.environ.get("LANG")):
        if value:
            code = value.split(".")[0].split("_")[0].lower()
            if code in LANGUAGES:
                return code
            if explicit is not None and value == explicit:
                raise ValueError(f"unknown language '{explicit}' (known: {', '.join(LANGUAGES)})")
    return "en"
