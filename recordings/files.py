"""Writing output files safely: atomically, never over an existing file unless asked.

Every file pelviscope writes goes through here:

- :func:`atomic_output` writes a whole file to a fresh temporary name in the target's
  folder (created with ``O_EXCL``, so a planted file or symlink is never followed) and
  moves it into place only when it is complete. Without ``overwrite`` the move is a
  hard link, which fails if the target exists - atomic "create if absent". A failed
  write leaves the target as it was and no temporary file behind.
- :func:`create_exclusive` opens a new file for streaming (a recorder), refusing an
  existing name, so two writers on one name cannot both succeed.

Failures become :class:`OutputError` with one line naming the file and the reason
(disk full, read-only folder, a directory in the way, ...).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal, overload

from recordings.errors import InputError

#: Plain reasons for the operating-system errors a user can meet on a file.
OS_REASONS = {
    errno.ENOENT: "file not found",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "the file system is read-only",
    errno.EISDIR: "is a directory",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ELOOP: "too many symbolic links (or a symbolic link where none is followed)",
    errno.ENAMETOOLONG: "the name is too long",
    errno.EFBIG: "the file is too large for this file system",
    errno.EIO: "input/output error on the disk",
    errno.EEXIST: "exists already",
    errno.ENXIO: "no such device",
    errno.ENODEV: "no such device",
    errno.EMFILE: "too many open files",
    errno.ENFILE: "too many open files",
}


class OutputError(InputError):
    """An output file cannot be written; the message is one line (file and reason)."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(str(path), "", reason)


def exists_reason() -> str:
    """The reason given when a file would be overwritten."""
    return "exists already; choose another name or pass --overwrite to replace it"


def output_error(path: str | os.PathLike[str], exc: OSError) -> OutputError:
    """Turn an ``OSError`` met while writing ``path`` into a one-line :class:`OutputError`."""
    if exc.errno == errno.EEXIST:
        return OutputError(path, exists_reason())
    if exc.errno == errno.ENOENT:
        return OutputError(path, "cannot write: the folder does not exist")
    reason = OS_REASONS.get(exc.errno or 0) or (exc.strerror or str(exc)).strip()
    return OutputError(path, f"cannot write: {reason}")


def check_writable(path: str | os.PathLike[str], *, overwrite: bool) -> None:
    """Fail early (before a long analysis) if ``path`` could not be written.

    Checks that the folder exists and that nothing - or, with ``overwrite``, a regular
    file - is in the way. Writing can still fail later (e.g. a full disk).
    """
    p = Path(path)
    if p.is_dir():
        raise OutputError(p, "is a directory; give a file name")
    try:
        mode = os.lstat(p).st_mode
    except OSError:
        mode = None
    if mode is not None:
        if not overwrite:
            raise OutputError(p, exists_reason())
        if stat.S_ISLNK(mode):
            raise OutputError(p, "is a symbolic link; not replaced")
        if not stat.S_ISREG(mode):  # never "replace" /dev/full, a pipe or a socket
            raise OutputError(p, "not a regular file (a device, pipe or socket); not replaced")
    parent = p.parent
    if not parent.is_dir():
        raise OutputError(p, f"cannot write: the folder {str(parent) or '.'} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(p, f"cannot write: the folder {parent} is not writable")


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows."""
    with (
        contextlib.suppress(OSError, ValueError, StopIteration),
        open("/proc/self/status", encoding="ascii") as f,
    ):
        return int(next(line for line in f if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _commit(tmp: str, target: Path, *, overwrite: bool) -> None:
    if target.is_dir():
        raise OutputError(target, "is a directory; give a file name")
    if overwrite:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)  # atomic: fails with EEXIST if the target appeared meanwhile
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise OutputError(target, exists_reason()) from None
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        # File systems without hard links: check, then rename (a small race remains).
        if os.path.lexists(target):
            raise OutputError(target, exists_reason()) from None
        os.replace(tmp, target)
    else:
        os.unlink(tmp)


@overload
def atomic_output(
    path: str | os.PathLike[str], *, overwrite: bool = ..., mode: Literal["wb"] = ...
) -> contextlib.AbstractContextManager[IO[bytes]]: ...
@overload
def atomic_output(
    path: str | os.PathLike[str], *, overwrite: bool = ..., mode: Literal["w"]
) -> contextlib.AbstractContextManager[IO[str]]: ...
def atomic_output(
    path: str | os.PathLike[str], *, overwrite: bool = False, mode: str = "wb"
) -> contextlib.AbstractContextManager[IO[Any]]:
    """Write ``path`` atomically: yield a file on a temporary name, move it in on success.

    Parameters
    ----------
    path : str or Path
        The file to create.
    overwrite : bool
        Replace an existing file. Without it an existing ``path`` (even one created while
        writing) raises :class:`OutputError` and is left untouched.
    mode : {"wb", "w"}
        Binary or text (UTF-8, newline line ends).

    Raises
    ------
    OutputError
        The target exists (without ``overwrite``), is a directory, or the file cannot be
        written (disk full, permissions, ...). Nothing is left behind.
    """
    return _atomic_output(Path(path), overwrite=overwrite, mode=mode)


@contextlib.contextmanager
def _atomic_output(path: Path, *, overwrite: bool, mode: str) -> Iterator[IO[Any]]:
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    check_writable(path, overwrite=overwrite)
    try:
        # mkstemp creates with O_EXCL (and O_NOFOLLOW): a random, never pre-existing name.
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; outputs follow the umask
    except OSError as exc:
        raise output_error(path, exc) from None
    try:
        text = {"encoding": "utf-8", "newline": "\n"} if mode == "w" else {}
        with open(fd, mode, **text) as f:  # type: ignore[call-overload]
            yield f
            f.flush()
            os.fsync(f.fileno())
        _commit(tmp, path, overwrite=overwrite)
    except OSError as exc:
        raise output_error(path, exc) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def create_exclusive(path: str | os.PathLike[str], *, overwrite: bool = False) -> IO[bytes]:
    """Open a new file for streaming writes, refusing an existing name.

    With ``overwrite`` an existing regular file is removed first; a symlink or a
    directory in the way is never replaced. Two writers on one name cannot both succeed:
    the creation itself is exclusive (``O_EXCL``).

    Raises
    ------
    OutputError
        The name exists (without ``overwrite``), or the file cannot be created.
    """
    p = Path(path)
    check_writable(p, overwrite=overwrite)
    if overwrite and os.path.lexists(p):
        try:
            os.unlink(p)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise output_error(p, exc) from None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(p, flags, 0o644)
    except OSError as exc:
        raise output_error(p, exc) from None
    return open(fd, "wb")
