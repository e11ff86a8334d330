"""ptrace(2), seccomp(2) and the registers of a stopped tracee, through ctypes.

One table per architecture (ARCHES) says everything that differs: the audit arch the
seccomp filter compares first, the size of NT_PRSTATUS, and where the call number, its six
arguments and its return value sit in the registers.  System call numbers come from the one
table of ipcviz.probe.syscalls.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from ...probe import syscalls

# -- ptrace requests, options and events (linux/ptrace.h) -----------------------------------
PTRACE_CONT = 7
PTRACE_KILL = 8
PTRACE_SYSCALL = 24
PTRACE_SETOPTIONS = 0x4200
PTRACE_GETEVENTMSG = 0x4201
PTRACE_GETSIGINFO = 0x4202
PTRACE_GETREGSET = 0x4204
PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
PTRACE_LISTEN = 0x4208

O_TRACESYSGOOD = 0x1
O_TRACEFORK = 0x2
O_TRACEVFORK = 0x4
O_TRACECLONE = 0x8
O_TRACEEXEC = 0x10
O_TRACESECCOMP = 0x80
O_EXITKILL = 0x100000
OPTIONS = (O_TRACESYSGOOD | O_TRACEFORK | O_TRACEVFORK | O_TRACECLONE | O_TRACEEXEC
           | O_TRACESECCOMP | O_EXITKILL)
# attach: the program is not ours, so no EXITKILL (if ipcviz dies, the kernel detaches), and
# no seccomp filter can be installed into a running program: every call stops (SYSCALL).
ATTACH_OPTIONS = O_TRACESYSGOOD | O_TRACEFORK | O_TRACEVFORK | O_TRACECLONE | O_TRACEEXEC

EVENT_FORK = 1
EVENT_VFORK = 2
EVENT_CLONE = 3
EVENT_EXEC = 4
EVENT_SECCOMP = 7
EVENT_STOP = 128  # a seized tracee's group-stop, PTRACE_INTERRUPT stop or first stop
SYSCALL_TRAP = 0x80 | 5  # SIGTRAP | 0x80: a syscall stop (PTRACE_O_TRACESYSGOOD)
NT_PRSTATUS = 1
WALL = 0x40000000  # __WALL: threads (clone children) too

# -- prctl / seccomp ---------------------------------------------------------------------
PR_SET_PDEATHSIG = 1
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_TRACE = 0x7FF00000
# classic BPF opcodes (linux/bpf_common.h)
BPF_LD_W_ABS = 0x20
BPF_JEQ_K = 0x15
BPF_JGE_K = 0x35
BPF_JSET_K = 0x45
BPF_RET_K = 0x06
SECCOMP_DATA_NR = 0  # struct seccomp_data: int nr; __u32 arch; __u64 ip; __u64 args[6]
SECCOMP_DATA_ARCH = 4


def seccomp_arg_low(i: int) -> int:
    return 16 + 8 * i  # the low 32 bits of args[i] (little-endian, both arches here)


@dataclass(frozen=True)
class Arch:
    machine: str
    audit: int  # AUDIT_ARCH_* of linux/audit.h
    regs_size: int  # bytes of NT_PRSTATUS for a native task
    nr: int  # index (in 64-bit words) of the call number
    args: tuple[int, ...]  # indexes of the six arguments
    ret: int  # index of the return value (at the exit stop)
    foreign_nr_floor: int | None = None  # x32 calls have this bit set: not native
    # (name, index) of the registers probe/callsite.py unwinds from: pc, sp, and the ones
    # a library frame may keep the caller's values in
    site_regs: tuple[tuple[str, int], ...] = ()


ARCHES = {
    # struct user_regs_struct: r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi
    # orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs
    "x86_64": Arch("x86_64", 0xC000003E, 27 * 8, nr=15, args=(14, 13, 12, 7, 9, 8), ret=10,
                   foreign_nr_floor=0x40000000,
                   site_regs=(("pc", 16), ("sp", 19), ("rbp", 4), ("rbx", 5), ("r12", 3),
                              ("r13", 2), ("r14", 1), ("r15", 0))),
    # struct user_pt_regs: regs[31] sp pc pstate; the number in x8, arguments x0..x5,
    # the result in x0 (read the arguments at the entry: the exit overwrites x0)
    "aarch64": Arch("aarch64", 0xC00000B7, 34 * 8, nr=8, args=(0, 1, 2, 3, 4, 5), ret=0,
                    site_regs=(("pc", 32), ("sp", 31), ("lr", 30), ("fp", 29))),
}
ARCHES["arm64"] = ARCHES["aarch64"]


def this_arch() -> Arch | None:
    return ARCHES.get(platform.machine())


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte),
                ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
_libc.ptrace.restype = ctypes.c_long
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]
_libc.prctl.restype = ctypes.c_int


def _check(rc: int, what: str) -> int:
    if rc == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return rc


def ptrace(request: int, pid: int, addr: int = 0, data: int = 0) -> int:
    return _check(_libc.ptrace(request, pid, ctypes.c_void_p(addr), ctypes.c_void_p(data)),
                  "ptrace")


def setoptions(pid: int, options: int = OPTIONS) -> None:
    ptrace(PTRACE_SETOPTIONS, pid, 0, options)


def resume(pid: int, request: int, sig: int = 0) -> bool:
    """PTRACE_CONT / PTRACE_SYSCALL; False when the tracee is gone (killed meanwhile)."""
    rc: int = _libc.ptrace(request, pid, None, ctypes.c_void_p(sig))
    return rc != -1


def seize(pid: int, options: int = ATTACH_OPTIONS) -> None:
    """PTRACE_SEIZE: trace PID without stopping it (OSError: EPERM refused, ESRCH gone)."""
    ptrace(PTRACE_SEIZE, pid, 0, options)


def interrupt(pid: int) -> bool:
    """PTRACE_INTERRUPT: stop a seized tracee (a PTRACE_EVENT_STOP follows)."""
    rc: int = _libc.ptrace(PTRACE_INTERRUPT, pid, None, None)
    return rc != -1


def listen(pid: int) -> bool:
    """PTRACE_LISTEN: leave a seized tracee in its group-stop (stopped, as without a
    tracer) while the tracer keeps hearing of it (a SIGCONT ends the stop)."""
    rc: int = _libc.ptrace(PTRACE_LISTEN, pid, None, None)
    return rc != -1


def detach(pid: int, sig: int = 0) -> bool:
    """PTRACE_DETACH from a ptrace-stop, SIG delivered (0: none)."""
    rc: int = _libc.ptrace(PTRACE_DETACH, pid, None, ctypes.c_void_p(sig))
    return rc != -1


def eventmsg(pid: int) -> int:
    value = ctypes.c_ulong(0)
    _check(_libc.ptrace(PTRACE_GETEVENTMSG, pid, None, ctypes.byref(value)), "GETEVENTMSG")
    return value.value


def regs(pid: int, arch: Arch) -> tuple[int, ...] | None:
    """The tracee's general registers as 64-bit words, or None for a task of a foreign
    personality (a 32-bit program: NT_PRSTATUS of another size) or a vanished one."""
    buf = ctypes.create_string_buffer(arch.regs_size)
    iov = _Iovec(ctypes.cast(buf, ctypes.c_void_p), arch.regs_size)
    if _libc.ptrace(PTRACE_GETREGSET, pid, ctypes.c_void_p(NT_PRSTATUS), ctypes.byref(iov)) == -1:
        return None
    if iov.len != arch.regs_size:
        return None
    return struct.unpack(f"<{arch.regs_size // 8}Q", buf.raw)


def signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def prctl(option: int, arg: int) -> None:
    _check(_libc.prctl(option, arg, 0, 0, 0), "prctl")


# -- the seccomp filter ------------------------------------------------------------------

TRACE, ALLOW = "trace", "allow"


def build_filter(arch: Arch, numbers: Iterable[int], masked: dict[int, tuple[int, int, bool]]
                 ) -> list[tuple[int, int, int, int]]:
    """(code, jt, jf, k) instructions: RET_TRACE for `numbers`, and for each call of
    `masked` {nr: (argument index, bit mask, trace when set)} only when the bits say so;
    RET_ALLOW for everything else.  A call of another arch (a 32-bit program, x32) is traced,
    as strace does, and the tracer lets it go: the filter never hides a call by mistake."""
    body: list[tuple[int, object, object, int]] = [
        (BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_ARCH),
        (BPF_JEQ_K, 1, 0, arch.audit),
        (BPF_RET_K, 0, 0, SECCOMP_RET_TRACE),
        (BPF_LD_W_ABS, 0, 0, SECCOMP_DATA_NR),
    ]
    if arch.foreign_nr_floor is not None:
        body.append((BPF_JGE_K, TRACE, 0, arch.foreign_nr_floor))
    for nr in sorted(set(numbers)):
        body.append((BPF_JEQ_K, TRACE, 0, nr))
    for nr, (argi, mask, when_set) in sorted(masked.items()):
        body.append((BPF_JEQ_K, 0, 2, nr))
        body.append((BPF_LD_W_ABS, 0, 0, seccomp_arg_low(argi)))
        body.append((BPF_JSET_K, TRACE if when_set else ALLOW, ALLOW if when_set else TRACE,
                     mask))
    body.append((BPF_RET_K, 0, 0, SECCOMP_RET_ALLOW))
    body.append((BPF_RET_K, 0, 0, SECCOMP_RET_TRACE))
    allow_at, trace_at = len(body) - 2, len(body) - 1
    out = []
    for i, (code, jt, jf, k) in enumerate(body):
        t, f = _jump(jt, i, allow_at, trace_at), _jump(jf, i, allow_at, trace_at)
        if not (0 <= t < 256 and 0 <= f < 256):
            raise ValueError("seccomp filter too long for 8-bit jumps")
        out.append((code, t, f, k))
    return out


def _jump(j: object, i: int, allow_at: int, trace_at: int) -> int:
    """A jump of instruction I as an offset: TRACE/ALLOW name the two final returns."""
    if j == TRACE:
        return trace_at - i - 1
    if j == ALLOW:
        return allow_at - i - 1
    assert isinstance(j, int)
    return j


def install_filter(program: list[tuple[int, int, int, int]]) -> None:
    """PR_SET_NO_NEW_PRIVS, then the filter (the order seccomp(2) asks of an unprivileged
    caller); in the child, right before execve."""
    arr = (_SockFilter * len(program))(*[_SockFilter(*ins) for ins in program])
    prog = _SockFprog(len(program), ctypes.cast(arr, ctypes.POINTER(_SockFilter)))
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog), 0, 0),
           "seccomp")


def numbers_of(names: Iterable[str], arch: Arch) -> dict[str, int]:
    table = syscalls.table(arch.machine)
    wanted = set(names)
    return {nm: nr for nr, nm in table.items() if nm in wanted}


# -- the tracee's memory -------------------------------------------------------------------

def read_mem(pid: int, addr: int, size: int) -> bytes:
    """Bytes of a stopped tracee's memory (/proc/PID/mem; b"" when unreadable)."""
    if addr == 0 or size <= 0:
        return b""
    try:
        fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return b""
    try:
        return os.pread(fd, size, addr)
    except OSError:
        return b""
    finally:
        os.close(fd)


def read_cstr(pid: int, addr: int, limit: int = 4096) -> str | None:
    if addr == 0:
        return None
    data = b""
    while len(data) < limit:
        chunk = read_mem(pid, addr + len(data), min(256, limit - len(data)))
        if not chunk:
            break
        end = chunk.find(b"\0")
        if end >= 0:
            return (data + chunk[:end]).decode("utf-8", "replace")
        data += chunk
    return data.decode("utf-8", "replace") if data else None


PTRACE_GET_SYSCALL_INFO = 0x420E
SYSCALL_INFO_ENTRY, SYSCALL_INFO_EXIT, SYSCALL_INFO_SECCOMP = 1, 2, 3


def syscall_stop_kind(pid: int) -> int:
    """PTRACE_GET_SYSCALL_INFO's op (Linux >= 5.3): entry 1, exit 2, seccomp 3; 0 if none."""
    buf = ctypes.create_string_buffer(88)
    if _libc.ptrace(PTRACE_GET_SYSCALL_INFO, pid, ctypes.c_void_p(88), buf) == -1:
        return 0
    return buf.raw[0]
