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

import json
import os
import secrets
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_RUN = "IPCVIZ_RUN"  # every process of a run carries IPCVIZ_RUN=<run id> in its environment
ENV_CONDUCTOR = "IPCVIZ_CONDUCTOR"  # and IPCVIZ_CONDUCTOR=<pid>:<start time> of its conductor
PREFIX = "ipcviz"
SOCKET_NAME = "control.sock"


class RunDirError(Exception):
    pass


def runtime_root() -> Path:
    """The private directory of this user's ipcviz runs, created 0700 if needed."""
    override = os.environ.get("IPCVIZ_RUNTIME_DIR")
    if override:
        root = Path(override)
    else:
        xdg = os.environ.get("XDG_RUNTIME_DIR")
        if xdg and os.path.isdir(xdg) and os.access(xdg, os.W_OK):
            root = Path(xdg) / "ipcviz"
        else:
            root = Path("/tmp") / f"ipcviz-{os.getuid()}"
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as err:
        raise RunDirError(f"cannot create the runtime directory {root}: {err.strerror}") from None
    st = os.lstat(root)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise RunDirError(f"{root} is not a directory owned by you: refusing to use it")
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(root, 0o700)
    return root


def process_start_time(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (start time in clock ticks): with the pid, names a process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    rest = data[data.rindex(b")") + 2 :].split()
    return int(rest[19])


@dataclass
class RunDir:
    run_id: str
    path: Path

    @classmethod
    def create(cls, scenario: str) -> RunDir:
        root = runtime_root()
        run_id = f"{os.getpid()}{secrets.token_hex(3)}"
        path = root / f"run-{run_id}"
        # Made complete under another name, then renamed: the sweep (of another ipcviz
        # starting now) never sees a run-* directory without the run.json naming its owner,
        # which it would take for a dead run's and remove.
        new = root / f".new-{run_id}"
        new.mkdir(mode=0o700)
        (new / "fifo").mkdir(mode=0o700)
        rd = cls(run_id, new)
        rd.write_info(
            {
                "run_id": run_id,
                "conductor_pid": os.getpid(),
                "conductor_start": process_start_time(os.getpid()),
                "scenario": scenario,
                "created": time.time(),
                "uid": os.getuid(),
            }
        )
        (new / "objects.jsonl").touch(mode=0o600)
        os.rename(new, path)
        rd.path = path
        return rd

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

    def write_info(self, info: dict[str, Any]) -> None:
        tmp = self.path / "run.json.tmp"
        tmp.write_text(json.dumps(info))
        os.replace(tmp, self.info_path)

    def read_info(self) -> dict[str, Any]:
        try:
            return json.loads(self.info_path.read_text())
        except (OSError, ValueError):
            return {}

    def update_info(self, **changes: Any) -> None:
        info = self.read_info()
        info.update(changes)
        self.write_info(info)

    def record(self, kind: str, name: str, **extra: Any) -> None:
        """Write an object into the manifest before it is created (one O_APPEND write)."""
        line = json.dumps({"kind": kind, "name": name, "pid": os.getpid(), **extra}) + "\n"
        fd = os.open(self.path / "objects.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def objects(self) -> list[dict[str, Any]]:
        try:
            text = (self.path / "objects.jsonl").read_text()
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line cut short by a kill: nothing was created after it
        return out

    def object_name(self, obj: str) -> str:
        """A POSIX IPC name for a scenario object of this run."""
        return f"/{PREFIX}.{self.run_id}.{obj}"

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def conductor_alive(info: dict[str, Any]) -> bool:
    pid = info.get("conductor_pid")
    if not isinstance(pid, int):
        return False
    start = process_start_time(pid)
    return start is not None and start == info.get("conductor_start")
