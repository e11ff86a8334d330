"""The `ipcviz` command.

    ipcviz                          the app: pick a lesson
    ipcviz NAME                     the app, on that lesson
    ipcviz list [--json]            the shipped lessons
    ipcviz run NAME|PATH --headless [--json] [--record FILE] [--explain]
    ipcviz check PATH...            validate scenario files only
    ipcviz clean [--dry-run]        remove what killed runs left behind
    ipcviz bench ...                measure IPC throughput and latency
    ipcviz trace [--headless] [--json] [--record FILE] -- PROGRAM [ARGS...]
                                    your own program under ptrace, stopped at IPC calls
    ipcviz attach --watch PID [--headless] [--json]   what a running program waits for
    ipcviz attach PID [--headless] [--json] [--record FILE] [--follow] [--seconds N]

Exit codes: 0 every expect held; 1 an expect failed; 2 bad input (a scenario file, a
name, an option); 3 the run could not go on (a process hung past its bound, a kernel
limit, a crash), with one line saying why.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..command import EXIT_EXPECT, EXIT_INPUT, EXIT_OK, EXIT_RUN
from ..command import Parser as _Parser
from ..command import Terminated as _Terminated
from ..command import raise_on_terminating, restore_handlers

if TYPE_CHECKING:
    from ..files import NewFile
    from ..report.quiz import Answers
    from ..runtime import Run
    from ..scenario import Scenario

COMMANDS = ("list", "run", "replay", "check", "new", "schema", "clean", "bench", "export",
            "serve", "trace", "attach", "help")
# Commands with their own argument parsing, in their own package: name -> module path.
DELEGATED = {"bench": "ipcviz.bench.cli", "export": "ipcviz.export.cli",
             "serve": "ipcviz.serve.cli", "trace": "ipcviz.cli.trace"}


def _seconds(low: float, high: float, low_ok: bool):
    """An argparse type: a finite number of seconds in [low, high] (or (low, high])."""
    def parse(text: str) -> float:
        import math

        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        if not math.isfinite(value) or value > high or value < low or (
                value == low and not low_ok):
            side = f"from {low:g}" if low_ok else f"more than {low:g}"
            raise argparse.ArgumentTypeError(f"{text!r} seconds: must be {side} up to {high:g}")
        return value
    return parse


def _parser() -> argparse.ArgumentParser:
    from ..scenario.limits import MAX_DELAY, MAX_STEP_TIMEOUT

    p = _Parser(prog="ipcviz", description="Watch Unix IPC happen on the real kernel.")
    sub = p.add_subparsers(dest="command")
    ls = sub.add_parser("list", help="list the lessons")
    ls.add_argument("--json", action="store_true", help="a JSON array")
    run = sub.add_parser("run", help="run a lesson")
    run.add_argument("scenario", help="a lesson name (pipe/eof) or a scenario file")
    run.add_argument("--headless", action="store_true", help="print a report, no app")
    run.add_argument("--json", action="store_true", help="one JSON object per snapshot")
    run.add_argument("--record", metavar="FILE", help="save the trace (JSON lines)")
    run.add_argument("--explain", action="store_true",
                     help="say where each value came from and how to see it yourself")
    run.add_argument("--lang", choices=("en", "zh"),
                     help="narration language (default: IPCVIZ_LANG, then the locale)")
    run.add_argument("--quiz", action="store_true",
                     help="ask each lesson question before its step; the kernel answers")
    run.add_argument("--present", action="store_true",
                     help="presentation mode: no code or log, the objects get the room")
    run.add_argument("--delay", type=_seconds(0.0, MAX_DELAY, True), default=0.0, metavar="S",
                     help="pause S seconds after printing each snapshot (for a class)")
    run.add_argument("--step-timeout", type=_seconds(0.0, MAX_STEP_TIMEOUT, False),
                     default=5.0, metavar="S",
                     help="seconds a step may take to return or block (default 5)")
    rp = sub.add_parser("replay", help="replay a recorded trace: no process, no kernel object")
    rp.add_argument("trace", help="a file written by run --record")
    rp.add_argument("--headless", action="store_true", help="print a report, no app")
    rp.add_argument("--json", action="store_true", help="one JSON object per snapshot")
    rp.add_argument("--lang", choices=("en", "zh"), help="narration language")
    rp.add_argument("--quiz", action="store_true", help="ask the lesson's questions")
    rp.add_argument("--present", action="store_true", help="presentation mode (no code or log)")
    chk = sub.add_parser("check", help="validate scenario files")
    chk.add_argument("paths", nargs="+")
    nw = sub.add_parser("new", help="write a starting scenario file to edit")
    nw.add_argument("name", help="file name (NAME.toml is written)")
    nw.add_argument("--mechanism", default="pipe",
                    help="start from a lesson of this mechanism (default pipe)")
    sub.add_parser("schema", help="print the JSON Schema of scenario files (for editors)")
    cl = sub.add_parser("clean", help="remove processes and objects of dead runs")
    cl.add_argument("--dry-run", action="store_true", help="only list them")
    sub.add_parser("bench", help="measure IPC throughput and latency", add_help=False)
    sub.add_parser("export", help="write a lesson as SVG slides with an index.html",
                   add_help=False)
    sub.add_parser("serve", help="serve the app to a browser (textual-serve)", add_help=False)
    sub.add_parser("trace", help="run your own program under ptrace and watch its IPC "
                   "(trace [--headless] [--json] [--record FILE] -- PROGRAM [ARGS...])",
                   add_help=False)
    at = sub.add_parser("attach", help="what a running program and its children wait for")
    at.add_argument("pid", type=int, help="the process (its descendants come with it)")
    at.add_argument("--watch", action="store_true",
                    help="observe only, without ptrace: no stepping, nothing stopped")
    at.add_argument("--headless", action="store_true", help="print one report, no app")
    at.add_argument("--json", action="store_true", help="one JSON snapshot (the trace schema)")
    at.add_argument("--record", metavar="FILE", help="save the trace (JSON lines) for replay")
    at.add_argument("--follow", action="store_true",
                    help="then print the IPC calls as they come, until Ctrl+C")
    at.add_argument("--seconds", type=float, metavar="N",
                    help="then print the IPC calls as they come for N seconds")
    sub.add_parser("help", help="this text")
    return p


def main(argv: list[str] | None = None) -> int:
    from ..serve import die_with_server

    die_with_server()
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except BrokenPipeError:
        # the reader of our output went away (ipcviz list | head): not an error of ours
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK


def _take_scenario_dirs(argv: list[str]) -> list[str]:
    """--scenarios DIR (any number, anywhere): lecturers' own folders, searched first."""
    rest, dirs = [], []
    i = 0
    while i < len(argv):
        if argv[i] == "--scenarios" and i + 1 < len(argv):
            dirs.append(argv[i + 1])
            i += 2
            continue
        if argv[i].startswith("--scenarios="):
            dirs.append(argv[i].split("=", 1)[1])
        else:
            rest.append(argv[i])
        i += 1
    if dirs:
        missing = [d for d in dirs if not os.path.isdir(d)]
        if missing:
            raise SystemExit(_fail(f"--scenarios {missing[0]}: no such folder", EXIT_INPUT))
        old = os.environ.get("IPCVIZ_SCENARIOS")
        os.environ["IPCVIZ_SCENARIOS"] = os.pathsep.join(
            [os.path.abspath(d) for d in dirs] + ([old] if old else []))
    return rest


def _take_course(argv: list[str]) -> list[str]:
    """--course FILE (anywhere): the lessons, their order and sections for the picker, n/N
    and `ipcviz list` (checked where it is used: scenario.course)."""
    rest = []
    i = 0
    while i < len(argv):
        if argv[i] == "--course" and i + 1 < len(argv):
            os.environ["IPCVIZ_COURSE"] = os.path.abspath(argv[i + 1])
            i += 2
            continue
        if argv[i].startswith("--course="):
            os.environ["IPCVIZ_COURSE"] = os.path.abspath(argv[i].split("=", 1)[1])
        else:
            rest.append(argv[i])
        i += 1
    return rest


def _take_app_options(argv: list[str]) -> tuple[list[str], dict]:
    """--lang en|zh, --quiz and --present for the app
    (`ipcviz [--lang zh] [--quiz] [--present] [NAME]`)."""
    if argv and argv[0] in COMMANDS:
        return argv, {}
    rest, opts = [], {}
    i = 0
    while i < len(argv):
        if argv[i] == "--lang" and i + 1 < len(argv):
            opts["lang"] = argv[i + 1]
            i += 2
            continue
        if argv[i] in ("--quiz", "--present"):
            opts[argv[i][2:]] = True
        else:
            rest.append(argv[i])
        i += 1
    if "lang" in opts:
        from ..lang import choose

        try:
            choose(opts["lang"])
        except ValueError as err:
            raise SystemExit(_fail(str(err), EXIT_INPUT)) from None
    return rest, opts


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"ipcviz {version('ipcviz')}"
    except PackageNotFoundError:  # run from a checkout that was never installed
        from .. import __version__

        return f"ipcviz {__version__}"


def _main(argv: list[str]) -> int:
    if argv in (["--version"], ["-V"]):
        sys.stdout.write(_version() + "\n")
        return EXIT_OK
    argv = _take_scenario_dirs(argv)
    argv = _take_course(argv)
    argv, app_options = _take_app_options(argv)
    if argv and argv[0] in DELEGATED:
        from importlib import import_module

        return import_module(DELEGATED[argv[0]]).main(argv[1:])
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        return _app(argv[0] if argv else None, **app_options)
    args = _parser().parse_args(argv)
    if args.command in (None, "help"):
        _parser().print_help()
        return EXIT_OK
    if args.command == "list":
        return cmd_list(args.json, sys.stdout)
    if args.command == "check":
        return cmd_check(args.paths, sys.stdout)
    if args.command == "new":
        return cmd_new(args.name, args.mechanism, sys.stdout)
    if args.command == "schema":
        from ..scenario.schema import schema

        sys.stdout.write(json.dumps(schema(), indent=2) + "\n")
        return EXIT_OK
    if args.command == "clean":
        return cmd_clean(args.dry_run, sys.stdout)
    if args.command == "replay":
        return cmd_replay(args.trace, sys.stdout, headless=args.headless or args.json,
                          as_json=args.json, lang=args.lang, quiz=args.quiz,
                          present=args.present)
    if args.command == "attach":
        return cmd_attach(args.pid, args.watch, args.headless or args.json, args.json,
                          sys.stdout, record=args.record, follow=args.follow,
                          seconds=args.seconds)
    if args.command == "run":
        if not args.headless:
            return _app(args.scenario, lang=args.lang, quiz=args.quiz, present=args.present)
        return cmd_run(args.scenario, sys.stdout, as_json=args.json, record=args.record,
                       explain=args.explain, step_timeout=args.step_timeout,
                       delay=args.delay, lang=args.lang, quiz=args.quiz)
    return EXIT_INPUT


def _fail(message: str, code: int) -> int:
    from ..textsafe import printable

    sys.stderr.write(f"ipcviz: {printable(message)}\n")  # a name from a file: shown, not obeyed
    return code


def _app(name: str | None, lang: str | None = None, quiz: bool = False,
         present: bool = False) -> int:
    from ..scenario import ScenarioError, find

    if name is not None:
        from ..runtime.availability import unavailable

        try:
            why = unavailable(find(name))
        except ScenarioError as err:
            return _fail(str(err), EXIT_INPUT)
        if why:
            return _fail(f"{name} cannot run on this system: {why}", EXIT_RUN)
    # Sweep what killed runs left behind, in a thread started once the first frame is drawn
    # (it would share the interpreter with the start-up otherwise); it only touches dead
    # runs, so it cannot race the run this app is about to start.
    import threading

    def sweep_in_background() -> None:
        threading.Thread(target=_clean_quietly, name="ipcviz-sweep", daemon=True).start()

    from ..app import run_app
    from ..lang import choose

    return run_app(name, lang=choose(lang), quiz=quiz, present=present,
                   after_first_frame=sweep_in_background)


def cmd_list(as_json: bool, out: TextIO) -> int:
    from ..runtime.availability import unavailable
    from ..scenario.catalog import scan
    from ..scenario.course import CourseError, ordered

    items, broken = scan(check=unavailable)  # each lesson loaded once
    try:  # in the course's order and sections (--course FILE, or the shipped one)
        items = ordered(items)
    except CourseError as err:
        return _fail(str(err), EXIT_INPUT)
    for err in broken:  # one line each; the good lessons are still listed
        _fail(f"skipped a broken scenario: {err}", EXIT_INPUT)
    why = {e.name: e.unavailable for e in items}
    if as_json:
        out.write(json.dumps([{"name": e.name, "mechanism": e.mechanism, "title": e.title,
                               "summary": e.summary, "steps": e.steps,
                               "section": e.section or None,
                               "available": why[e.name] is None,
                               "unavailable_reason": why[e.name]} for e in items],
                             indent=2) + "\n")
        return EXIT_OK
    from ..textsafe import SafeWriter, printable

    out = SafeWriter(out)  # titles from lecturers' files: shown, never obeyed
    section = None
    for e in items:
        if e.section != section:
            section = e.section
            out.write(f"\n{printable(section) if section else 'Other lessons'}\n")
        out.write(f"  {printable(e.name):<28} {printable(e.title)}\n")
        if why[e.name]:
            out.write(f"  {'':<28} (unavailable here: {printable(why[e.name])})\n")
    return EXIT_OK


def cmd_replay(path: str, out: TextIO, headless: bool = False, as_json: bool = False,
               lang: str | None = None, quiz: bool = False, present: bool = False) -> int:
    """Show a recorded trace again: full stepping and history, no process, no kernel object."""
    from ..model.timeline import TraceError, load_recording, write_trace_line
    from ..report.text import print_header, print_snapshot

    try:
        scenario, snaps = load_recording(path)
    except TraceError as err:
        return _fail(str(err), EXIT_INPUT)
    if as_json:
        for snap in snaps:
            write_trace_line(out, snap)
        return EXIT_OK
    from ..lang import choose

    lang = choose(lang)
    if headless:
        print_header(scenario, out, lang)
        for snap in snaps:
            print_snapshot(snap, out, lang=lang, scenario=scenario)
        from ..textsafe import printable

        out.write(f"\n(replayed from {printable(path)}: {len(snaps) - 1} steps, "
                  "no process was run)\n")
        return EXIT_OK
    from ..app import replay_app

    return replay_app(scenario, snaps, lang=lang, quiz=quiz, present=present)


def cmd_attach(pid: int, watch: bool, headless: bool, as_json: bool, out: TextIO,
               record: str | None = None, follow: bool = False,
               seconds: float | None = None) -> int:
    """`attach --watch PID`: the program's processes, objects, call sites and why nothing
    moves, without ptrace.  `attach PID`: seized with ptrace (cli/attach.py)."""
    if not watch:
        from .attach import main as attach_main

        return attach_main(pid, headless, as_json, record, follow, seconds, out)
    from ..runtime.watch import NoProcess, Watch

    try:
        w = Watch(pid)
    except NoProcess as err:
        return _fail(str(err), EXIT_INPUT)
    if not headless:
        from ..app import watch_app

        return watch_app(w)
    try:
        snap = w.start()
    finally:
        w.close()
    if as_json:
        from ..model.timeline import write_trace_line

        write_trace_line(out, snap)
        return EXIT_OK
    from ..report.text import print_watch

    print_watch(snap, out, w.scenario)
    return EXIT_OK


def cmd_new(name: str, mechanism: str, out: TextIO) -> int:
    """Write NAME.toml: an annotated pipe lesson, or a shipped lesson of the mechanism."""
    from ..scenario import shipped_dir

    target = name if name.endswith(".toml") else f"{name}.toml"
    if os.path.lexists(target):  # a dangling symlink too: never written through
        return _fail(f"{target} exists already: choose another name", EXIT_INPUT)
    template = Path(__file__).resolve().parent.parent / "scenario" / "templates" / "pipe.toml"
    if mechanism != "pipe":
        lessons = sorted((shipped_dir() / mechanism).glob("*.toml"))
        if not lessons:
            known = sorted(p.name for p in shipped_dir().iterdir() if p.is_dir())
            return _fail(f"unknown mechanism '{mechanism}' (known: {', '.join(known)})",
                         EXIT_INPUT)
        template = min(lessons, key=lambda p: p.stat().st_size)
    text = template.read_text(encoding="utf-8")
    if mechanism != "pipe":
        text = (f"# Started from the shipped lesson {mechanism}/{template.stem}: edit freely.\n"
                "# `ipcviz check FILE` validates, `ipcviz run FILE --headless` runs it.\n\n"
                + text)
    from ..files import WriteError, write_file

    try:
        write_file(target, text)
    except WriteError as err:
        return _fail(str(err), EXIT_INPUT)
    out.write(f"wrote {target}: edit it, then 'ipcviz check {target}' and "
              f"'ipcviz run {target} --headless'\n")
    return EXIT_OK


def cmd_check(paths: list[str], out: TextIO) -> int:
    from ..scenario import ScenarioError, load
    from ..textsafe import printable

    code = EXIT_OK
    for path in paths:
        try:
            s = load(path)
        except ScenarioError as errors:
            for err in errors.errors:  # every problem of the file, each with its fix
                sys.stderr.write(f"{printable(str(err))}\n")
                if err.hint:
                    sys.stderr.write(f"  fix: {printable(err.hint)}\n")
            code = EXIT_INPUT
            continue
        out.write(f"{printable(path)}: ok ({len(s.steps)} steps, "
                  f"{sum(len(st.expects) for st in s.steps)} expects)\n")
    return code


def cmd_clean(dry_run: bool, out: TextIO) -> int:
    from ..runtime.rundir import RunDirError
    from ..runtime.sweep import live_conductors, sweep
    from ..serve import end_orphaned_apps

    try:
        # Apps of a server that died conduct runs that look alive: end them, then sweep.
        found = end_orphaned_apps(live_conductors(), dry_run=dry_run)
        found += sweep(dry_run=dry_run)
    except RunDirError as err:
        return _fail(str(err), err.code)
    verb = "would remove" if dry_run else "removed"
    for line in found:
        out.write(f"{verb} {line}\n")
    if not found:
        out.write("nothing to clean\n")
    return EXIT_OK


def _clean_quietly() -> None:
    """Remove what killed runs left behind, before starting a new one."""
    from ..runtime.rundir import RunDirError
    from ..runtime.sweep import sweep

    try:
        sweep(dry_run=False)
    except (OSError, RunDirError):
        pass  # the run itself says why the runtime directory cannot be used


def cmd_run(name: str, out: TextIO, as_json: bool = False, record: str | None = None,
            explain: bool = False, step_timeout: float = 5.0, delay: float = 0.0,
            lang: str | None = None, quiz: bool = False) -> int:
    from ..lang import choose
    from ..report.quiz import Answers
    from ..report.text import print_header
    from ..runtime import Run, RunError
    from ..scenario import ScenarioError, find

    from ..runtime.availability import unavailable

    try:
        scenario = find(name)
    except ScenarioError as err:
        return _fail(str(err), EXIT_INPUT)
    why = unavailable(scenario)
    if why:
        return _fail(f"{scenario.name} cannot run on this system: {why}", EXIT_RUN)
    _clean_quietly()
    old = raise_on_terminating()
    from ..files import WriteError

    try:  # written beside its name and renamed at the end: a symlink there is not followed
        trace = _open_trace(record, scenario)
    except WriteError as err:
        restore_handlers(old)
        return _fail(f"cannot write the trace: {err}", EXIT_INPUT)
    unwritten = None
    run = Run(scenario, step_bound=step_timeout)
    try:
        lang = choose(lang)
        answers = (Answers(getattr(sys.stdin, "buffer", None), out, lang)
                   if quiz and not as_json else None)
        if not as_json:
            print_header(scenario, out, lang)
        failed = _play(run, scenario, out, trace, as_json, explain, delay, lang, answers)
    except RunError as err:
        return _fail(f"{scenario.name}: {err}", getattr(err, "code", EXIT_RUN))
    except WriteError as err:
        return _fail(f"cannot write the trace: {err}", EXIT_RUN)
    except _Terminated as err:
        return _fail(f"stopped by {err}; the run was cleaned up", 128 + signal.Signals[str(err)])
    except KeyboardInterrupt:
        return _fail("interrupted; the run was cleaned up", 130)
    finally:
        unwritten = _close_run(run, trace, old)
    if unwritten:
        return _fail(f"cannot write the trace: {unwritten}", EXIT_RUN)
    if failed:
        if not as_json:
            out.write(f"\n{failed} expect(s) failed.\n")
        return EXIT_EXPECT
    if not as_json:
        out.write(f"\nAll expects held ({len(scenario.steps)} steps).\n")
    return EXIT_OK


def _open_trace(record: str | None, scenario: Scenario) -> NewFile | None:
    """The trace file of `run --record`, its header written; None without --record."""
    from ..files import NewFile
    from ..model.timeline import write_trace_header

    trace = NewFile(record) if record else None
    if trace:
        write_trace_header(trace, scenario.name, scenario.source)
    return trace


def _play(run: Run, scenario: Scenario, out: TextIO, trace: NewFile | None, as_json: bool,
          explain: bool, delay: float, lang: str, answers: Answers | None) -> int:
    """Every step of RUN printed (and recorded); the number of expects that failed.  With
    ANSWERS (a headless quiz), each question is asked before its step and the class's answer
    shown beside the kernel's after it."""
    from ..model.timeline import write_trace_line
    from ..report.quiz import tell
    from ..report.text import print_question, print_snapshot

    failed = 0
    guess = None
    snap = run.start()
    while True:
        if as_json:
            write_trace_line(out, snap)
        else:
            print_snapshot(snap, out, explain=explain, lang=lang, scenario=scenario)
            if answers and snap.step and scenario.steps[snap.step - 1].quiz:
                tell(snap, guess, out, lang)
        out.flush()
        if trace:
            write_trace_line(trace, snap)
        failed += sum(not c.ok for c in snap.checks)
        if run.finished:
            return failed
        nxt = run.next_step
        if answers and nxt is not None and nxt.quiz is not None:
            print_question(nxt, out, lang)
            guess = answers.ask(len(nxt.quiz.choices))  # a/b/c on stdin, or none
        if delay > 0:
            time.sleep(delay)  # pacing for the reader, not a wait for the kernel
        snap = run.step()


def _close_run(run: Run, trace: NewFile | None, old: dict[Any, Any]) -> str | None:
    """RUN cleaned up and TRACE committed, signals held off meanwhile; why the trace could
    not be written, or None."""
    from ..files import WriteError

    unwritten = None
    # A signal arriving now must not cut the clean-up short (it is what it asks for).
    old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    for s in old:
        signal.signal(s, signal.SIG_IGN)
    run.close()
    if trace:
        try:
            trace.commit()  # what was recorded, also of a run that could not go on
        except WriteError as err:
            unwritten = str(err)
    restore_handlers(old)
    signal.signal(signal.SIGINT, old_int)
    return unwritten
