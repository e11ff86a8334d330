"""Numbers of the Linux interface that Python's modules do not all name, defined once.

Neutral (imports nothing of ipcviz): the probe uses them to ask the kernel, the model to
write the command a student can type to ask it too.
"""

from __future__ import annotations

import fcntl
import termios

SYS_PIDFD_GETFD = 438  # pidfd_getfd(2): the same number on every architecture (new-style table)
F_GETPIPE_SZ: int = getattr(fcntl, "F_GETPIPE_SZ", 1032)  # fcntl(2): F_LINUX_SPECIFIC_BASE + 7
F_SETPIPE_SZ: int = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # fcntl(2): F_LINUX_SPECIFIC_BASE + 6
PIPE_MAX_SIZE = "/proc/sys/fs/pipe-max-size"  # F_SETPIPE_SZ's cap without CAP_SYS_RESOURCE
FIONREAD: int = termios.FIONREAD  # ioctl(2): bytes available to read (0x541B)
SIOCINQ = FIONREAD  # linux/sockios.h: stream, bytes queued; datagram, the next one's size
SIOCOUTQ: int = termios.TIOCOUTQ  # kernel memory still charged to an end's unread sends
# kcmp(2): do two fds of two processes refer to one open file description?  Old-style
# table: the number differs per architecture (uname -m).
SYS_KCMP: dict[str, int] = {"x86_64": 312, "aarch64": 272}
KCMP_FILE = 0
# sock_diag(7): netlink family, request type, and what a unix_diag_req may ask for
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
UDIAG_SHOW_NAME, UDIAG_SHOW_PEER, UDIAG_SHOW_ICONS, UDIAG_SHOW_RQLEN = 0x01, 0x04, 0x08, 0x10

# sigaction(2) sa_flags (asm-generic/signal.h, x86 the same): Python's signal module does
# not name them.
SA_SIGINFO = 0x00000004
SA_RESTART = 0x10000000
SA_NODEFER = 0x40000000

__all__ = ["FIONREAD", "F_GETPIPE_SZ", "F_SETPIPE_SZ", "KCMP_FILE", "NETLINK_SOCK_DIAG",
           "PIPE_MAX_SIZE", "SA_NODEFER", "SA_RESTART", "SA_SIGINFO", "SIOCINQ", "SIOCOUTQ",
           "SOCK_DIAG_BY_FAMILY", "SYS_KCMP", "SYS_PIDFD_GETFD", "UDIAG_SHOW_ICONS",
           "UDIAG_SHOW_NAME", "UDIAG_SHOW_PEER", "UDIAG_SHOW_RQLEN"]
