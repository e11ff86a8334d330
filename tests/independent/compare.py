"""An independent comparer: run a lesson with `ipcviz run --headless --json --delay D` and,
at every snapshot, read the kernel itself and compare field by field.

It imports nothing of ipcviz. Its sources are /proc (stat, wchan, syscall, status, fd,
fdinfo, maps, smaps, mem, net/unix, sysvipc), `ipcs -i`, `ss -x`, /dev/shm, and a few
syscalls through ctypes (pidfd_getfd to borrow an fd the lesson already holds, FIONREAD,
F_GETPIPE_SZ, mq_getattr, kcmp). The processes are idle while ipcviz sleeps `--delay`
after printing a snapshot, so what it reads is the state the snapshot describes.

    python tests/independent/compare.py [--delay S] [--verbose] LESSON.toml ...

Prints one line per disagreement and the counts; exit 1 when any disagree.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import fcntl
import json
import os
import re
import signal
import stat
import struct
import subprocess
import sys
import termios
from collections.abc import Callable
from pathlib import Path
from typing import Any

LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.syscall.restype = ctypes.c_long
SYS_PIDFD_GETFD = 438
SYS_KCMP = 312
KCMP_FILE = 0
F_GETPIPE_SZ = 1032
O_NONBLOCK = 0o4000
O_CLOEXEC = 0o2000000
O_ACCMODE = 0o3
HIDDEN_FDS = {900, 901, 902}
SO_ACCEPTCON = 0x10000


def syscall_names() -> dict[int, str]:
    """x86_64 numbers from the kernel's uapi header installed on this machine."""
    names: dict[int, str] = {}
    for header in ("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "/usr/include/asm/unistd_64.h"):
        try:
            text = Path(header).read_text()
        except OSError:
            continue
        for m in re.finditer(r"#define __NR_(\w+)\s+(\d+)", text):
            names[int(m.group(2))] = m.group(1)
        break
    return names


SYSCALLS = syscall_names()


def signame(n: int) -> str:
    rtmin = signal.SIGRTMIN
    if n >= rtmin:
        return "SIGRTMIN" if n == rtmin else f"SIGRTMIN+{n - rtmin}"
    try:
        return signal.Signals(n).name
    except ValueError:
        return f"SIG{n}"


def mask_names(hexmask: str) -> list[str]:
    m = int(hexmask, 16)
    return [signame(i + 1) for i in range(64) if m >> i & 1]


# ---------------------------------------------------------------- kernel reads


def read(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def proc_stat(pid: int) -> list[str] | None:
    text = read(f"/proc/{pid}/stat")
    if text is None:
        return None
    head, _, tail = text.rpartition(")")
    return [head.split(" (", 1)[0], head.split(" (", 1)[1]] + tail.split()


def status_fields(pid: int) -> dict[str, str]:
    text = read(f"/proc/{pid}/status") or ""
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def fdinfo(pid: int, fd: int) -> dict[str, str]:
    text = read(f"/proc/{pid}/fdinfo/{fd}") or ""
    out = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def fd_table(pid: int) -> dict[int, str]:
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return {}
    out = {}
    for name in names:
        try:
            out[int(name)] = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            pass
    return out


class Borrowed:
    """A copy of another process's fd (pidfd_getfd): same open file description, closed at once."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid, self.fd, self.mine = pid, fd, -1

    def __enter__(self) -> int:
        pidfd = os.pidfd_open(self.pid)
        try:
            got = LIBC.syscall(SYS_PIDFD_GETFD, pidfd, self.fd, 0)
            if got < 0:
                e = ctypes.get_errno()
                raise OSError(e, os.strerror(e))
            self.mine = got
        finally:
            os.close(pidfd)
        return self.mine

    def __exit__(self, *exc: object) -> None:
        os.close(self.mine)


def ioctl_int(fd: int, request: int) -> int:
    buf = fcntl.ioctl(fd, request, b"\0\0\0\0")
    return struct.unpack("i", buf)[0]


def ss_unix() -> dict[int, dict[str, Any]]:
    """`ss -xa`: Recv-Q, Send-Q and the peer inode of every Unix socket."""
    out: dict[int, dict[str, Any]] = {}
    text = subprocess.run(["ss", "-xaH"], capture_output=True, text=True, check=False).stdout
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 8:
            continue
        try:
            out[int(parts[5])] = {
                "state": parts[1],
                "recvq": int(parts[2]),
                "sendq": int(parts[3]),
                "peer": int(parts[7]) if parts[7].isdigit() else None,
                "path": parts[4],
            }
        except ValueError:
            continue
    return out


def proc_net_unix() -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for line in (read("/proc/net/unix") or "").splitlines()[1:]:
        parts = line.split()
        out[int(parts[6])] = {
            "flags": int(parts[3], 16),
            "type": int(parts[4], 16),
            "st": int(parts[5], 16),
            "path": parts[7] if len(parts) > 7 else "",
        }
    return out


def ipcs_sem(semid: int) -> list[dict[str, int]] | None:
    r = subprocess.run(
        ["ipcs", "-s", "-i", str(semid)], capture_output=True, text=True, check=False
    )
    if r.returncode != 0:
        return None
    rows = []
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 5 and all(p.isdigit() for p in parts):
            rows.append(dict(zip(("semnum", "value", "ncount", "zcount", "pid"), map(int, parts))))
    return rows


def sysvipc(kind: str) -> dict[int, dict[str, str]]:
    lines = (read(f"/proc/sysvipc/{kind}") or "").splitlines()
    if not lines:
        return {}
    head = lines[0].split()
    table = {}
    for line in lines[1:]:
        row = dict(zip(head, line.split()))
        table[int(row["msqid" if kind == "msg" else ("semid" if kind == "sem" else "shmid")])] = row
    return table


def ipcs_msg_qbytes(msqid: int) -> int | None:
    r = subprocess.run(
        ["ipcs", "-q", "-i", str(msqid)], capture_output=True, text=True, check=False
    )
    m = re.search(r"qbytes=(\d+)", r.stdout)
    return int(m.group(1)) if m else None


class MqAttr(ctypes.Structure):
    _fields_ = [
        ("mq_flags", ctypes.c_long),
        ("mq_maxmsg", ctypes.c_long),
        ("mq_msgsize", ctypes.c_long),
        ("mq_curmsgs", ctypes.c_long),
        ("pad", ctypes.c_long * 4),
    ]


try:
    LIBRT: ctypes.CDLL | None = ctypes.CDLL("librt.so.1", use_errno=True)
except OSError:
    LIBRT = None


def maps_of(pid: int) -> list[tuple[int, int, str, str]]:
    out = []
    for line in (read(f"/proc/{pid}/maps") or "").splitlines():
        parts = line.split(None, 5)
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        out.append((lo, hi, parts[1], parts[5] if len(parts) > 5 else ""))
    return out


def smaps_block(pid: int, address: int) -> dict[str, str] | None:
    text = read(f"/proc/{pid}/smaps") or ""
    block: dict[str, str] | None = None
    for line in text.splitlines():
        m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
        if m:
            if block is not None:
                return block
            if int(m.group(1), 16) == address:
                block = {"perms": m.group(3)}
            continue
        if block is not None and ":" in line:
            k, _, v = line.partition(":")
            block[k] = v.strip()
    return block


def page_present(pid: int, address: int) -> bool:
    try:
        with open(f"/proc/{pid}/pagemap", "rb") as f:
            f.seek(address // os.sysconf("SC_PAGE_SIZE") * 8)
            entry = struct.unpack("Q", f.read(8))[0]
    except OSError:
        return False
    return bool(entry >> 63 & 1) or bool(entry >> 62 & 1)


def peek_long(pid: int, address: int) -> int | None:
    try:
        with open(f"/proc/{pid}/mem", "rb") as f:
            f.seek(address)
            return struct.unpack("q", f.read(8))[0]
    except OSError:
        return None


# ---------------------------------------------------------------- comparison


class Tally:
    def __init__(self, lesson: str, verbose: bool) -> None:
        self.lesson, self.verbose = lesson, verbose
        self.compared = 0
        self.disagreements: list[str] = []
        self.step = 0
        self.skipped = 0
        self.tamper = False

    def eq(self, where: str, ipcviz: Any, kernel: Any) -> None:
        self.compared += 1
        if self.tamper and where.endswith(".ppid") and isinstance(ipcviz, int):
            ipcviz += 1  # --tamper: the comparer must see a wrong value as a disagreement
        if ipcviz != kernel:
            line = f"{self.lesson} step {self.step} {where}: ipcviz {ipcviz!r} kernel {kernel!r}"
            self.disagreements.append(line)
            print("DISAGREE " + line, flush=True)
        elif self.verbose:
            print(f"ok {self.lesson} step {self.step} {where} = {kernel!r}")


STATE_OF = {
    "Z": {"zombie"},
    "T": {"stopped"},
    "t": {"stopped"},
    "R": {"running", "sleeping"},
    "S": {"blocked", "sleeping"},
    "D": {"blocked", "sleeping"},
}


def compare_process(t: Tally, p: dict[str, Any]) -> None:
    pid, name = p["pid"], p["name"]
    if pid is None:
        return
    st = proc_stat(pid)
    w = f"{name}"
    if st is None:
        t.eq(f"{w}.state (no /proc/{pid})", p["state"] in ("exited",), True)
        return
    kstate = st[2]
    if p["state"] == "exited":
        # reaped by ipcviz's view, yet /proc has it: only a zombie may linger between reads
        t.eq(f"{w}.state", p["state"], "zombie" if kstate == "Z" else kstate)
        return
    t.eq(f"{w}.kernel_state", p["kernel_state"], kstate)
    t.eq(f"{w}.state~stat", p["state"] in STATE_OF.get(kstate, set()), True)
    t.eq(f"{w}.ppid", p["ppid"], int(st[3]))
    t.eq(f"{w}.pgid", p["pgid"], int(st[4]))
    t.eq(f"{w}.sid", p["sid"], int(st[5]))
    if kstate == "Z":
        raw = int(st[51])
        code = os.WEXITSTATUS(raw) if os.WIFEXITED(raw) else None
        sig = signame(os.WTERMSIG(raw)) if os.WIFSIGNALED(raw) else None
        ex = p.get("exit") or {}
        t.eq(f"{w}.exit.code", ex.get("code"), code)
        t.eq(f"{w}.exit.signal", ex.get("signal"), sig)
        t.eq(f"{w}.exit.core", bool(ex.get("core")), bool(raw & 0x80))
        return
    wchan = (read(f"/proc/{pid}/wchan") or "").strip()
    t.eq(f"{w}.wchan", p["wchan"] or "0", wchan or "0")
    if p["state"] == "blocked":
        sc = (read(f"/proc/{pid}/syscall") or "").split()
        if sc and sc[0].lstrip("-").isdigit():
            t.eq(f"{w}.syscall", p["syscall"], SYSCALLS.get(int(sc[0]), sc[0]))
            args = [int(a, 16) for a in sc[1:7]]
            t.eq(
                f"{w}.syscall_args",
                list(p["syscall_args"]),
                args[: len(p["syscall_args"])] if p["syscall_args"] else args[:0],
            )
    compare_fds(t, p, pid)
    compare_signals(t, p, pid)


def compare_fds(t: Tally, p: dict[str, Any], pid: int) -> None:
    table = fd_table(pid)
    kernel_fds = sorted(fd for fd in table if fd not in HIDDEN_FDS)
    t.eq(f"{p['name']}.fds[]", sorted(f["fd"] for f in p["fds"]), kernel_fds)
    for f in p["fds"]:
        fd = f["fd"]
        if fd not in table:
            continue
        t.eq(f"{p['name']}.fds[{fd}].target", f["target"], table[fd])
        flags = int(fdinfo(pid, fd).get("flags", "0"), 8)
        if "cloexec" in f:
            t.eq(f"{p['name']}.fds[{fd}].cloexec", f["cloexec"], bool(flags & O_CLOEXEC))


def compare_signals(t: Tally, p: dict[str, Any], pid: int) -> None:
    s = p.get("signals")
    if s is None:
        return
    st = status_fields(pid)
    w = p["name"]
    t.eq(f"{w}.signals.pending(SigPnd)", list(s["pending"]), mask_names(st["SigPnd"]))
    t.eq(f"{w}.signals.shared_pending(ShdPnd)", list(s["shared_pending"]), mask_names(st["ShdPnd"]))
    t.eq(f"{w}.signals.blocked", list(s["blocked"]), mask_names(st["SigBlk"]))
    t.eq(f"{w}.signals.ignored", list(s["ignored"]), mask_names(st["SigIgn"]))
    t.eq(f"{w}.signals.caught", list(s["caught"]), mask_names(st["SigCgt"]))
    limit = int(st["SigQ"].split("/")[1])
    t.eq(f"{w}.signals.queue_limit", s["queue_limit"], limit)


# ---- objects


def holders_of(procs: list[dict[str, Any]], target: str) -> list[tuple[str, int, int]]:
    out = []
    for p in procs:
        if p["pid"] is None or p["state"] in ("exited", "zombie"):
            continue
        for fd, tgt in fd_table(p["pid"]).items():
            if tgt in (target, target + " (deleted)") and fd not in HIDDEN_FDS:
                out.append((p["name"], p["pid"], fd))
    return out


def compare_pipe(t: Tally, o: dict[str, Any], procs: list[dict[str, Any]]) -> None:
    w = o["id"]
    if o.get("inode") is None:
        return
    hold = holders_of(procs, f"pipe:[{o['inode']}]")
    readers = [
        (n, pid, fd) for n, pid, fd in hold if int(fdinfo(pid, fd)["flags"], 8) & O_ACCMODE == 0
    ]
    writers = [
        (n, pid, fd) for n, pid, fd in hold if int(fdinfo(pid, fd)["flags"], 8) & O_ACCMODE == 1
    ]
    t.eq(f"{w}.readers", o["readers"], len(readers))
    t.eq(f"{w}.writers", o["writers"], len(writers))
    nb = sorted(f"{n}:{fd}" for n, pid, fd in hold if int(fdinfo(pid, fd)["flags"], 8) & O_NONBLOCK)
    t.eq(f"{w}.nonblocking", sorted(o.get("nonblocking") or []), nb)
    if hold:
        _, pid, fd = hold[0]
        with Borrowed(pid, fd) as mine:
            t.eq(f"{w}.bytes", o["bytes"], ioctl_int(mine, termios.FIONREAD))
            t.eq(f"{w}.capacity", o["capacity"], fcntl.fcntl(mine, F_GETPIPE_SZ))
    t.eq(f"{w}.max_capacity", o.get("max_capacity"), int(read("/proc/sys/fs/pipe-max-size") or 0))


def compare_sysv_sem(t: Tally, o: dict[str, Any], procs: list[dict[str, Any]]) -> None:
    w = o["id"]
    if o.get("semid") is None:
        return
    table = sysvipc("sem")
    exists = o["semid"] in table
    t.eq(f"{w}.exists", o["exists"], exists)
    if not exists:
        return
    row = table[o["semid"]]
    t.eq(f"{w}.key", int(o["key"], 16), int(row["key"]) & 0xFFFFFFFF)
    t.eq(f"{w}.nsems", o["nsems"], int(row["nsems"]))
    sems = ipcs_sem(o["semid"]) or []
    t.eq(f"{w}.values", list(o["values"]), [s["value"] for s in sems])
    t.eq(f"{w}.ncounts", list(o["ncounts"]), [s["ncount"] for s in sems])
    t.eq(f"{w}.zcounts", list(o["zcounts"]), [s["zcount"] for s in sems])
    t.eq(f"{w}.last_pids", list(o["last_pids"]), [s["pid"] for s in sems])
    t.eq(f"{w}.value", o["value"], sems[0]["value"])
    t.eq(f"{w}.ncount", o["ncount"], sems[0]["ncount"])
    # who sleeps on the set: semtimedop with this semid as first argument
    sleepers = sorted(
        p["name"] for p in procs if p["pid"] and sleeps_in(p["pid"], "semtimedop", o["semid"])
    )
    t.eq(f"{w}.waiters (all sems)", sorted({n for ws in o["sem_waiters"] for n in ws}), sleepers)


def sleeps_in(pid: int, call: str, arg0: int | None) -> bool:
    st = proc_stat(pid)
    if st is None or st[2] not in "SD":
        return False
    sc = (read(f"/proc/{pid}/syscall") or "").split()
    if not sc or not sc[0].isdigit() or SYSCALLS.get(int(sc[0])) != call:
        return False
    return arg0 is None or int(sc[1], 16) == arg0


def compare_sysv_msgq(t: Tally, o: dict[str, Any], procs: list[dict[str, Any]]) -> None:
    w = o["id"]
    if o.get("msqid") is None:
        return
    table = sysvipc("msg")
    exists = o["msqid"] in table
    t.eq(f"{w}.present", o["present"], exists)
    if not exists:
        return
    row = table[o["msqid"]]
    pid_name = {p["pid"]: p["name"] for p in procs}
    t.eq(f"{w}.key", o["key"] & 0xFFFFFFFF, int(row["key"]) & 0xFFFFFFFF)
    t.eq(
        f"{w}.max_message_size",
        o.get("max_message_size"),
        int(read("/proc/sys/kernel/msgmax") or 0),
    )
    copies = msg_copies(o["msqid"], int(row["qnum"]))
    t.eq(f"{w}.contents (type, size, text)", [c[:3] for c in o.get("contents") or []], copies)
    t.eq(f"{w}.bytes", o["bytes"], int(row["cbytes"]))
    t.eq(f"{w}.messages", o["messages"], int(row["qnum"]))
    t.eq(f"{w}.last_sender", o.get("last_sender"), pid_name.get(int(row["lspid"])))
    t.eq(f"{w}.last_receiver", o.get("last_receiver"), pid_name.get(int(row["lrpid"])))
    t.eq(f"{w}.max_bytes", o.get("max_bytes"), ipcs_msg_qbytes(o["msqid"]))
    t.eq(
        f"{w}.system_max_bytes",
        o.get("system_max_bytes"),
        int(read("/proc/sys/kernel/msgmnb") or 0),
    )


MSG_COPY = 0o40000
IPC_NOWAIT = 0o4000


def msg_copies(msqid: int, count: int) -> list[list[Any]]:
    """msgrcv(MSG_COPY|IPC_NOWAIT) of each message by its index: copies, takes nothing away."""
    size = 65536
    buf = ctypes.create_string_buffer(8 + size)
    LIBC.msgrcv.restype = ctypes.c_ssize_t
    out: list[list[Any]] = []
    for i in range(count):
        n = LIBC.msgrcv(msqid, buf, ctypes.c_size_t(size), ctypes.c_long(i), IPC_NOWAIT | MSG_COPY)
        if n < 0:
            out.append(["error", os.strerror(ctypes.get_errno())])
            continue
        mtype = struct.unpack_from("l", buf.raw, 0)[0]
        out.append([mtype, n, buf.raw[8 : 8 + n].decode(errors="replace")])
    return out


def compare_posix_mq(t: Tally, o: dict[str, Any], procs: list[dict[str, Any]]) -> None:
    w = o["id"]
    name = o.get("name")
    if not name:
        return
    hold = holders_of(procs, name)
    access = {0: "read", 1: "write", 2: "read-write"}
    kernel_holders = [
        f"{n}:{fd} ({access[int(fdinfo(pid, fd)['flags'], 8) & O_ACCMODE]})" for n, pid, fd in hold
    ]
    t.eq(f"{w}.holders", sorted(o.get("holders") or []), sorted(kernel_holders))
    if LIBRT is not None:
        fd = LIBRT.mq_open(name.encode(), os.O_RDONLY)
        exists = fd >= 0 or ctypes.get_errno() != errno.ENOENT
        if fd >= 0:
            os.close(fd)
        t.eq(f"{w}.present", o["present"], exists)
    for field, proc_file in (
        ("default_max_messages", "msg_default"),
        ("system_max_messages", "msg_max"),
        ("default_max_message_size", "msgsize_default"),
        ("system_max_message_size", "msgsize_max"),
    ):
        t.eq(f"{w}.{field}", o.get(field), int(read(f"/proc/sys/fs/mqueue/{proc_file}") or -1))
    if not hold:
        return
    _, pid, fdn = hold[0]
    pid_name = {p["pid"]: p["name"] for p in procs}
    with Borrowed(pid, fdn) as mine:
        text = os.pread(mine, 256, 0).decode()
        attr = MqAttr()
        if LIBRT is not None and LIBRT.mq_getattr(mine, ctypes.byref(attr)) == 0:
            t.eq(f"{w}.messages", o["messages"], attr.mq_curmsgs)
            t.eq(f"{w}.max_messages", o["max_messages"], attr.mq_maxmsg)
            t.eq(f"{w}.max_message_size", o["max_message_size"], attr.mq_msgsize)
    fields = dict(re.findall(r"(\w+):(\S+)", text))
    npid = int(fields.get("NOTIFY_PID", "0"))
    t.eq(
        f"{w}.notify_process",
        o.get("notify_process") or "",
        pid_name.get(npid, str(npid)) if npid else "",
    )
    signo = int(fields.get("SIGNO", "0"))
    t.eq(f"{w}.notify_signal", o.get("notify_signal") or "", signame(signo) if npid else "")
    t.eq(f"{w}.notify_text", o.get("notify_text"), text.strip())


def futex_sleepers_in(procs: list[dict[str, Any]], inode: int) -> list[str]:
    """Processes asleep in futex() on an address inside a mapping of that inode (glibc maps a
    named semaphore through a temporary name, so the mapping's path is not the name)."""
    out = []
    for p in procs:
        if not p["pid"] or not sleeps_in(p["pid"], "futex", None):
            continue
        addr = int((read(f"/proc/{p['pid']}/syscall") or "0 0").split()[1], 16)
        for line in (read(f"/proc/{p['pid']}/maps") or "").splitlines():
            parts = line.split()
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            if lo <= addr < hi and int(parts[4]) == inode:
                out.append(p["name"])
    return sorted(out)


def mapping_of_inode(procs: list[dict[str, Any]], inode: int) -> tuple[int, int] | None:
    """(pid, start address) of a live lesson process's mapping of that inode."""
    for p in procs:
        if not p["pid"] or p["state"] in ("exited", "zombie"):
            continue
        for line in (read(f"/proc/{p['pid']}/maps") or "").splitlines():
            parts = line.split()
            if len(parts) > 4 and int(parts[4]) == inode:
                return p["pid"], int(parts[0].split("-")[0], 16)
    return None


SEM_INODES: dict[str, int] = {}


def compare_posix_sem(t: Tally, o: dict[str, Any], procs: list[dict[str, Any]]) -> None:
    w = o["id"]
    name = o.get("name")
    if not name:
        return
    path = "/dev/shm/sem." + name.lstrip("/")
    exists = os.path.exists(path)
    t.eq(f"{w}.exists (the name)", o["exists"], exists)
    if exists:
        inode = os.stat(path).st_ino
        SEM_INODES[name] = inode
        with open(path, "rb") as f:
            data = struct.unpack("Q", f.read(8))[0]
        t.eq(f"{w}.value", o["value"], data & 0xFFFFFFFF)
        t.eq(f"{w}.waiters", sorted(o.get("waiters") or []), futex_sleepers_in(procs, inode))
        return
    # sem_unlink(3): the name goes at once, the semaphore lives while a process has it open
    inode = SEM_INODES.get(name)
    where = mapping_of_inode(procs, inode) if inode is not None else None
    if where is not None:
        word = peek_long(*where)
        t.eq(
            f"{w}.value (unlinked, still mapped)",
            o["value"],
            None if word is None else word & 0xFFFFFFFF,
        )


def compare_posix_shm(t: Tally, o: dict[str, Any], procs: list[dict[str, Any]]) -> None:
    w = o["id"]
    name = o.get("name")
    if not name or o.get("flavor") != "posix":
        return
    path = "/dev/shm/" + name.lstrip("/")
    exists = os.path.exists(path)
    t.eq(f"{w}.removed", bool(o.get("removed")), not exists)
    mappers = sorted(
        p["name"]
        for p in procs
        if p["pid"]
        and p["state"] not in ("exited", "zombie")
        and any(m[3].startswith(path) for m in maps_of(p["pid"]))
    )
    t.eq(f"{w}.mapped_by", sorted(o.get("mapped_by") or []), mappers)
    if exists:
        t.eq(f"{w}.size", o["size"], os.stat(path).st_size)
        if o.get("data"):
            with open(path, "rb") as f:
                raw = f.read(len(o["data"]) // 2)
            t.eq(f"{w}.data", o["data"], raw.hex())
            t.eq(
                f"{w}.futex sleepers",
                sorted(o.get("sem_waiters") or [])
                if o.get("sem_waiters")
                else (["?"] * (o.get("sem_nwaiters") or 0)),
                ["?"] * len(futex_sleepers_in(procs, os.stat(path).st_ino)),
            )
            at = o.get("sem_at")
            if at is not None and o.get("sem_value") is not None:
                word = struct.unpack_from("Q", raw, at)[0]
                t.eq(f"{w}.sem_value", o["sem_value"], word & 0xFFFFFFFF)
                t.eq(f"{w}.sem_nwaiters", o["sem_nwaiters"], word >> 32)


def compare_anon(t: Tally, o: dict[str, Any], procs: list[dict[str, Any]]) -> None:
    w = o["id"]
    addr = o.get("address")
    if addr is None:
        return
    live = [p for p in procs if p["pid"] and p["state"] not in ("exited", "zombie")]
    blocks = {p["name"]: smaps_block(p["pid"], addr) for p in live}
    mappers = [n for n, b in blocks.items() if b is not None]
    t.eq(f"{w}.mapped_by", sorted(o["mapped_by"]), sorted(mappers))
    for i, n in enumerate(o["mapped_by"]):
        b = blocks.get(n)
        if b is None:
            continue
        t.eq(f"{w}.shared[{n}]", o["shared"], b["perms"][3] == "s")
        t.eq(
            f"{w}.shared_dirty_kb[{n}]", o["shared_dirty_kb"][i], int(b["Shared_Dirty"].split()[0])
        )
        t.eq(
            f"{w}.private_dirty_kb[{n}]",
            o["private_dirty_kb"][i],
            int(b["Private_Dirty"].split()[0]),
        )
        t.eq(f"{w}.anonymous_kb[{n}]", o["anonymous_kb"][i], int(b["Anonymous"].split()[0]))
        t.eq(f"{w}.rss_kb[{n}]", o["rss_kb"][i], int(b["Rss"].split()[0]))
        pid = next(p["pid"] for p in live if p["name"] == n)
        value = peek_long(pid, addr) if page_present(pid, addr) else None
        t.eq(f"{w}.counters[{n}]", o["counters"][i], value)


UNIX_ST = {1: "unconnected", 2: "connecting", 3: "connected", 4: "disconnecting"}


def compare_socket(
    t: Tally,
    o: dict[str, Any],
    procs: list[dict[str, Any]],
    ss: dict[int, dict[str, Any]],
    net: dict[int, dict[str, Any]],
    inode_obj: dict[int, str],
) -> None:
    w = o["id"]
    ino = o.get("inode")
    if ino is None:
        return
    hold = holders_of(procs, f"socket:[{ino}]")
    t.eq(f"{w}.holders", o["holders"], len(hold))
    t.eq(f"{w}.fds", sorted(o["fds"]), sorted(f"{n}:{fd}" for n, _, fd in hold))
    row = net.get(ino)
    if row is None:
        t.eq(f"{w}.in /proc/net/unix", bool(hold), False)
        return
    t.eq(f"{w}.type", o["type"], {1: "stream", 2: "dgram", 5: "seqpacket"}.get(row["type"]))
    t.eq(f"{w}.state", o["state"], UNIX_ST.get(row["st"]))
    listening = bool(row["flags"] & SO_ACCEPTCON)
    t.eq(f"{w}.listening", o["listening"], listening)
    t.eq(f"{w}.path", o["path"] or "", row["path"])
    if o["path"]:
        try:
            is_sock = stat.S_ISSOCK(os.lstat(o["path"]).st_mode)
            exists = True
        except OSError:
            is_sock, exists = False, False
        t.eq(f"{w}.exists", o["exists"], exists)
        if exists:
            t.eq(f"{w}.file_type", o["file_type"], "s" if is_sock else "?")
    s = ss.get(ino)
    if s is None:
        return
    if listening:
        t.eq(f"{w}.pending (ss Recv-Q)", o["pending"], s["recvq"])
        t.eq(f"{w}.backlog (ss Send-Q)", o["backlog"], s["sendq"])
    else:
        t.eq(f"{w}.inq (ss Recv-Q)", o["inq"], s["recvq"])
        t.eq(f"{w}.outq (ss Send-Q)", o["outq"], s["sendq"])
        if s["peer"]:
            t.eq(
                f"{w}.peer (ss peer inode)",
                o["peer"],
                inode_obj.get(s["peer"], f"inode {s['peer']}"),
            )


def compare_socketpair(
    t: Tally, o: dict[str, Any], procs: list[dict[str, Any]], ss: dict[int, dict[str, Any]]
) -> None:
    w = o["id"]
    for end in ("a", "b"):
        ino = o.get(f"inode_{end}")
        if ino is None:
            continue
        hold = holders_of(procs, f"socket:[{ino}]")
        t.eq(f"{w}.holders_{end}", o[f"holders_{end}"], len(hold))
        s = ss.get(ino)
        if s is not None:
            t.eq(f"{w}.inq_{end} (ss Recv-Q)", o[f"inq_{end}"], s["recvq"])
            t.eq(f"{w}.outq_{end} (ss Send-Q)", o[f"outq_{end}"], s["sendq"])


def compare_open_file(t: Tally, o: dict[str, Any], procs: list[dict[str, Any]]) -> None:
    w = o["id"]
    path = o["path"]
    exists = os.path.exists(path)
    t.eq(f"{w}.exists", o["exists"], exists)
    if exists:
        t.eq(f"{w}.size", o["size"], os.stat(path).st_size)
    hold = holders_of(procs, path)
    t.eq(f"{w}.holders", o["holders"], len(hold))
    by = {f"{n}:{fd}": (pid, fd) for n, pid, fd in hold}
    for i, key in enumerate(o["fds"]):
        if key in by:
            pid, fd = by[key]
            t.eq(f"{w}.offsets[{key}]", o["offsets"][i], int(fdinfo(pid, fd)["pos"]))
    # open file descriptions: kcmp(KCMP_FILE) pairwise
    groups: list[tuple[int, int]] = []
    for _, pid, fd in hold:
        if not any(
            LIBC.syscall(SYS_KCMP, pid, gpid, KCMP_FILE, fd, gfd) == 0 for gpid, gfd in groups
        ):
            groups.append((pid, fd))
    if hold:
        t.eq(f"{w}.descriptions", o["descriptions"], len(groups))


def compare_snapshot(t: Tally, snap: dict[str, Any]) -> None:
    t.step = snap["step"]
    procs = snap["processes"]
    for p in procs:
        compare_process(t, p)
    ss = ss_unix()
    net = proc_net_unix()
    inode_obj: dict[int, str] = {}
    for o in snap["objects"]:
        if o["kind"] == "socket" and o.get("inode"):
            inode_obj[o["inode"]] = o["id"]
    simple: dict[str, Callable[[Tally, dict[str, Any], list[dict[str, Any]]], None]] = {
        "pipe": compare_pipe,
        "sysv_sem": compare_sysv_sem,
        "sysv_msgq": compare_sysv_msgq,
        "posix_mq": compare_posix_mq,
        "anon": compare_anon,
        "open_file": compare_open_file,
    }
    for o in snap["objects"]:
        kind = o["kind"]
        if kind in simple:
            simple[kind](t, o, procs)
        elif kind == "sem" and o.get("flavor") == "posix":
            compare_posix_sem(t, o, procs)
        elif kind == "shm":
            compare_posix_shm(t, o, procs)
        elif kind == "socket":
            compare_socket(t, o, procs, ss, net, inode_obj)
        elif kind == "socketpair":
            compare_socketpair(t, o, procs, ss)


def run_lesson(path: str, delay: float, verbose: bool, ipcviz: str, tamper: bool = False) -> Tally:
    t = Tally(Path(path).stem, verbose)
    t.tamper = tamper
    cmd = [ipcviz, "run", path, "--headless", "--json", "--delay", str(delay)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            snap = json.loads(line)
            if snap["step"] == snap["total_steps"]:
                # ipcviz ends the run right after printing its last snapshot (no --delay
                # there): the processes are being killed while we would read them.
                t.skipped += 1
                continue
            compare_snapshot(t, snap)
    return t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("lessons", nargs="+")
    ap.add_argument("--delay", type=float, default=0.4)
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument(
        "--tamper", action="store_true", help="self-test: add 1 to every ppid ipcviz gives"
    )
    ap.add_argument("--ipcviz", default=str(Path(sys.executable).with_name("ipcviz")))
    args = ap.parse_args()
    total, bad = 0, 0
    for lesson in args.lessons:
        t = run_lesson(lesson, args.delay, args.verbose, args.ipcviz, args.tamper)
        print(
            f"{t.lesson}: {t.compared} fields compared, {len(t.disagreements)} disagree"
            f" (last snapshot not compared: {t.skipped})",
            flush=True,
        )
        total += t.compared
        bad += len(t.disagreements)
    print(f"TOTAL: {total} fields compared, {bad} disagree")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
