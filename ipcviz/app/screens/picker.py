"""Start: every scenario, grouped by mechanism, with its title, summary and step count."""

from __future__ import annotations

from itertools import groupby

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from ...scenario.catalog import Entry
from ..access import ipcviz_app
from ..i18n import TEXTS, lang_of, localize_bindings, tr
from ...textsafe import printable
from ..widgets.too_small import TooSmall

class PickerScreen(Screen):
    """Choose a scenario to put on stage."""

    BINDINGS = [
        Binding("enter", "open", "Open", show=True),
        Binding("ctrl+p", "command_palette", "Search", show=True),
    ]

    def __init__(self, entries: list[Entry], problems: list[str] | None = None) -> None:
        super().__init__()
        self.entries = entries
        self.problems = problems or []
        # name -> (title, summary) in Chinese, read from the scenario files when first needed
        self.zh_texts: dict[str, tuple[str, str]] | None = None

    def compose(self) -> ComposeResult:
        lang = ipcviz_app(self).lang
        yield TooSmall()
        yield Static(self._intro(lang), id="picker-intro")
        yield OptionList(*self._options(lang), id="picker")
        if self.problems:
            yield Static(Content.styled("\n".join(map(printable, self.problems)), "$text-error"),
                         id="picker-problems")
        yield Footer()

    def _intro(self, lang: str) -> Content:
        return Content.assemble(("ipcviz", "b $text-accent"), tr("picker_intro", lang),
                                (tr("picker_keys", lang), "$text-muted"))

    def _options(self, lang: str) -> list[Option | None]:
        texts = self.zh_texts if lang == "zh" else None
        options: list[Option | None] = []
        for key, title, group in _groups(self.entries, lang):
            if options:
                options.append(None)
            options.append(Option(Content.styled(f"{title}  ({len(group)})", "b $text-secondary"),
                                  disabled=True, id=f"group-{key}"))
            for e in group:
                title, summary = (texts or {}).get(e.name, (e.title, e.summary))
                options.append(Option(_entry_prompt(e, lang, title, summary), id=e.name,
                                      disabled=bool(e.unavailable)))
        if not self.entries:
            options.append(Option(tr("no_scenarios", lang), disabled=True))
        return options

    def relabel(self) -> None:
        """The language changed (L): the intro, the groups, every title and summary."""
        lang = lang_of(self)
        localize_bindings(self, lang)
        self.query_one("#picker-intro", Static).update(self._intro(lang))
        if lang == "zh" and self.zh_texts is None:
            self._read_zh_texts()  # redraws the list when the files are read
        self._redraw_options(lang)

    def _redraw_options(self, lang: str) -> None:
        picker = self.query_one("#picker", OptionList)
        highlighted = picker.highlighted
        picker.clear_options()
        picker.add_options(self._options(lang))
        picker.highlighted = highlighted

    @work(thread=True, group="picker-zh", exclusive=True, exit_on_error=False)
    def _read_zh_texts(self) -> None:
        """Titles and summaries in Chinese: the catalog keeps the English ones only."""
        texts = {e.name: zh_texts_of(e) for e in self.entries}
        self.app.call_from_thread(self._got_zh_texts, texts)

    def _got_zh_texts(self, texts: dict[str, tuple[str, str]]) -> None:
        self.zh_texts = texts
        if lang_of(self) == "zh":
            self._redraw_options("zh")

    def on_mount(self) -> None:
        if ipcviz_app(self).lang != "en":
            self.relabel()
        picker = self.query_one("#picker", OptionList)
        picker.focus()
        for i in range(picker.option_count):
            if not picker.get_option_at_index(i).disabled:
                picker.highlighted = i
                break

    @on(OptionList.OptionSelected, "#picker")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            ipcviz_app(self).open_scenario(event.option.id)

    def action_open(self) -> None:
        picker = self.query_one("#picker", OptionList)
        if picker.highlighted is not None:
            picker.action_select()


def _groups(entries: list[Entry], lang: str) -> list[tuple[str, str, list[Entry]]]:
    """(id key, title, entries) of each group: the course's sections in its order when the
    entries carry them (scenario.course.arrange), else one group per mechanism."""
    if any(e.section is not None for e in entries):
        out = []
        for n, ((section, zh), group) in enumerate(
                groupby(entries, key=lambda e: (e.section, e.section_zh))):
            if not section:
                title = tr("other_lessons", lang)
            else:  # a lecturer's course file: shown literally, controls escaped
                title = printable(zh if lang == "zh" and zh else section)
            out.append((f"s{n}", title, list(group)))
        return out
    out = []
    ordered = sorted(entries, key=lambda e: e.mechanism)
    for mechanism, group in groupby(ordered, key=lambda e: e.mechanism):
        # i18n's mech_* in every language (a folder of its own: its name)
        title = (tr(f"mech_{mechanism}", lang) if f"mech_{mechanism}" in TEXTS
                 else printable(mechanism))
        out.append((mechanism, title, list(group)))
    return out


def zh_texts_of(e: Entry) -> tuple[str, str]:
    """(title, summary) of a scenario in Chinese, English where the file has none."""
    import tomllib

    try:
        data = tomllib.loads(e.path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
        return e.title, e.summary  # the catalog read it a moment ago: English is right
    title, summary = data.get("title_zh"), data.get("summary_zh")
    return (title if isinstance(title, str) and title else e.title,
            summary if isinstance(summary, str) and summary else e.summary)


def _entry_prompt(e: Entry, lang: str = "en", title: str | None = None,
                  summary: str | None = None) -> Content:
    # texts from the lesson's file: plain parts of Content (never markup), controls escaped
    title = printable(e.title if title is None else title)
    summary = printable(e.summary if summary is None else summary)
    return Content.assemble(
        (title, "b"), "  ", (printable(e.name), "$text-muted"), "  ",
        (tr("n_steps", lang, n=e.steps), "$text-secondary"), "\n",
        (f"  {summary}" if summary else "", "italic"),
        (tr("unavailable_here", lang, why=printable(e.unavailable)) if e.unavailable else "",
         "$text-warning"))
