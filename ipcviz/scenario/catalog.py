"""Where the shipped scenarios live, and finding one by name or path."""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .loader import ScenarioError, load, scenario_name
from .model import Scenario


def shipped_dir() -> Path:
    """The scenarios folder: inside an installed wheel, or beside the package in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "_scenarios", here.parent / "scenarios"):
        if candidate.is_dir():
            return candidate
    return here.parent / "scenarios"


@dataclass(frozen=True)
class Entry:
    name: str
    mechanism: str
    title: str
    summary: str
    steps: int
    path: Path
    unavailable: str | None = None  # why this system cannot run it (see runtime.availability)
    # the course's section (scenario.course.arrange): its title ("" = not in the course)
    section: str | None = None
    section_zh: str | None = None


def user_dirs() -> list[Path]:
    """Lecturers' own scenario folders, searched before the shipped ones:
    IPCVIZ_SCENARIOS (folders separated by ':', set by --scenarios DIR) and
    $XDG_CONFIG_HOME/ipcviz/scenarios (~/.config/ipcviz/scenarios)."""
    dirs = [Path(d).expanduser() for d in os.environ.get("IPCVIZ_SCENARIOS", "").split(os.pathsep)
            if d.strip()]
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    dirs.append(config / "ipcviz" / "scenarios")
    return [d for d in dirs if d.is_dir()]


COURSE_NAME = "course.toml"  # the shipped course (scenario/course.py), not a lesson


def scenario_paths(root: Path | None = None) -> list[Path]:
    """Every scenario file: of `root` alone, or of the user folders then the shipped one.
    A folder holds lessons as SUB/NAME.toml (named SUB/NAME) or as NAME.toml (named
    FOLDER/NAME, FOLDER its own name).  A name found in an earlier folder hides the same
    name in a later one."""
    roots = [root] if root else [*user_dirs(), shipped_dir()]
    seen: dict[str, Path] = {}
    course = shipped_dir() / COURSE_NAME  # the shipped course file sits beside the lessons
    for r in roots:
        for path in sorted([*r.glob("*.toml"), *r.glob("*/*.toml")]):
            if path != course:
                seen.setdefault(scenario_name(path), path)
    return sorted(seen.values(), key=lambda p: (p.parent.name, p.stem))


def entries(root: Path | None = None) -> list[Entry]:
    """Every scenario of the folder, loaded and validated (a broken one raises)."""
    out = []
    for path in scenario_paths(root):
        s = load(path)
        out.append(Entry(s.name, s.mechanism, s.title, s.summary, len(s.steps), path))
    return out


def _code_stamp() -> str:
    """Changes whenever the scenario code (the vocabulary, the loader) changes."""
    here = Path(__file__).resolve().parent
    newest = max(p.stat().st_mtime_ns for p in here.rglob("*.py"))
    from .. import __version__

    return f"{__version__}:{newest}"


def _cache_path() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "ipcviz" / "catalog-v1.json"


def scan_cached(needs: Callable[[Scenario], set[str]]
                ) -> tuple[list[Entry], list[ScenarioError], dict[str, set[str]]]:
    """Like scan(), for the app's start: unchanged files are not parsed again.

    Returns (entries, errors, features each entry needs).  The cache (a JSON file in the
    user's cache directory) keys each file by path, size and modification time, and the
    whole cache by the scenario code's own stamp; a broken file is never cached.
    `needs(scenario)` names the system features a lesson needs (the caller passes
    ipcviz.runtime.availability.needs: the scenario layer knows no system)."""
    import json

    stamp = _code_stamp()
    path = _cache_path()
    try:
        cache = json.loads(path.read_text())
        files = cache["files"] if cache.get("stamp") == stamp else {}
    except (OSError, ValueError, KeyError, TypeError):
        files = {}
    good, bad, needed, fresh = [], [], {}, {}
    for p in scenario_paths():
        try:
            st = p.stat()
        except OSError as err:  # a dangling link, a file gone since: said, not skipped
            bad.append(ScenarioError(p, None, f"cannot read: {err.strerror}"))
            continue
        key = str(p)
        hit = files.get(key)
        if hit and hit["size"] == st.st_size and hit["mtime_ns"] == st.st_mtime_ns:
            e = hit["entry"]
            entry = Entry(e["name"], e["mechanism"], e["title"], e["summary"], e["steps"], p)
            need = set(hit["needs"])
        else:
            try:
                s = load(p)
            except ScenarioError as err:
                bad.append(err)
                continue
            entry = Entry(s.name, s.mechanism, s.title, s.summary, len(s.steps), p)
            need = needs(s)
        good.append(entry)
        needed[entry.name] = need
        fresh[key] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "needs": sorted(need),
                      "entry": {"name": entry.name, "mechanism": entry.mechanism,
                                "title": entry.title, "summary": entry.summary,
                                "steps": entry.steps}}
    if fresh != files:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps({"stamp": stamp, "files": fresh}))
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home: no cache, just a slower start
    return good, bad, needed


def scan(root: Path | None = None, check: Callable[[Scenario], str | None] | None = None
         ) -> tuple[list[Entry], list[ScenarioError]]:
    """Every valid scenario of the folder, and the errors of the broken ones.

    check(scenario) -> reason or None, if given, marks entries this system cannot run."""
    good, bad = [], []
    for path in scenario_paths(root):
        try:
            s = load(path)
        except ScenarioError as err:
            bad.append(err)
            continue
        good.append(Entry(s.name, s.mechanism, s.title, s.summary, len(s.steps), path,
                          check(s) if check else None))
    return good, bad


def names(root: Path | None = None) -> list[str]:
    return [scenario_name(p) for p in scenario_paths(root)]


class UnknownScenario(ScenarioError):
    pass


def find(name_or_path: str, root: Path | None = None) -> Scenario:
    """A shipped scenario by name ("pipe/eof"), or a scenario file by path."""
    path = Path(name_or_path)
    if name_or_path.endswith(".toml") or path.is_file():
        return load(path)
    by_name = {scenario_name(p): p for p in scenario_paths(root)}
    known = list(by_name)
    if name_or_path in by_name:
        return load(by_name[name_or_path])
    close = difflib.get_close_matches(name_or_path, known, n=3, cutoff=0.5)
    if not close:
        close = [n for n in known if name_or_path in n][:3]
    hint = f" Did you mean: {', '.join(close)}?" if close else " See 'ipcviz list'."
    raise UnknownScenario(None, None, f"unknown scenario '{name_or_path}'.{hint}")
