"""The language is chosen as gettext chooses it: LANGUAGE, LC_ALL, LC_MESSAGES, LANG, the
first one set decides; --lang and IPCVIZ_LANG come before the locale."""

from __future__ import annotations

import pytest

from ipcviz.lang import choose


@pytest.mark.parametrize("env, lang", [
    ({}, "en"),
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"),
    # The first variable that is set decides, even for a language ipcviz does not speak.
    ({"LC_ALL": "fr_FR.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LC_MESSAGES": "de_DE", "LANG": "zh_CN"}, "en"),
    ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US"}, "zh"),
    ({"LC_MESSAGES": "zh_TW", "LANG": "en_US"}, "zh"),
    # Set but empty is not set.
    ({"LC_ALL": "", "LANG": "zh_CN"}, "zh"),
    # LANGUAGE is a list of preferences, honoured over the locale ...
    ({"LANGUAGE": "zh_CN:en", "LANG": "en_US"}, "zh"),
    ({"LANGUAGE": "fr:zh", "LANG": "en_US.UTF-8"}, "zh"),
    ({"LANGUAGE": "en:zh", "LANG": "zh_CN.UTF-8"}, "en"),
    ({"LANGUAGE": "fr", "LANG": "zh_CN.UTF-8"}, "en"),
    # ... but not when the locale is C (or unset, which is C).
    ({"LANGUAGE": "zh_CN", "LC_ALL": "C"}, "en"),
    ({"LANGUAGE": "zh_CN", "LANG": "C.UTF-8"}, "en"),
    ({"LANGUAGE": "zh_CN"}, "en"),
    ({"LANGUAGE": "", "LANG": "zh_CN"}, "zh"),
])
def test_locale_in_gettext_order(env, lang):
    assert choose(None, env) == lang


def test_ipcviz_lang_and_the_option_override_the_locale():
    env = {"LANGUAGE": "zh", "LC_ALL": "zh_CN.UTF-8"}
    assert choose(None, {**env, "IPCVIZ_LANG": "en"}) == "en"
    assert choose("en", env) == "en"
    assert choose("zh", {"IPCVIZ_LANG": "en"}) == "zh"
    # An IPCVIZ_LANG ipcviz does not speak is passed over; an unknown --lang is an error.
    assert choose(None, {"IPCVIZ_LANG": "fr", "LANG": "zh_CN"}) == "zh"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        choose("fr", {})


def test_the_headless_report_speaks_chinese_in_its_own_words_too():
    import io

    from ipcviz.model.snapshot import Check, Snapshot
    from ipcviz.report.text import print_snapshot

    out = io.StringIO()
    print_snapshot(Snapshot(0, 0, 2, 0.0), out, lang="zh")
    print_snapshot(Snapshot(1, 1, 2, 0.1, process="a", call="pipe([3, 4])", outcome="returned",
                            result=0, checks=(Check("p.bytes == 0", 0, True),)), out, lang="zh")
    text = out.getvalue()
    for english in ("Step", "Before step", "processes:", "kernel objects:", "checks:"):
        assert english not in text
    assert "第 1 步之前" in text and "第 1/2 步" in text and "进程：" in text and "检查：" in text
