"""Why ptrace would be refused (ipcviz.runtime.ptrace_check): each cause from given file
contents, and the live checks on this machine."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from ipcviz.runtime import ptrace_check as pc

ROOT_CAPS = "000001ffffffffff"
NO_CAPS = "0000000000000000"


def status(uid: int = 1000, caps: str = NO_CAPS, seccomp: int = 0, tracer: int = 0) -> str:
    return (f"Name:\tprog\nState:\tS (sleeping)\nTracerPid:\t{tracer}\n"
            f"Uid:\t{uid}\t{uid}\t{uid}\t{uid}\nGid:\t{uid}\t{uid}\t{uid}\t{uid}\n"
            f"CapEff:\t{caps}\nSeccomp:\t{seccomp}\n")


def test_nothing_in_the_way():
    assert pc.refusal(42, status(), status(), "0\n", False, False) is None
    assert pc.refusal(42, status(), status(), None, False, False) is None  # no Yama at all


def test_yama_1_allows_descendants_and_cap_sys_ptrace_only():
    r = pc.refusal(42, status(), status(), "1\n", descendant=False, seccomp_blocks=False)
    assert r is not None and r.cause == "yama" and r.scope == 1
    assert "ptrace_scope is 1" in r.line() and "sysctl kernel.yama.ptrace_scope=0" in r.line()
    assert pc.refusal(42, status(), status(), "1\n", True, False) is None
    assert pc.refusal(42, status(caps=ROOT_CAPS), status(), "1\n", False, False) is None


def test_yama_2_wants_cap_sys_ptrace_and_3_refuses_everyone():
    r2 = pc.refusal(42, status(), status(), "2", True, False)
    assert r2 is not None and r2.scope == 2 and "CAP_SYS_PTRACE" in r2.line()
    assert pc.refusal(42, status(caps=ROOT_CAPS), status(), "2", False, False) is None
    r3 = pc.refusal(42, status(caps=ROOT_CAPS), status(), "3", True, False)
    assert r3 is not None and r3.scope == 3 and "reboot" in r3.line()


def test_already_traced_names_the_tracer():
    r = pc.refusal(42, status(), status(tracer=777), "0", False, False)
    assert r is not None and r.cause == "traced" and r.tracer == 777
    assert "777" in r.line() and "one tracer" in r.line()


def test_another_user_without_cap_sys_ptrace():
    r = pc.refusal(42, status(uid=1000), status(uid=0), "0", False, False)
    assert r is not None and r.cause == "uid" and (r.target_uid, r.our_uid) == (0, 1000)
    assert pc.refusal(42, status(uid=0, caps=ROOT_CAPS), status(uid=1000), "0", False,
                      False) is None


def test_seccomp_counts_only_when_the_live_check_failed():
    r = pc.refusal(42, status(seccomp=2), status(), "0", False, seccomp_blocks=True)
    assert r is not None and r.cause == "seccomp" and "seccomp" in r.line()
    # a filter that lets ptrace through (Docker's profile on kernels >= 4.8) is no cause
    assert pc.refusal(42, status(seccomp=2), status(), "0", False, False) is None


def test_every_line_names_the_watch_fallback_or_a_fix():
    causes = [pc.Refusal("seccomp", 5), pc.Refusal("traced", 5, tracer=9),
              pc.Refusal("yama", 5, scope=1), pc.Refusal("yama", 5, scope=2),
              pc.Refusal("yama", 5, scope=3), pc.Refusal("uid", 5, target_uid=0, our_uid=1)]
    for r in causes:
        assert "\n" not in r.line() and "ipcviz attach --watch 5" in r.line()


def test_live_on_a_child_of_ours():
    # GIVEN a child we started (a descendant, same uid, not traced)
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                             stdin=subprocess.PIPE)
    try:
        expected = None
        scope = pc.parse_scope(pc._read(pc.YAMA))
        if scope == 3 or (scope == 2 and not pc.has_cap(pc._read("/proc/self/status") or "",
                                                         pc.CAP_SYS_PTRACE)):
            expected = "yama"
        # WHEN diagnosed live  THEN only Yama 2 without the capability, or 3, refuses
        r = pc.diagnose(child.pid)
        assert (r.cause if r else None) == expected
    finally:
        child.stdin.close()
        child.wait(timeout=10)
    with pytest.raises(pc.NoTarget):
        pc.diagnose(child.pid)  # reaped: gone


def test_live_seccomp_filter_that_blocks_ptrace_is_seen():
    """A real seccomp filter (as a container installs) makes the live check say so."""
    # GIVEN a child that installs a BPF filter answering ptrace with EPERM
    code = textwrap.dedent("""
        import ctypes, platform, struct
        from ipcviz.runtime import ptrace_check as pc
        libc = ctypes.CDLL(None, use_errno=True)
        nr = {"x86_64": 101, "aarch64": 117}[platform.machine()]
        before = pc.seccomp_blocks_ptrace()
        # BPF: A = seccomp_data.nr; if A == nr: return ERRNO|EPERM else ALLOW
        prog = [(0x20, 0, 0, 0), (0x15, 0, 1, nr), (0x06, 0, 0, 0x00050001),
                (0x06, 0, 0, 0x7fff0000)]
        buf = b"".join(struct.pack("HBBI", *ins) for ins in prog)
        filt = ctypes.create_string_buffer(buf)
        class Fprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
        fp = Fprog(len(prog), ctypes.cast(filt, ctypes.c_void_p))
        assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
        assert libc.prctl(22, 2, ctypes.byref(fp), 0, 0) == 0, ctypes.get_errno()
        with open("/proc/self/status") as f:
            seccomp = pc.status_field(f.read(), "Seccomp")
        print(before, pc.seccomp_blocks_ptrace(), seccomp)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert out.returncode == 0, out.stderr
    # THEN before the filter ptrace answered for itself; after it, the filter did
    assert out.stdout.split() == ["False", "True", "2"]
