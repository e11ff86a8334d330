"""The feature check at start leaves nothing a student could see in `ipcs`."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

_CHECK = (
    "import sys\n"
    "from ipcviz.runtime.availability import features\n"
    "have = features()\n"
    "print('sysv_shm', have['sysv_shm'], flush=True)\n"
    "sys.stdin.read()\n"
)


def _segments_created_by(pid: int) -> list[str]:
    with open("/proc/sysvipc/shm") as f:
        header, *rows = f.read().splitlines()
    col = header.split().index("cpid")
    return [row for row in rows if int(row.split()[col]) == pid]


def test_feature_check_leaves_no_sysv_segment_while_ipcviz_runs():
    """A live process that ran the feature check owns no System V segment (not even "dest")."""
    # GIVEN a process that ran the check at start and is still running
    child = subprocess.Popen([sys.executable, "-c", _CHECK], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        line = child.stdout.readline()
        # THEN the check really tried System V shared memory here ...
        assert line.strip() == "sysv_shm None", line
        # ... and no segment it created is still listed (ipcs -m reads this same table)
        assert _segments_created_by(child.pid) == []
    finally:
        child.stdin.close()
        child.wait(timeout=30)
