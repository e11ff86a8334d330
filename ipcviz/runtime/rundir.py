"""The private runtime directory of ipcviz and the per-run manifest.

Layout (mode 0700, owned by the user):

    $XDG_RUNTIME_DIR/ipcviz/   or   /tmp/ipcviz-UID/
        run-<RUNID>/
            run.json        conductor pid and start time, scenario, runner pid
            objects.jsonl   one line per kernel object, written *before* it is created
            control.sock    the conductor's socket that workers connect to
            fifo/           FIFOs of the run (0700)
            worker.log      stdout and stderr of the run's processes

Every object a run creates is named with the run id, so a later `ipcviz clean` can find
and remove what a killed run left behind.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import secrets
import shutil
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import RunError

ENV_RUN = "IPCVIZ_RUN"  # every process of a run carries IPCVIZ_RUN=<run id> in its environment
ENV_CONDUCTOR = "IPCVIZ_CONDUCTOR"  # and IPCVIZ_CONDUCTOR=<pid>:<start time> of its conductor
PREFIX = "ipcviz"
SOCKET_NAME = "control.sock"
NEW_MAX_AGE = 60.0  # a .new-* directory whose maker cannot be named is swept after this
_READ_LIMIT = 16 << 20  # a manifest or run.json larger than this is not one we wrote

EXIT_ENVIRONMENT, EXIT_RUN = 2, 3


class RunDirError(RunError):
    """The runtime directory cannot be used; str() is one line.  `code` is the exit
    status: 2 when the environment names a directory we refuse, 3 when a run cannot be
    made (disk full, ...)."""

    def __init__(self, message: str, code: int = EXIT_RUN) -> None:
        super().__init__(message)
        self.code = code


def ours(st: os.stat_result) -> bool:
    """Made by this user and private: owner uid is ours, no group or other permission bit.
    What every object and file of a run is checked for before it is used or removed."""
    return st.st_uid == os.geteuid() and not st.st_mode & 0o077


def check_posix_ours(fd: int, name: str, what: str) -> None:
    """The object open on fd (a POSIX queue, shared memory, a semaphore's file) is ours:
    owned by our uid, no group/other access (we create everything 0600).  Else EACCES."""
    st = os.fstat(fd)
    if not ours(st):
        raise OSError(errno.EACCES, f"the {what} {name} belongs to uid {st.st_uid} (mode "
                      f"{stat.S_IMODE(st.st_mode):04o}), not to this run: not used")


def _private_parent(path: str) -> bool:
    """$XDG_RUNTIME_DIR may hold our root only if it is a real directory of ours that no
    other user can write to (else they could swap our runtime root under us)."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid()
            and not st.st_mode & 0o022)


def runtime_root() -> Path:
    """The private directory of this user's ipcviz runs, created 0700 if needed.

    IPCVIZ_RUNTIME_DIR, if set, must be (or become) a directory owned by us, not a symbolic
    link: else RunDirError (exit 2).  $XDG_RUNTIME_DIR is used only if it is ours and not
    group/world writable; otherwise /tmp/ipcviz-UID."""
    override = os.environ.get("IPCVIZ_RUNTIME_DIR")
    if override:
        root = Path(override)
    else:
        xdg = os.environ.get("XDG_RUNTIME_DIR")
        if xdg and _private_parent(xdg):
            root = Path(xdg) / "ipcviz"
        else:
            root = Path("/tmp") / f"ipcviz-{os.geteuid()}"
    try:
        if override:
            os.makedirs(root.parent, mode=0o700, exist_ok=True)
        os.mkdir(root, 0o700)
    except FileExistsError:
        pass
    except OSError as err:
        raise RunDirError(f"cannot create the runtime directory {root}: {err.strerror}",
                          EXIT_ENVIRONMENT) from None
    os.close(open_root(root))
    return root


def open_root(root: Path) -> int:
    """An fd of the runtime root, after checking it is a directory of ours (not a symbolic
    link) and making it 0700.  Everything below it is reached through this fd, never by
    resolving the path again, so a directory swapped in later is never walked."""
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as err:
        try:
            link = stat.S_ISLNK(os.lstat(root).st_mode)
        except OSError:
            link = False
        why = ("is a symbolic link" if link or err.errno == errno.ELOOP
               else "is not a directory" if err.errno == errno.ENOTDIR else err.strerror)
        raise RunDirError(f"the runtime directory {root} {why}: refusing to use it",
                          EXIT_ENVIRONMENT) from None
    st = os.fstat(fd)
    if st.st_uid != os.geteuid():
        os.close(fd)
        raise RunDirError(f"the runtime directory {root} is owned by uid {st.st_uid}, not by "
                          "you: refusing to use it", EXIT_ENVIRONMENT)
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.fchmod(fd, 0o700)
    return fd


def process_start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks): with the pid, names a process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2 :].split()
    return int(rest[19])


def new_dir_maker(name: str) -> tuple[int, int] | None:
    """(pid, start time) of the process making a ".new-PID-START-RUNID" directory."""
    parts = name.split("-")
    if len(parts) < 4 or not parts[1].isdigit() or not parts[2].isdigit():
        return None
    return int(parts[1]), int(parts[2])


@dataclass
class RunDir:
    """One run's directory.  With `fd` set (the sweep), every file is reached through that
    directory fd with O_NOFOLLOW and checked to be ours before it is read; without, by
    path below `path` (the run's own processes, whose directory it is)."""

    run_id: str
    path: Path
    fd: int | None = None
    _secret: str | None = field(default=None, repr=False)

    @classmethod
    def create(cls, scenario: str) -> RunDir:
        root = runtime_root()
        me = os.getpid()
        start = process_start_time(me)
        run_id = f"{me}{secrets.token_hex(3)}"
        secret = secrets.token_hex(16)
        path = root / f"run-{run_id}"
        # Made complete under another name, then renamed: the sweep (of another ipcviz
        # starting now) never sees a run-* directory without the run.json naming its owner,
        # which it would take for a dead run's and remove.  The .new name itself names its
        # maker (pid and start time), so the sweep also leaves it alone while we live.
        new = root / f".new-{me}-{start}-{run_id}"
        rd = cls(run_id, new, _secret=secret)
        try:
            new.mkdir(mode=0o700)
            (new / "fifo").mkdir(mode=0o700)
            rd.write_info(
                {
                    "run_id": run_id,
                    "conductor_pid": me,
                    "conductor_start": start,
                    "scenario": scenario,
                    "created": time.time(),
                    "uid": os.geteuid(),
                    # never on a command line nor in the environment: POSIX names carry a
                    # tag made from it, so another user cannot guess them (and squat them)
                    "secret": secret,
                }
            )
            fd = os.open(new / "objects.jsonl", os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            os.close(fd)
            os.rename(new, path)
        except OSError as err:
            shutil.rmtree(new, ignore_errors=True)
            raise RunDirError(f"cannot make a run directory in {root}: {err.strerror}") from None
        rd.path = path
        return rd

    @classmethod
    def at(cls, parent_fd: int, parent: Path, name: str, run_id: str) -> RunDir | None:
        """The run directory `name` inside the directory `parent_fd` (known to the user as
        `parent`), opened without following a symbolic link; None unless it is a directory
        of ours."""
        try:
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                         dir_fd=parent_fd)
        except OSError:
            return None
        if not ours(os.fstat(fd)):
            os.close(fd)
            return None
        return cls(run_id, parent / name, fd)

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    @property
    def socket_path(self) -> Path:
        return self.path / SOCKET_NAME

    @property
    def fifo_dir(self) -> Path:
        return self.path / "fifo"

    @property
    def log_path(self) -> Path:
        return self.path / "worker.log"

    @property
    def info_path(self) -> Path:
        return self.path / "run.json"

    def _open(self, name: str, flags: int, mode: int = 0o600) -> int:
        flags |= os.O_NOFOLLOW | os.O_CLOEXEC
        if self.fd is not None:
            return os.open(name, flags, mode, dir_fd=self.fd)
        return os.open(self.path / name, flags, mode)

    def read_file(self, name: str) -> str:
        """A regular file of ours in the run directory (never through a symbolic link)."""
        fd = self._open(name, os.O_RDONLY | os.O_NONBLOCK)
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
                raise OSError(errno.EPERM, f"{name} is not a file of ours")
            chunks, size = [], 0
            while size < _READ_LIMIT:
                data = os.read(fd, 1 << 16)
                if not data:
                    break
                chunks.append(data)
                size += len(data)
            return b"".join(chunks).decode("utf-8", "replace")
        finally:
            os.close(fd)

    def write_info(self, info: dict[str, Any]) -> None:
        fd = self._open("run.json.tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        try:
            data = json.dumps(info).encode()
            while data:
                data = data[os.write(fd, data):]
        finally:
            os.close(fd)
        if self.fd is not None:
            os.replace("run.json.tmp", "run.json", src_dir_fd=self.fd, dst_dir_fd=self.fd)
        else:
            os.replace(self.path / "run.json.tmp", self.info_path)

    def read_info(self) -> dict[str, Any]:
        try:
            info = json.loads(self.read_file("run.json"))
        except (OSError, ValueError):
            return {}
        return info if isinstance(info, dict) else {}

    def update_info(self, **changes: Any) -> None:
        info = self.read_info()
        info.update(changes)
        self.write_info(info)

    def record(self, kind: str, name: str, **extra: Any) -> None:
        """Write an object into the manifest before it is created (one O_APPEND write)."""
        line = json.dumps({"kind": kind, "name": name, "pid": os.getpid(), **extra}) + "\n"
        fd = self._open("objects.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def objects(self) -> list[dict[str, Any]]:
        try:
            text = self.read_file("objects.jsonl")
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill: nothing was created after it
            if isinstance(entry, dict):
                out.append(entry)
        return out

    def created(self, kind: str, name: str) -> bool:
        """This run created the object `name` (its creator wrote created=true after the
        call succeeded): the only names a process of the run may open without creating."""
        return any(e.get("kind") == kind and e.get("name") == name and e.get("created") is True
                   for e in self.objects())

    @property
    def secret(self) -> str:
        if self._secret is None:
            secret = self.read_info().get("secret")
            if not isinstance(secret, str) or len(secret) < 16:
                raise OSError(errno.EACCES, "this run has no secret for its object names")
            self._secret = secret
        return self._secret

    def name_prefix(self) -> str:
        """What every POSIX name of this run begins with."""
        return f"/{PREFIX}.{self.run_id}."

    def object_name(self, obj: str) -> str:
        """A POSIX IPC name for a scenario object of this run: "/ipcviz.RUN.TAG.obj".

        TAG is a keyed hash of the object's name under the run's secret (kept in the 0700
        run directory only): another user who reads the run id from `ps` still cannot
        guess the name and create it first, and one object's name (visible once created)
        says nothing about the next one's."""
        tag = hmac.new(self.secret.encode(), obj.encode(), hashlib.sha256).hexdigest()[:16]
        return f"{self.name_prefix()}{tag}.{obj}"

    def owns_name(self, name: Any) -> bool:
        """`name` is a POSIX name of this run (the check every remover makes first)."""
        return (isinstance(name, str) and name.startswith(self.name_prefix())
                and "/" not in name[1:] and "\0" not in name and len(name) < 250)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def conductor_alive(info: dict[str, Any]) -> bool:
    pid = info.get("conductor_pid")
    if not isinstance(pid, int):
        return False
    start = process_start_time(pid)
    return start is not None and start == info.get("conductor_start")
