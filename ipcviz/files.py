"""Files ipcviz writes for the user, written so that no symlink is ever followed.

A folder the user names (`export --svg DIR`, `--record FILE`) may be writable by someone
else, who can plant `index.html -> ~/.ssh/authorized_keys`.  Every file is therefore
written into a new temporary file beside its final name, created with
O_CREAT|O_EXCL|O_NOFOLLOW (it cannot be a link, it cannot exist before), and renamed into
place: rename(2) replaces a symlink itself, never its target.  A target that exists and is
not a regular file or a symlink (a FIFO, /dev/full, a folder) is refused.

No textual, no rich: the core uses it.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from types import TracebackType
from typing import IO, Any


class WriteError(Exception):
    """A file cannot be written; str() is one line naming the file."""


class ReadError(Exception):
    """An input file cannot be read as text; str() is the reason alone, in a few words."""


def read_text(path: Path, cap: int, what: str) -> str:
    """A whole input file (a lesson, a course: untrusted) as UTF-8 text, at most `cap` bytes.

    Opened with O_NONBLOCK (a FIFO named like the file must not hang us) and checked to be
    a regular file before anything is read (a folder, a FIFO, a device are refused); never
    more than cap + 1 bytes are read.  `what` names the kind of file in the size message."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise ReadError("no such file") from None
    except OSError as err:
        raise ReadError(f"cannot read: {err.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ReadError("not a regular file")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(cap + 1)
    except OSError as err:
        raise ReadError(f"cannot read: {err.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > cap:
        raise ReadError(f"larger than {cap // 1024} KB, the most {what} may be")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise ReadError(f"cannot read: not UTF-8 text (byte {err.start})") from None


def _refuse_special(path: Path) -> None:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    except OSError as err:
        raise WriteError(f"{path}: {err.strerror}") from None
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise WriteError(f"{path}: exists and is not a regular file (ipcviz writes only "
                         "regular files)")


class NewFile:
    """A text file written beside `path` and renamed onto it by commit() (or close()).

    Used as a context manager: leaving the block normally commits; leaving it by an
    exception removes the temporary file and leaves `path` as it was."""

    def __init__(self, path: Path | str, mode: int = 0o644, text: bool = True) -> None:
        self.path = Path(path)
        _refuse_special(self.path)
        parent = self.path.parent
        self._tmp = parent / f".{self.path.name}.{secrets.token_hex(6)}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(self._tmp, flags, mode)
        except OSError as err:
            raise WriteError(f"{self.path}: cannot write: {err.strerror}") from None
        self.file: IO[Any] = (os.fdopen(fd, "w", encoding="utf-8") if text
                         else os.fdopen(fd, "wb"))
        self._done = False

    def write(self, data: str | bytes) -> int:
        try:
            return self.file.write(data)
        except OSError as err:
            self.discard()
            raise WriteError(f"{self.path}: cannot write: {err.strerror}") from None

    def flush(self) -> None:
        try:
            self.file.flush()
        except OSError as err:
            self.discard()
            raise WriteError(f"{self.path}: cannot write: {err.strerror}") from None

    def commit(self) -> None:
        """Close the temporary file and rename it onto the final name."""
        if self._done:
            return
        try:
            self.file.close()
            os.rename(self._tmp, self.path)
        except OSError as err:
            self.discard()
            raise WriteError(f"{self.path}: cannot write: {err.strerror}") from None
        self._done = True

    def discard(self) -> None:
        """Drop what was written: the final name is left as it was."""
        if self._done:
            return
        self._done = True
        try:
            self.file.close()
        except OSError:
            pass
        try:
            os.unlink(self._tmp)
        except FileNotFoundError:
            pass

    close = commit

    def __enter__(self) -> NewFile:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


def write_file(path: Path | str, data: str | bytes, mode: int = 0o644) -> None:
    """Write `data` to `path` whole, never through a symlink (see the module's text)."""
    with NewFile(path, mode, text=isinstance(data, str)) as f:
        f.write(data)


__all__ = ["NewFile", "WriteError", "write_file"]
