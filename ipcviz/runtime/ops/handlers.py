"""Handlers installed with the real sigaction(2) flags: sa_mask, SA_NODEFER, SA_SIGINFO,
SA_RESTART, and a handler that stays running while the lesson takes steps inside it.

Python's signal.signal() cannot set sa_mask or SA_NODEFER, passes no siginfo_t, and runs
the Python function later, after the kernel's handler frame is gone: the mask the kernel
applies during a handler is never visible.  A lesson that asks for any of these gets a C
function pointer (a ctypes callback) installed with libc's sigaction(), so the kernel runs
it in a real signal frame: during it, SigBlk holds the old mask, sa_mask and (without
SA_NODEFER) the signal itself; the siginfo_t is the kernel's.

`hold = true`: the handler does not return at once.  It reports its run, then takes the
lesson's next steps of this process itself (the steps are code in the handler), until a
`handler_return` step; then it returns and the kernel restores the mask (sigreturn).
Not async-signal-safe in general, and not meant to be: a held handler runs only where a
lesson put it, in a single-threaded worker, and its steps are the same system calls.
"""

from __future__ import annotations

import ctypes
import errno
import os
from typing import Any

from ...kernel import SA_NODEFER, SA_RESTART, SA_SIGINFO
from ...scenario.actions import signal_name
from .fds import HANDLED_DURING_CALL, SA_RESTART_SIGNALS, signum_of
from .types import OpWorker

_libc = ctypes.CDLL(None, use_errno=True)
_SIGSET_BYTES = 128  # glibc's sigset_t


class SigInfo(ctypes.Structure):
    """The start of Linux's siginfo_t for a signal a process sent (kill, sigqueue, tgkill):
    si_signo, si_errno, si_code, then (64-bit alignment) si_pid, si_uid and si_value
    (asm-generic/siginfo.h; the same on x86_64 and arm64)."""

    _fields_ = [("si_signo", ctypes.c_int), ("si_errno", ctypes.c_int),
                ("si_code", ctypes.c_int), ("_pad", ctypes.c_int),
                ("si_pid", ctypes.c_int), ("si_uid", ctypes.c_uint),
                ("si_value", ctypes.c_long), ("_rest", ctypes.c_char * 96)]


# si_code values (asm-generic/siginfo.h): who sent the signal, and how.
SI_CODES = {0: "SI_USER", 0x80: "SI_KERNEL", -1: "SI_QUEUE", -2: "SI_TIMER", -6: "SI_TKILL"}


def siginfo_facts(info: SigInfo) -> dict[str, Any]:
    value = ctypes.c_int(info.si_value & 0xFFFFFFFF).value  # sival_int: the low 32 bits
    return {"si_pid": info.si_pid, "si_value": value,
            "si_code": SI_CODES.get(info.si_code, str(info.si_code))}


class _SigAction(ctypes.Structure):
    """glibc's struct sigaction (x86_64 and arm64): the handler, sa_mask, sa_flags and
    sa_restorer (filled in by glibc's sigaction())."""

    _fields_ = [("handler", ctypes.c_void_p), ("sa_mask", ctypes.c_char * _SIGSET_BYTES),
                ("sa_flags", ctypes.c_int), ("sa_restorer", ctypes.c_void_p)]


_PLAIN = ctypes.CFUNCTYPE(None, ctypes.c_int)
_INFO = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.POINTER(SigInfo), ctypes.c_void_p)

# Every ctypes function ever installed, kept alive: a held handler may change its own
# signal's disposition while it runs, and its frame must not be freed under it.
_KEEP: list[Any] = []
_DEPTH = {"held": 0}  # how deep held handlers are nested right now


def sigset_of(names: list[str]) -> ctypes.Array[ctypes.c_char]:
    buf = ctypes.create_string_buffer(_SIGSET_BYTES)
    _libc.sigemptyset(buf)
    for name in names:
        if _libc.sigaddset(buf, signum_of(name)) != 0:
            raise OSError(errno.EINVAL, f"sigaddset({name})")
    return buf


def flags_of(args: dict[str, Any]) -> int:
    return ((SA_RESTART if args.get("restart") else 0)
            | (SA_NODEFER if args.get("nodefer") else 0)
            | (SA_SIGINFO if args.get("siginfo") else 0))


def wants_sigaction(args: dict[str, Any]) -> bool:
    """The step needs the real sigaction (a flag Python's signal.signal cannot set)."""
    return any(args.get(k) for k in ("mask", "nodefer", "siginfo", "hold"))


def install(w: OpWorker, signum: int, args: dict[str, Any]) -> None:
    """sigaction(signum, {handler, sa_mask, sa_flags}): the real call."""
    hold = bool(args.get("hold"))
    name = signal_name(signum)

    def ran(facts: dict[str, Any]) -> None:
        HANDLED_DURING_CALL.append(signum)
        msg: dict[str, Any] = {"t": "handled", "signal": name, "pid": os.getpid()}
        if facts:
            msg["facts"] = facts
        w.send(msg)
        if hold:
            _held(w)

    func: Any
    if args.get("siginfo"):
        def on_info(sig: int, info: Any, ctx: Any) -> None:
            ran(siginfo_facts(info.contents) if info else {})
        func = _INFO(on_info)
    else:
        def on_plain(sig: int) -> None:
            ran({})
        func = _PLAIN(on_plain)
    act = _SigAction()
    act.handler = ctypes.cast(func, ctypes.c_void_p).value
    # (act.sa_mask reads as a bytes copy: write through the structure's address)
    ctypes.memmove(ctypes.addressof(act) + _SigAction.sa_mask.offset,
                   sigset_of(list(args.get("mask") or [])), _SIGSET_BYTES)
    act.sa_flags = flags_of(args)
    if _libc.sigaction(signum, ctypes.byref(act), None) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    _KEEP.append(func)
    if args.get("restart"):
        SA_RESTART_SIGNALS.add(signum)
    else:
        SA_RESTART_SIGNALS.discard(signum)


def _held(w: OpWorker) -> None:
    """Inside a held handler: run this process's steps until a handler_return step."""
    _DEPTH["held"] += 1
    try:
        w.run_steps_until("handler_return")
    finally:
        _DEPTH["held"] -= 1


def in_held_handler() -> bool:
    return _DEPTH["held"] > 0

