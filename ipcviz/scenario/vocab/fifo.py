"""FIFOs (named pipes): mkfifo, open, lseek, unlink.  read / write / close / dup2 are the
pipe's actions: `open` puts the new fd on the object's end ("f.read" / "f.write")."""

from __future__ import annotations

from .base import Action, Arg

ACTIONS: list[Action] = [
    Action("mkfifo", (Arg("object", "object:fifo"),),
           "mkfifo(path, 0600): a FIFO in the run's private directory"),
    Action(
        "open",
        (Arg("object", "object:fifo"), Arg("mode", "choice:read|write"),
         Arg("nonblock", "bool", False, False)),
        "open(path, O_RDONLY | O_WRONLY [| O_NONBLOCK])",
        sleeps_in=("openat", "open"),
        c_calls=(("openat", "open"),),
    ),
    Action("lseek", (Arg("fd", "fd"), Arg("offset", "int", False, 0),
                     Arg("whence", "choice:set|cur|end", False, "set")),
           "lseek(fd, offset, whence)"),
    Action("unlink", (Arg("object", "object:fifo"),), "unlink(path): remove the name"),
]

PROCESS_ATTRS: frozenset[str] = frozenset()

OBJECT_ATTRS: dict[str, frozenset[str]] = {
    "fifo": frozenset({
        "path",  # where it is
        "exists",  # the name is in the file system (os.stat succeeds)
        "file_type",  # "p" for a FIFO (from st_mode)
        "size",  # st_size: always 0 for a FIFO
        "bytes", "capacity",  # the buffer, through an fd a process holds
        "readers", "writers",  # fds open on it, over all scenario processes
        "blocked_readers", "blocked_writers",  # asleep in read() / write() on it
        "opening_readers", "opening_writers",  # asleep in open() of it, waiting for a partner
    }),
}
