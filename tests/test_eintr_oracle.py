"""Interrupted calls, with the kernel as the oracle.

For every blocking call a lesson can make, a small C program (tests/c/eintr_oracle.c,
compiled once) blocks in it the same way and gets a caught SIGUSR1, with and without
SA_RESTART; what the call did (restarted, or returned what, with which errno) is what a C
program written as the lesson shows would see.  One lesson run through ipcviz makes the same
calls in one process per (call, SA_RESTART) and must show the same thing.  signal(7),
"Interruption of system calls and library functions by signal handlers", is the table this
checks; nothing here copies it.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import subprocess

import pytest

from ipcviz.probe import procfs, syscalls
from ipcviz.runtime import Run
from ipcviz.scenario import loads

from .cprogs import compile_c
from .conftest import wait_until

# The setup a call needs and the step that blocks in it, as lesson steps of process {c}
# (objects are named after the process, so that every process has its own).
_S = '[[step]]\nprocess = "{c}"\nnarration = "x"\n'
CALLS: dict[str, tuple[list[tuple[str, str]], str]] = {
    "read": ([("{c}_p", "pipe")], _S + 'action = "pipe"\nobject = "{c}_p"\n'
             + _S + 'action = "read"\nfd = "{c}_p.read"\nsize = 100\n'),
    # shm's read(): a copy into the process's buffer, here from a pipe (C: the same read)
    "read_into": ([("{c}_p", "pipe")], _S + 'action = "pipe"\nobject = "{c}_p"\n'
                  + _S + 'action = "read_into"\nfd = "{c}_p.read"\nsize = 100\n'),
    "write": ([("{c}_p", "pipe")], _S + 'action = "pipe"\nobject = "{c}_p"\n'
              + _S + 'action = "write"\nfd = "{c}_p.write"\nsize = "capacity"\n'
              + _S + 'action = "write"\nfd = "{c}_p.write"\ndata = "x"\n'),
    "open": ([("{c}_f", "fifo")], _S + 'action = "mkfifo"\nobject = "{c}_f"\n'
             + _S + 'action = "open"\nobject = "{c}_f"\nmode = "read"\n'),
    "wait": ([], _S + 'action = "fork"\nchild = "{c}_kid"\n'
             + _S + 'action = "wait"\nchild = "{c}_kid"\n'),
    "poll": ([("{c}_p", "pipe")], _S + 'action = "pipe"\nobject = "{c}_p"\n'
             + _S + 'action = "poll"\nfd = "{c}_p.read"\n'),
    "select": ([("{c}_p", "pipe")], _S + 'action = "pipe"\nobject = "{c}_p"\n'
               + _S + 'action = "select"\nfd = "{c}_p.read"\n'),
    "msgrcv": ([("{c}_q", "sysv_msgq")], _S + 'action = "msgget"\nobject = "{c}_q"\ncreate = true\n'
               + _S + 'action = "msgrcv"\nobject = "{c}_q"\n'),
    "msgsnd": ([("{c}_q", "sysv_msgq")], _S + 'action = "msgget"\nobject = "{c}_q"\ncreate = true\n'
               + _S + 'action = "msgctl"\nobject = "{c}_q"\ncommand = "IPC_SET"\nmax_bytes = 16\n'
               + _S + 'action = "msgsnd"\nobject = "{c}_q"\nsize = 16\n'
               + _S + 'action = "msgsnd"\nobject = "{c}_q"\nsize = 1\n'),
    "mq_receive": ([("{c}_q", "posix_mq")], _S + 'action = "mq_open"\nobject = "{c}_q"\n'
                   'create = true\nmax_messages = 1\nmax_message_size = 16\n'
                   + _S + 'action = "mq_receive"\nobject = "{c}_q"\n'),
    "mq_send": ([("{c}_q", "posix_mq")], _S + 'action = "mq_open"\nobject = "{c}_q"\n'
                'create = true\nmax_messages = 1\nmax_message_size = 16\n'
                + _S + 'action = "mq_send"\nobject = "{c}_q"\ndata = "x"\n'
                + _S + 'action = "mq_send"\nobject = "{c}_q"\ndata = "y"\n'),
    "sem_wait": ([("{c}_s", "sem")], _S + 'action = "sem_open"\nobject = "{c}_s"\n'
                 + _S + 'action = "sem_wait"\nobject = "{c}_s"\n'),
    "semop": ([("{c}_s", "sysv_sem")], _S + 'action = "semget"\nobject = "{c}_s"\n'
              + _S + 'action = "semop"\nobject = "{c}_s"\nop = -1\n'),
    "accept": ([("{c}_srv", "socket"), ("{c}_conn", "socket")],
               _S + 'action = "socket"\nobject = "{c}_srv"\n'
               + _S + 'action = "bind"\nobject = "{c}_srv"\n'
               + _S + 'action = "listen"\nobject = "{c}_srv"\n'
               + _S + 'action = "accept"\nobject = "{c}_srv"\nas = "{c}_conn"\n'),
    "connect": ([("{c}_srv", "socket"), ("{c}_c1", "socket"), ("{c}_c2", "socket")],
                _S + 'action = "socket"\nobject = "{c}_srv"\n'
                + _S + 'action = "bind"\nobject = "{c}_srv"\n'
                + _S + 'action = "listen"\nobject = "{c}_srv"\nbacklog = 0\n'
                + _S + 'action = "socket"\nobject = "{c}_c1"\n'
                + _S + 'action = "connect"\nobject = "{c}_c1"\nserver = "{c}_srv"\n'
                + _S + 'action = "socket"\nobject = "{c}_c2"\n'
                + _S + 'action = "connect"\nobject = "{c}_c2"\nserver = "{c}_srv"\n'),
    "recvmsg": ([("{c}_s", "socketpair"), ("{c}_f", "open_file")],
                _S + 'action = "socketpair"\nobject = "{c}_s"\n'
                + _S + 'action = "recv_fd"\nfd = "{c}_s.b"\nas = "{c}_f.fd"\n'),
    "sendmsg": ([("{c}_s", "socketpair")], _S + 'action = "socketpair"\nobject = "{c}_s"\n'
                + _S + 'action = "set_nonblock"\nfd = "{c}_s.a"\n'
                + _S + 'action = "write"\nfd = "{c}_s.a"\nsize = 1048576\n'
                + _S + 'action = "set_nonblock"\nfd = "{c}_s.a"\non = false\n'
                + _S + 'action = "send_fd"\nfd = "{c}_s.a"\npass = "{c}_s.b"\n'),
    "pause": ([], _S + 'action = "pause"\n'),
    "sigsuspend": ([], _S + 'action = "sigsuspend"\nsignals = ["SIGUSR2"]\n'),
    "sigwait": ([], _S + 'action = "sigprocmask"\nhow = "block"\nsignals = ["SIGUSR2"]\n'
                + _S + 'action = "sigwait"\nsignals = ["SIGUSR2"]\n'),
    # Interrupted by their own timer (SIGALRM after 200 ms): a step that lasts until the
    # call returns, as in C (so do the timed waits below).
    "sleep": ([], _S + 'action = "setitimer"\nseconds = 0.2\n'
              + _S + 'action = "sleep"\nseconds = 2\n'),
    "nanosleep": ([], _S + 'action = "setitimer"\nseconds = 0.2\n'
                  + _S + 'action = "sleep"\nseconds = 0.5\n'),
    "sem_timedwait": ([("{c}_s", "sem")], _S + 'action = "sem_open"\nobject = "{c}_s"\n'
                      + _S + 'action = "sem_timedwait"\nobject = "{c}_s"\ntimeout_ms = 5000\n'),
    "mq_timedreceive": ([("{c}_q", "posix_mq")], _S + 'action = "mq_open"\nobject = "{c}_q"\n'
                        'create = true\nmax_messages = 1\nmax_message_size = 16\n'
                        + _S + 'action = "setitimer"\nseconds = 0.2\n'
                        + _S + 'action = "mq_receive"\nobject = "{c}_q"\ntimeout_ms = 500\n'),
}
TIMED = ("sleep", "nanosleep", "mq_timedreceive")
C_CALL = {"read_into": "read"}  # the C program's name for a call, where it differs
SLEEPS_IN = {"read": "read", "read_into": "read", "write": "write", "open": "openat",
             "wait": "wait4",
             "poll": ("poll", "ppoll"), "select": ("select", "pselect6"), "msgrcv": "msgrcv",
             "msgsnd": "msgsnd", "mq_receive": "mq_timedreceive", "mq_send": "mq_timedsend",
             "sem_wait": "futex", "sem_timedwait": "futex", "semop": ("semop", "semtimedop"),
             "accept": ("accept", "accept4"), "connect": "connect", "recvmsg": "recvmsg",
             "sendmsg": "sendmsg", "pause": ("pause", "rt_sigsuspend", "ppoll"),
             "sigsuspend": "rt_sigsuspend", "sigwait": "rt_sigtimedwait"}


# -- the oracle: the C program ----------------------------------------------------------

@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    return compile_c("eintr_oracle", tmp_path_factory.mktemp("oracle"), debug=False)


def _asleep_in(pid: int) -> str | None:
    """The call PID sleeps in (state S), or None."""
    try:
        stat = procfs.read_stat(pid)
        with open(f"/proc/{pid}/syscall") as f:
            sc = procfs.parse_syscall(f.read())
    except (procfs.NoSuchProcess, OSError):
        return None
    return syscalls.name(sc.number) if stat.state == "S" and not sc.running else None


def c_outcome(exe, call: str, restart: bool, tmp) -> str:
    """What the C program's call did: "restarted", or "ret=N errno=E"."""
    proc = subprocess.Popen([str(exe), C_CALL.get(call, call), str(int(restart)), str(tmp)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        if call in TIMED:
            out, handled = proc.communicate(timeout=10)
            assert handled == "h"
            return out.strip()
        names = SLEEPS_IN[call]
        names = (names,) if isinstance(names, str) else names
        wait_until(lambda: _asleep_in(proc.pid) in names, 10, f"oracle asleep in {call}")
        name = _asleep_in(proc.pid)
        os.kill(proc.pid, signal.SIGUSR1)
        # the handler writes "h" when it ran; after it, the call is either asleep again
        # (restarted) or has returned and the program printed what it got
        assert select.select([proc.stderr], [], [], 10)[0], "the handler never ran"
        assert os.read(proc.stderr.fileno(), 1) == b"h"
        result: list[str] = []

        def settled() -> bool:
            if proc.poll() is not None:
                result.append(proc.stdout.read().strip())
            elif _asleep_in(proc.pid) == name:
                result.append("restarted")
            return bool(result)
        wait_until(settled, 10, f"oracle's {call} returned or restarted")
        return result[0]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


# -- the same calls in one lesson -------------------------------------------------------

def _caller(call: str, restart: bool) -> str:
    return f"{call.replace('_', '')}{int(restart)}"


def lesson() -> str:
    procs = ['[[process]]\nname = "sender"\n']
    objects: list[str] = []
    steps: list[str] = []
    for call, (objs, setup) in CALLS.items():
        for restart in (False, True):
            c = _caller(call, restart)
            procs.append(f'[[process]]\nname = "{c}"\nparent = "sender"\n')
            if call == "wait":
                procs.append(f'[[process]]\nname = "{c}_kid"\nparent = "{c}"\n')
            objects += [f'[[object]]\nname = "{n.format(c=c)}"\nkind = "{k}"\n'
                        for n, k in objs]
            steps.append(f'[[step]]\nprocess = "sender"\naction = "fork"\nchild = "{c}"\n'
                         'narration = "x"\n')
            sig = "SIGALRM" if call in TIMED else "SIGUSR1"
            steps.append(_S.format(c=c) + f'action = "signal"\nsignal = "{sig}"\n'
                         f'disposition = "handler"\nrestart = {str(restart).lower()}\n')
            steps.append(setup.format(c=c))
            if call not in TIMED:
                steps.append(f'[[step]]\nprocess = "sender"\naction = "kill"\n'
                             f'target = "{c}"\nsignal = "SIGUSR1"\nnarration = "x"\n')
    return 'title = "interrupted calls"\n' + "".join(procs + objects + steps)


def ipcviz_outcomes() -> dict[str, str]:
    """What each caller's interrupted call did in the lesson, as c_outcome says it."""
    scenario = loads(lesson(), "oracle.toml", "custom/eintr-oracle")
    got: dict[str, str] = {}
    with Run(scenario) as run:
        run.start()
        while not run.finished:
            snap = run.step()
            step = scenario.steps[snap.step - 1]
            # a timed call: the step right after its process's setitimer
            timed = scenario.steps[snap.step - 2].action == "setitimer"
            if step.action != "kill" and not timed:
                continue
            c = step.process if timed else step.args["target"]
            assert any(e.outcome == "handled" and e.process == c for e in snap.log), c
            ends = [e for e in snap.log if e.process == c and e.step == snap.step
                    and e.outcome in ("returned", "failed")] if timed else \
                [e for e in snap.log if e.process == c and e.late]
            if not ends and snap.process_named(c).state == "blocked":
                got[c] = "restarted"
            else:
                assert len(ends) == 1, (c, ends)
                e = ends[0]
                got[c] = f"ret={-1 if e.errno else e.result} errno={e.errno or 0}"
    return got


@pytest.mark.kernel
def test_interrupted_calls_do_what_they_do_in_c(oracle, tmp_path, runtime_dir):
    """Every blocking call of the vocabulary, interrupted by a caught signal with and
    without SA_RESTART, ends (or restarts) in ipcviz as in the C program."""
    # GIVEN what the kernel does to the C calls
    want = {}
    for call in CALLS:
        for restart in (False, True):
            d = tmp_path / f"{call}{int(restart)}"
            d.mkdir()
            want[_caller(call, restart)] = c_outcome(oracle, call, restart, d)
    # WHEN the same calls are made by a lesson's processes
    got = ipcviz_outcomes()
    # THEN each ends the same way
    assert got == want
