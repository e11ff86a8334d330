"""Unix domain sockets: socketpair; named sockets (socket, bind, listen, connect, accept);
an open file description passed with SCM_RIGHTS (send_fd / recv_fd); SO_PEERCRED; and
open_file, a regular file to pass.

A socketpair's two fds become the object's ends ("s.a" / "s.b"), inherited through fork
like a pipe's, so the pipe's read / write / close / dup2 work on them unchanged.  Nothing
is named in the file system: the kernel frees the pair when the last fd on it closes.

A named socket's one fd is its end "s.fd".  bind() names it in the run's private
directory, sock/ (0700, made on first use, never through a symbolic link), at the
object's name: the lesson gives no path, so none can leave the run.  The name is in the
manifest before bind() creates it; it stays after the last close (a socket's file is not
removed by the kernel), and the end of the run removes it.  connect() and accept() go
through libc as C makes them (a caught signal ends them with EINTR, ops/fds.py).
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import stat
import struct
from typing import Any

from ..rundir import RunDir, ours
from .fds import as_in_c, fd_of, note_read
from .ipc import open_run_subdir, remove_in_run_subdir
from .types import Arg0, Args, Call, Op, OpWorker, Outcome, Pids, Remover

TYPES = {"stream": socket.SOCK_STREAM, "dgram": socket.SOCK_DGRAM}
C_TYPES = {"stream": "SOCK_STREAM", "dgram": "SOCK_DGRAM"}
SOCK_DIR = "sock"  # the run's directory of named sockets and the files a lesson passes
SUN_PATH = 108  # sizeof(sockaddr_un.sun_path) on Linux: the path and its NUL


class SockaddrUn(ctypes.Structure):
    _fields_ = [("sun_family", ctypes.c_ushort), ("sun_path", ctypes.c_char * SUN_PATH)]


_libc = ctypes.CDLL(None, use_errno=True)
for _name in ("bind", "connect"):
    getattr(_libc, _name).argtypes = (ctypes.c_int, ctypes.POINTER(SockaddrUn), ctypes.c_uint)
    getattr(_libc, _name).restype = ctypes.c_int
_libc.listen.argtypes = (ctypes.c_int, ctypes.c_int)
_libc.accept4.argtypes = (ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)


# -- paths ------------------------------------------------------------------------------

def sock_dir(w: OpWorker) -> str:
    """The run's sock/ directory, made 0700 on first use; an existing one must be a real
    directory of ours (lstat: a symbolic link put there is refused, not followed)."""
    path = str(w.rundir.path / SOCK_DIR)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode) or not ours(st):
            raise OSError(errno.EACCES, f"{path} is not a private directory of this run"
                          ) from None
    return path


def sock_path(w: OpWorker, obj: str) -> str:
    """The path of object `obj` in sock/ (not created here)."""
    return str(w.rundir.path / SOCK_DIR / obj)


def sockaddr(path: str) -> SockaddrUn:
    """struct sockaddr_un of `path`; ENAMETOOLONG when it does not fit in sun_path with its
    NUL (the kernel would take it cut short, or refuse it: never a different name)."""
    raw = os.fsencode(path)
    if len(raw) >= SUN_PATH:
        raise OSError(errno.ENAMETOOLONG, f"{path} is {len(raw)} bytes: sun_path holds "
                      f"{SUN_PATH - 1} and a NUL")
    return SockaddrUn(socket.AF_UNIX, raw)


# -- records ----------------------------------------------------------------------------

def record(obj: str, ino_a: int, ino_b: int) -> dict[str, Any]:
    """A socketpair as the probe finds it: each end is its own socket, with its own inode."""
    ta, tb = f"socket:[{ino_a}]", f"socket:[{ino_b}]"
    return {"id": obj, "kind": "socketpair", "inode_a": ino_a, "inode_b": ino_b,
            "fd_targets": [ta, tb], "fd_ends": {ta: "a", tb: "b"}}


def socket_record(obj: str, fd: int, **more: Any) -> dict[str, Any]:
    target = f"socket:[{os.fstat(fd).st_ino}]"
    return {"id": obj, "kind": "socket", "inode": os.fstat(fd).st_ino,
            "fd_targets": [target], "fd_ends": {target: "fd"}, **more}


def file_record(obj: str, path: str) -> dict[str, Any]:
    gone = f"{path} (deleted)"
    return {"id": obj, "kind": "open_file", "path": path, "fd_targets": [path, gone],
            "fd_ends": {path: "fd", gone: "fd"}}


# -- socketpair -------------------------------------------------------------------------

def do_socketpair(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    a, b = socket.socketpair(socket.AF_UNIX, TYPES[args.get("type", "stream")])
    fa, fb = a.detach(), b.detach()  # plain fds from now on, as the lesson's C has them
    for fd in (fa, fb):  # without FD_CLOEXEC, as C's socketpair() makes them (Python's has it)
        os.set_inheritable(fd, True)
    w.ends[f"{obj}.a"] = fa
    w.ends[f"{obj}.b"] = fb
    return {"result": [fa, fb],
            "objects": [record(obj, os.fstat(fa).st_ino, os.fstat(fb).st_ino)]}


# -- named sockets ----------------------------------------------------------------------

def _c(call: Any) -> int:
    """A libc call that does not sleep: -1 becomes OSError(errno)."""
    n = int(call)
    if n < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return n


def do_socket(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    fd = socket.socket(socket.AF_UNIX, TYPES[args.get("type", "stream")]).detach()
    os.set_inheritable(fd, True)  # without FD_CLOEXEC, as C's socket() makes it
    w.ends[f"{obj}.fd"] = fd
    return {"result": fd, "objects": [socket_record(obj, fd)]}


def do_bind(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    fd = fd_of(w, f"{obj}.fd")
    sock_dir(w)
    path = sock_path(w, obj)
    addr = sockaddr(path)
    w.rundir.record("sockfile", path)  # in the manifest before it exists
    old = os.umask(0o177)  # the file is made 0600, as every object of a run
    try:
        _c(_libc.bind(fd, ctypes.byref(addr), ctypes.sizeof(addr)))
    finally:
        os.umask(old)
    return {"result": 0, "objects": [socket_record(obj, fd, path=path)]}


def do_listen(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, f"{args['object']}.fd")
    return {"result": _c(_libc.listen(fd, int(args.get("backlog", 1))))}


def do_connect(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    fd = fd_of(w, f"{obj}.fd")
    addr = sockaddr(sock_path(w, args["server"]))
    # Sleeps while the server's queue is full (the kernel's unix_wait_for_peer).
    as_in_c(lambda: _libc.connect(fd, ctypes.byref(addr), ctypes.sizeof(addr)))
    return {"result": 0, "objects": [socket_record(obj, fd)]}


def do_accept(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, f"{args['object']}.fd")
    # accept4(fd, NULL, NULL, 0) is accept(): the new fd has no FD_CLOEXEC, as in C
    new = as_in_c(lambda: _libc.accept4(fd, None, None, 0))
    w.ends[f"{args['as']}.fd"] = new
    return {"result": new, "objects": [socket_record(args["as"], new)]}


# -- passing an fd, and the peer's credentials ------------------------------------------

class Iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class Msghdr(ctypes.Structure):
    _fields_ = [("msg_name", ctypes.c_void_p), ("msg_namelen", ctypes.c_uint),
                ("msg_iov", ctypes.POINTER(Iovec)), ("msg_iovlen", ctypes.c_size_t),
                ("msg_control", ctypes.c_void_p), ("msg_controllen", ctypes.c_size_t),
                ("msg_flags", ctypes.c_int)]


class Cmsghdr(ctypes.Structure):
    _fields_ = [("cmsg_len", ctypes.c_size_t), ("cmsg_level", ctypes.c_int),
                ("cmsg_type", ctypes.c_int)]


for _name in ("sendmsg", "recvmsg"):
    getattr(_libc, _name).argtypes = (ctypes.c_int, ctypes.POINTER(Msghdr), ctypes.c_int)
    getattr(_libc, _name).restype = ctypes.c_ssize_t

MAX_FDS = 4  # fds one recv_fd takes: more than one sent are closed at once (not the lesson's)
DATA_AT = socket.CMSG_LEN(0)  # where a control message's data begins


def _msghdr(buf: ctypes.Array[ctypes.c_char], control: ctypes.Array[ctypes.c_char]
            ) -> tuple[Msghdr, Iovec]:
    io = Iovec(ctypes.cast(buf, ctypes.c_void_p), len(buf))
    msg = Msghdr(None, 0, ctypes.pointer(io), 1, ctypes.cast(control, ctypes.c_void_p),
                 len(control), 0)
    return msg, io


def do_send_fd(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    """sendmsg() with one SCM_RIGHTS control message, through libc as C makes it."""
    fd, passed = fd_of(w, args["fd"]), fd_of(w, args["pass"])
    data = str(args.get("data", "x")).encode()
    buf = ctypes.create_string_buffer(data, len(data))
    control = ctypes.create_string_buffer(socket.CMSG_SPACE(4))
    ctypes.memmove(control, ctypes.byref(Cmsghdr(socket.CMSG_LEN(4), socket.SOL_SOCKET,
                                                 socket.SCM_RIGHTS)), ctypes.sizeof(Cmsghdr))
    struct.pack_into("i", control, DATA_AT, passed)
    msg, _io = _msghdr(buf, control)
    return {"result": as_in_c(lambda: _libc.sendmsg(fd, ctypes.byref(msg), 0))}


def received_fds(control: bytes, controllen: int) -> list[int]:
    """The fds of the SCM_RIGHTS messages in a control buffer recvmsg() filled."""
    out: list[int] = []
    at, head = 0, ctypes.sizeof(Cmsghdr)
    while at + head <= controllen:
        length, level, kind = struct.unpack_from("Nii", control, at)
        if length < DATA_AT or at + length > controllen:
            break
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            n = (length - DATA_AT) // 4
            out += list(struct.unpack_from(f"{n}i", control, at + DATA_AT))
        at += socket.CMSG_SPACE(length - DATA_AT)
    return out


def do_recv_fd(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    """recvmsg() through libc as C makes it: a caught signal ends it with EINTR."""
    fd = fd_of(w, args["fd"])
    buf = ctypes.create_string_buffer(4096)
    control = ctypes.create_string_buffer(socket.CMSG_SPACE(4 * MAX_FDS))
    msg, _io = _msghdr(buf, control)
    # flags 0, as the C shown: the fd received has no FD_CLOEXEC and survives an exec
    n = as_in_c(lambda: _libc.recvmsg(fd, ctypes.byref(msg), 0))
    fds = received_fds(control.raw, msg.msg_controllen)
    for extra in fds[1:]:
        os.close(extra)
    facts = note_read(w.facts, w.runs, buf.raw[:n])
    facts["received_fd"] = fds[0] if fds else None
    if fds and isinstance(args["as"], str):  # an end ("f.fd"); a number names nothing new
        w.ends[args["as"]] = fds[0]
    return {"result": n, "facts": facts}


def do_peercred(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    fd = fd_of(w, args["fd"])
    s = socket.socket(fileno=fd)
    try:
        raw = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    finally:
        s.detach()
    pid, uid, gid = struct.unpack("3i", raw)
    w.facts.update(peer_pid=pid, peer_uid=uid, peer_gid=gid)
    return {"result": 0, "facts": {"peer_pid": pid, "peer_uid": uid, "peer_gid": gid}}


def do_open_file(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    obj = args["object"]
    sock_dir(w)
    path = sock_path(w, obj)
    w.rundir.record("sockdir_file", path)  # in the manifest before it exists
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    # The open file description the C shown makes: O_RDWR, no O_NOFOLLOW (which would stay
    # in its flags, as /proc/PID/fdinfo and F_GETFL show them) and no O_CLOEXEC (the fd
    # survives an exec).  Reopened through /proc/self/fd, which names this very file (no
    # path is looked up again), then put on the same fd number.
    same = os.open(f"/proc/self/fd/{fd}", os.O_RDWR)
    os.dup2(same, fd)  # inheritable, as an fd without FD_CLOEXEC
    os.close(same)
    w.ends[f"{obj}.fd"] = fd
    return {"result": fd, "objects": [file_record(obj, path)]}


def do_unlink_socket(w: OpWorker, args: Args, pids: Pids, k: int) -> Outcome:
    """unlink(path) of a socket's name, as C's unlink: ENOENT when it is gone already.
    Only inside the run's own sock/ directory (opened without following a link), and only
    a socket file of ours: anything else there is refused, never removed."""
    obj = args["object"]
    dfd = open_run_subdir(w.rundir, SOCK_DIR)  # no sock/ yet: ENOENT, as in C
    try:
        if not ours(os.fstat(dfd)):
            raise OSError(errno.EACCES, "the run's sock/ directory is not ours")
        st = os.stat(obj, dir_fd=dfd, follow_symlinks=False)  # ENOENT when gone
        if not stat.S_ISSOCK(st.st_mode) or st.st_uid != os.geteuid():
            raise OSError(errno.EACCES, f"{sock_path(w, obj)} is not a socket of this run")
        os.unlink(obj, dir_fd=dfd)
    finally:
        os.close(dfd)
    return {"result": 0}


OPS: dict[str, Op] = {
    "socketpair": do_socketpair, "socket": do_socket, "bind": do_bind, "listen": do_listen,
    "connect": do_connect, "accept": do_accept, "send_fd": do_send_fd,
    "recv_fd": do_recv_fd, "peercred": do_peercred, "open_file": do_open_file,
    "unlink_socket": do_unlink_socket,
}


def _addr(w: OpWorker, obj: str) -> str:
    path = sock_path(w, obj)
    return (f'{{sa_family=AF_UNIX, sun_path="{path}"}}, '
            f"{ctypes.sizeof(SockaddrUn)}")


CALLS: dict[str, Call] = {
    "socketpair": lambda w, a, p:
        f"socketpair(AF_UNIX, {C_TYPES[a.get('type', 'stream')]}, 0, sv)",
    "socket": lambda w, a, p: f"socket(AF_UNIX, {C_TYPES[a.get('type', 'stream')]}, 0)",
    "bind": lambda w, a, p: f"bind({fd_of(w, a['object'] + '.fd')}, {_addr(w, a['object'])})",
    "listen": lambda w, a, p: f"listen({fd_of(w, a['object'] + '.fd')}, "
                              f"{a.get('backlog', 1)})",
    "connect": lambda w, a, p: f"connect({fd_of(w, a['object'] + '.fd')}, "
                               f"{_addr(w, a['server'])})",
    "accept": lambda w, a, p: f"accept({fd_of(w, a['object'] + '.fd')}, NULL, NULL)",
    "send_fd": lambda w, a, p: f"sendmsg({fd_of(w, a['fd'])}, {{msg_iov="
                               f"{str(a.get('data', 'x'))[:40]!r}, SCM_RIGHTS="
                               f"[{fd_of(w, a['pass'])}]}}, 0)",
    "recv_fd": lambda w, a, p: f"recvmsg({fd_of(w, a['fd'])}, {{msg_iov, msg_control}}, 0)",
    "peercred": lambda w, a, p: f"getsockopt({fd_of(w, a['fd'])}, SOL_SOCKET, SO_PEERCRED, "
                                "&cred, &len)",
    "open_file": lambda w, a, p: f'open("{sock_path(w, a["object"])}", O_RDWR | O_CREAT, '
                                 "0600)",
    "unlink_socket": lambda w, a, p: f'unlink("{sock_path(w, a["object"])}")',
}

ARG0: dict[str, Arg0] = {
    "connect": lambda w, a, p: fd_of(w, a["object"] + ".fd"),
    "accept": lambda w, a, p: fd_of(w, a["object"] + ".fd"),
    "send_fd": lambda w, a, p: fd_of(w, a["fd"]),
    "recv_fd": lambda w, a, p: fd_of(w, a["fd"]),
}


def _remover(kind_ok: Any, what: str) -> Remover:
    def remove(entry: dict[str, Any], rd: RunDir) -> str | None:
        """Remove a name of the manifest: only a file of ours of the kind made there, in
        the run's own sock/ directory."""
        path = remove_in_run_subdir(entry, rd, SOCK_DIR, kind_ok)
        return f"{what} {path}" if path else None
    return remove


# kind of manifest line -> what the end of a run and `ipcviz clean` call for it.  A
# socketpair has no name: the kernel frees it with its last fd.
REMOVERS: dict[str, Remover] = {
    "sockfile": _remover(stat.S_ISSOCK, "socket"),
    "sockdir_file": _remover(stat.S_ISREG, "file"),
}
