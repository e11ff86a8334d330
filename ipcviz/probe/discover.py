"""The processes and kernel objects of a program ipcviz did not start (attach --watch).

A lesson's workers report every object they create; a program being watched reports
nothing, so its objects are found from what the kernel shows of its processes:
* the tree: the process and its descendants (parent pids of /proc/*/stat);
* pipes by inode (`pipe:[INO]` in /proc/PID/fd), FIFOs by path (an fd whose file is a
  FIFO: stat(2) of /proc/PID/fd/N, which opens nothing; or the path a process asleep in
  open() is opening, read from its memory);
* System V queues whose last sender or receiver (/proc/sysvipc/msg lspid, lrpid) is in
  the tree, or that a process of the tree sleeps on (msgrcv/msgsnd take the msqid);
* shared memory from /proc/PID/maps: System V segments (`/SYSV<key>`, the inode is the
  shmid) and those /proc/sysvipc/shm says a process of the tree created or last used;
  POSIX regions (`/dev/shm/NAME`) and named semaphores (`/dev/shm/sem.NAME`);
* System V semaphore sets that a process of the tree sleeps on (semop takes the semid)
  or last operated on (semctl GETPID).  Who holds a unit is not kept by the kernel: when a
  semaphore is at 0 and the last process to operate on it is of the tree and not waiting
  on it, it is inferred to hold it (the record's events say so, and `inferred` marks it).

The records have the shape the mechanisms' probes read (probe/kinds.py), so the same
probes, models and views serve a watched program and a lesson.  Nothing here opens an
object of the program.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from . import procfs, syscalls
from .fifo import OPEN_CALLS, open_path_of
from .kinds import Record
from .msgq import read_proc_msg
from .sem import GETPID, GETVAL, semctl_read

MAX_PROCESSES = 256  # of one watched tree (the trace format's cap per snapshot)
MAX_OBJECTS = 256
PROC_SEM = "/proc/sysvipc/sem"


@dataclass(frozen=True)
class Member:
    """A process of the watched tree."""

    pid: int
    ppid: int
    comm: str

    @property
    def name(self) -> str:
        """COMM-PID, in the letters a lesson's names use (the stage makes ids of them)."""
        return re.sub(r"[^A-Za-z0-9_]", "_", self.comm) + f"-{self.pid}"


def _comm_and_ppid(text: str) -> tuple[str, int]:
    comm = text[text.index("(") + 1:text.rindex(")")]
    return comm, int(text[text.rindex(")") + 2:].split()[1])


def name_of(pid: int, proc: str = procfs.PROC) -> str | None:
    """The Member name of any process (the watched one's parent), or None."""
    try:
        with open(f"{proc}/{pid}/stat", encoding="utf-8", errors="replace") as f:
            comm, ppid = _comm_and_ppid(f.read())
    except (OSError, ValueError):
        return None
    return Member(pid, ppid, comm).name


def tree(root: int, proc: str = procfs.PROC) -> list[Member]:
    """ROOT and its descendants, parents before children; [] if ROOT is gone."""
    members: dict[int, Member] = {}
    for entry in os.listdir(proc):
        if not entry.isdigit():
            continue
        try:
            with open(f"{proc}/{entry}/stat", encoding="utf-8", errors="replace") as f:
                comm, ppid = _comm_and_ppid(f.read())
        except (OSError, ValueError):
            continue  # gone while we listed
        members[int(entry)] = Member(int(entry), ppid, "".join(
            c if c.isprintable() else "?" for c in comm))
    if root not in members:
        return []
    children: dict[int, list[int]] = {}
    for m in members.values():
        children.setdefault(m.ppid, []).append(m.pid)
    out: list[Member] = []
    todo = [root]
    while todo and len(out) < MAX_PROCESSES:
        pid = todo.pop(0)
        out.append(members[pid])
        todo.extend(sorted(children.get(pid, ())))
    return out


def _fd_records(pid: int, pd: procfs.ProcDir, found: dict[str, Record]) -> None:
    for num, target in procfs.read_fds_at(pd).items():
        if target.startswith("pipe:[") and target not in found:
            found[target] = {"id": f"pipe-{target[6:-1]}", "kind": "pipe",
                             "inode": int(target[6:-1]),
                             "fd_targets": [target]}
        elif target.startswith("/") and target not in found:
            try:
                st = os.stat(f"fd/{num}", dir_fd=pd.fd)  # the file itself; nothing opened
            except OSError:
                continue
            if stat.S_ISFIFO(st.st_mode):
                found[target] = _fifo_record(target, st)


def _fifo_record(path: str, st: os.stat_result) -> Record:
    return {"id": f"fifo-{st.st_ino}", "kind": "fifo", "path": path, "fd_targets": [path]}


def _opening(members: Iterable[Member], proc: str, found: dict[str, Record]) -> None:
    """FIFOs that members sleep opening (wait_for_partner): not in any fd table yet."""
    for m in members:
        try:
            with open(f"{proc}/{m.pid}/syscall") as f:
                sc = procfs.parse_syscall(f.read())
        except OSError:
            continue
        name = syscalls.name(sc.number)
        if sc.running or name not in OPEN_CALLS:
            continue
        path = open_path_of(m.pid, name, sc.args)
        if path is None or path in found:
            continue
        try:
            st = os.stat(path)  # stat: the FIFO is not opened
        except OSError:
            continue
        if stat.S_ISFIFO(st.st_mode):
            found[path] = _fifo_record(path, st)


def _asleep_on(members: Iterable[Member], calls: frozenset[int], proc: str) -> set[int]:
    """First arguments of the CALLS the members sleep in (System V ids)."""
    ids = set()
    for m in members:
        try:
            with open(f"{proc}/{m.pid}/syscall") as f:
                sc = procfs.parse_syscall(f.read())
        except OSError:
            continue
        if not sc.running and sc.number in calls and sc.args:
            ids.add(sc.args[0])
    return ids


def _sem_sets(proc: str) -> dict[int, int]:
    """semid -> key, of /proc/sysvipc/sem (key semid perms nsems ...)."""
    out = {}
    try:
        with open(f"{proc}/sysvipc/sem") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return {}
    for line in lines:
        fields = line.split()
        try:
            out[int(fields[1])] = int(fields[0]) & 0xFFFFFFFF
        except (IndexError, ValueError):
            continue
    return out


def _sem_records(members: list[Member], proc: str) -> list[Record]:
    pids = {m.pid: m for m in members}
    waited = _asleep_on(members, syscalls.numbers("semop", "semtimedop"), proc)
    out = []
    for semid, key in sorted(_sem_sets(proc).items()):
        try:
            last, value = semctl_read(semid, GETPID), semctl_read(semid, GETVAL)
        except OSError:
            continue  # removed meanwhile, or not ours to read
        if semid not in waited and last not in pids:
            continue
        events = []
        if value == 0 and last in pids:  # inferred: the last to operate took the last unit
            events.append({"op": "wait", "n": 1, "by": pids[last].name, "inferred": True})
        out.append({"id": f"sem-{semid}", "kind": "sysv_sem", "key": key,
                    "semid": semid, "events": events, "inferred": "holder: last semop"})
    return out


def _msgq_records(members: list[Member], proc: str) -> list[Record]:
    pids = {m.pid for m in members}
    waited = _asleep_on(members, syscalls.numbers("msgrcv", "msgsnd"), proc)
    return [{"id": f"msgq-{q.msqid}", "kind": "sysv_msgq", "key": q.key, "msqid": q.msqid}
            for q in sorted(read_proc_msg().values(), key=lambda q: q.msqid)
            if q.msqid in waited or q.lspid in pids or q.lrpid in pids]


def _shm_rows(proc: str) -> dict[int, dict[str, int]]:
    """shmid -> {key, cpid, lpid} of /proc/sysvipc/shm."""
    try:
        with open(f"{proc}/sysvipc/shm") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    head = lines[0].split() if lines else []
    out = {}
    for line in lines[1:]:
        row = dict(zip(head, line.split()))
        try:
            out[int(row["shmid"])] = {"key": int(row["key"]) & 0xFFFFFFFF,
                                      "cpid": int(row["cpid"]), "lpid": int(row["lpid"])}
        except (KeyError, ValueError):
            continue
    return out


def _dev_shm() -> dict[tuple[int, int], str]:
    """(device, inode) -> name of every file in /dev/shm.  A mapping's path is not enough:
    glibc creates a named semaphore under a temporary name and links it, so its creator's
    mapping reads /dev/shm/sem.XXXXXX (deleted)."""
    out = {}
    try:
        with os.scandir("/dev/shm") as it:
            for e in it:
                try:
                    st = e.stat(follow_symlinks=False)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    out[(st.st_dev, st.st_ino)] = e.name
    except OSError:
        pass
    return out


def _mapped(path: str, dev: str, inode: int, found: dict[str, Record],
            shm_names: dict[tuple[int, int], str]) -> None:
    """A record for one file-backed mapping of /proc/PID/maps, if it is an IPC object."""
    if path.startswith("/SYSV"):
        found.setdefault(f"shm-{inode}", {"id": f"shm-{inode}", "kind": "sysv_shm",
                                          "key": int(path[5:13], 16), "shmid": inode})
        return
    if not path.startswith("/dev/shm/"):
        return
    major, _, minor = dev.partition(":")
    number = os.makedev(int(major, 16), int(minor, 16))
    base = shm_names.get((number, inode))
    if base is None:
        return  # unlinked: no name left to find it by
    if base.startswith("sem."):
        found.setdefault(f"psem-{inode}", {"id": f"psem-{inode}", "kind": "sem",
                                           "name": "/" + base[4:], "inode": inode,
                                           "dev": number})
    else:
        found.setdefault(f"pshm-{inode}", {"id": f"pshm-{inode}", "kind": "shm",
                                           "name": "/" + base, "path": f"/dev/shm/{base}",
                                           "inode": inode, "dev": number})


def _map_records(members: list[Member], proc: str) -> list[Record]:
    found: dict[str, Record] = {}
    shm_names: dict[tuple[int, int], str] | None = None
    for m in members:
        try:
            with open(f"{proc}/{m.pid}/maps") as f:
                lines = f.read().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.split(None, 5)
            if len(parts) == 6 and parts[5].startswith(("/SYSV", "/dev/shm/")):
                if shm_names is None:
                    shm_names = _dev_shm()
                try:
                    _mapped(parts[5], parts[3], int(parts[4]), found, shm_names)
                except ValueError:
                    continue
    pids = {m.pid for m in members}
    for shmid, row in sorted(_shm_rows(proc).items()):
        if row["cpid"] in pids or row["lpid"] in pids:
            found.setdefault(f"shm-{shmid}", {"id": f"shm-{shmid}", "kind": "sysv_shm",
                                              "key": row["key"], "shmid": shmid})
    return list(found.values())


def map_records(pids: Iterable[int], proc: str = procfs.PROC) -> list[Record]:
    """Records of the shared memory PIDS map: System V segments (and those they created
    or last used), POSIX regions and named semaphores (for a traced program too)."""
    return _map_records([Member(pid, 0, "") for pid in pids], proc)


def records(members: list[Member], proc: str = procfs.PROC) -> list[Record]:
    """The kernel objects the members use, as records for the mechanisms' probes."""
    found: dict[str, Record] = {}
    for m in members:
        try:
            pd = procfs.ProcDir(m.pid, proc)
        except procfs.NoSuchProcess:
            continue
        try:
            _fd_records(m.pid, pd, found)
        except (procfs.NoSuchProcess, OSError):
            pass  # it exited while we looked: its fds are closed
        finally:
            pd.close()
    _opening(members, proc, found)
    out = list(found.values())
    out += _map_records(members, proc)
    out += _msgq_records(members, proc)
    out += _sem_records(members, proc)
    return out[:MAX_OBJECTS]
