"""The ``pelviscope`` command: one sub-command per module in :mod:`pelviscope.commands`.

Exit status 0 on success, 2 on bad usage or bad input (including files that cannot be
read or written: disk full, permissions, a folder in the way, not enough memory), with
one line per failure on stderr naming the file, the position and the reason
(DESIGN section 5). Anything else is a bug in pelviscope: exit status 1, one line
naming a log file that holds the traceback. No traceback ever reaches the terminal,
also not from threads the command starts. Ctrl-C gives exit status 130; a reader of
stdout that quits early (``| head``) ends the command quietly with 141, as SIGPIPE would.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import importlib
import math
import os
import stat
import sys
import tempfile
import threading
import traceback
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import NoReturn, TextIO

from pelviscope import __version__

#: Sub-command name -> module in ``pelviscope.commands`` (imported lazily so that
#: ``pelviscope --help`` does not load Qt or bleak).
COMMANDS = {
    "scan": "List nearby BLE IMUs pelviscope can use.",
    "live": "Live dashboard of pelvic tilt with hip-hike flags.",
    "record": "Record a sensor (or the emulated one) to a recording file.",
    "analyze": "Analyse a recording or CSV: tilt, activity, gait, hip-hiking.",
    "review": "Review a recorded session in a window.",
    "simulate": "Simulate a pelvis IMU session (recording or CSV, with ground truth).",
    "export": "Convert between a recording, CSV and BIDS-motion (--bids DIR: a dataset).",
    "history": "Subjects, their sessions and progress reports (the history database).",
    "clinic": "Guided clinical tests and exercises (simulated screen, or marked recordings).",
}

OVERWRITE_HELP = "replace output files that exist already (default: refuse, exit status 2)"



class UsageError(Exception):
    """Bad command-line usage; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line (DESIGN section 5); the usage is one --help away.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# --- argument types: bad values are refused by the parser with one line -------------


def number_in(
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    what: str = "",
) -> Callable[[str], float]:
    """An argparse ``type`` accepting a finite float within ``[low, high]``.

    Parameters
    ----------
    low, high : float, optional
        Bounds (inclusive unless ``low_open``); None for no bound.
    low_open : bool
        Exclude ``low`` itself (e.g. "positive").
    what : str
        Why the range, appended to the error (e.g. "the sensor's range").
    """

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{text!r}: give a finite number")
        too_low = low is not None and (value <= low if low_open else value < low)
        too_high = high is not None and value > high
        if too_low or too_high:
            lo = "" if low is None else f"{'above' if low_open else 'at least'} {low:g}"
            hi = "" if high is None else f"at most {high:g}"
            why = f" ({what})" if what else ""
            raise argparse.ArgumentTypeError(
                f"{text}: must be {' and '.join(s for s in (lo, hi) if s)}{why}"
            )
        return value

    return parse


def positive_int(text: str) -> int:
    """An argparse ``type`` for a count of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def add_overwrite(parser: argparse.ArgumentParser) -> None:
    """Add the ``--overwrite`` flag every command that writes files has."""
    parser.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Build the argument parser with every sub-command registered.

    With ``argv`` naming a command, only that command's module is imported and its
    arguments registered (the others' imports, e.g. scipy for ``analyze``, cost seconds
    of start-up); the command list of ``--help`` is the same either way.
    """
    wanted = next((a for a in argv or () if not a.startswith("-")), None)
    if wanted not in COMMANDS:
        wanted = None
    parser = _Parser(
        prog="pelviscope",
        description="Pelvic posture from one pelvis-worn IMU: tilt, activity, gait, hip-hiking.",
    )
    parser.add_argument("--version", action="version", version=f"pelviscope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if wanted is None or name == wanted:
            module = importlib.import_module(f"pelviscope.commands.{name}")
            module.register(p)
            p.set_defaults(_module=module, _parser=p)
    return parser


# --- the error boundary ---------------------------------------------------------------


def log_folder() -> Path:
    """Where internal-error logs go: ``$XDG_STATE_HOME/pelviscope/logs`` (or ~/.local/state)."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return Path(base) / "pelviscope" / "logs"


def _own_folder(folder: Path) -> bool:
    """Make ``folder`` (private); False if it is not a folder only this user can write."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        st = os.lstat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022


def _open_new_log() -> tuple[Path, TextIO]:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    shared_tmp = Path(tempfile.gettempdir()) / f"pelviscope-logs-{os.getuid()}"
    for folder in (log_folder(), shared_tmp, None):
        if folder is None:  # the predictable temp name is taken by someone else
            folder = Path(tempfile.mkdtemp(prefix="pelviscope-logs-"))
        elif not _own_folder(folder):
            continue
        with contextlib.suppress(OSError):
            for n in range(100):
                path = folder / f"{stamp}-{os.getpid()}{f'-{n}' if n else ''}.log"
                try:
                    fd = os.open(path, flags, 0o600)
                except FileExistsError:
                    continue
                return path, open(fd, "w", encoding="utf-8")
    raise OSError(errno.EACCES, "no writable folder for the log")


#: Commands whose arguments name people (pseudonymous subject ids): a log shows only
#: the command and its action.
PRIVATE_ARGUMENTS = {"history"}


def _logged_command_line() -> str:
    argv = sys.argv
    if len(argv) > 1 and argv[1] in PRIVATE_ARGUMENTS:
        return " ".join([*argv[:3], "(arguments not logged: they may name people)"])
    return " ".join(argv)


def write_log(exc: BaseException, *, context: str = "") -> str:
    """Write ``exc``'s traceback to a new log file; return its path (or why there is none)."""
    try:
        path, f = _open_new_log()
        with f:
            f.write(f"pelviscope {__version__}, Python {sys.version.split()[0]}\n")
            f.write(f"command line: {_logged_command_line()}\n")
            if context:
                f.write(f"{context}\n")
            f.write("".join(traceback.format_exception(exc)))
            for w in _CAUGHT_WARNINGS:
                f.write(f"warning before the error: {w}\n")
        return str(path)
    except Exception:  # never let reporting a bug raise another one
        return "(no log: no writable folder)"


def one_line(text: object, limit: int = 300) -> str:
    """``text`` squeezed onto one line (and shortened) for the terminal.

    Control characters (e.g. escape sequences in a file name or a CSV cell) are shown
    escaped, never sent to the terminal.
    """
    s = " ".join(str(text).split())
    s = "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)
    return s if len(s) <= limit else s[: limit - 3] + "..."


def os_reason(exc: OSError) -> str:
    """A plain reason for an operating-system error."""
    from recordings.files import OS_REASONS

    return OS_REASONS.get(exc.errno or 0) or one_line(exc.strerror or exc)


def internal_error_line(exc: BaseException, log: str) -> str:
    """The one line describing a bug in pelviscope."""
    return (
        f"internal error ({type(exc).__name__}: {one_line(exc, 160)}); "
        f"please report it with the log {log}"
    )


def classify(exc: BaseException, context_file: str | None = None) -> tuple[int, str]:
    """Exit status and one-line message (without the command prefix) for a failure.

    Status 2 for bad usage or input and for files that cannot be read or written, 1 for
    a bug (after writing its traceback to a log file).
    """
    from recordings.errors import InputError

    if isinstance(exc, InputError | UsageError):
        return 2, f"error: {one_line(exc, 1000)}"
    if isinstance(exc, MemoryError):
        return 2, f"error: {context_file or 'input'}: not enough memory to process it"
    from recordings.files import OS_REASONS

    if isinstance(exc, OSError) and (exc.filename or exc.errno in OS_REASONS):
        name = exc.filename or context_file or "?"
        return 2, f"error: {name}: {os_reason(exc)}"
    return 1, internal_error_line(exc, write_log(exc))


#: The file a command is working on, named in messages for errors that do not name one.
_CURRENT_FILE: list[str] = []
#: Python warnings seen during the command (kept for the log, not printed).
_CAUGHT_WARNINGS: list[str] = []


_SAY_LOCK = threading.Lock()


def say(line: str) -> None:
    """Print one line on stderr, whole even when threads report at the same moment."""
    with _SAY_LOCK:
        if sys.stderr.isatty():
            line = "\r\x1b[K" + line  # over a half-drawn progress or status line
        sys.stderr.write(line + "\n")
        sys.stderr.flush()


def report(command: str, kind: str, text: str) -> None:
    """Print ``pelviscope <command>: <kind>: <text>`` as one clean line on stderr."""
    say(f"pelviscope {command}: {kind}{': ' if kind else ''}{one_line(text, 2000)}")


@contextlib.contextmanager
def working_on(path: str | os.PathLike[str]) -> Iterator[None]:
    """Name ``path`` in any error raised inside this block that names no file itself."""
    _CURRENT_FILE.append(str(path))
    try:
        yield
    finally:
        _CURRENT_FILE.pop()


@contextlib.contextmanager
def _boundary_hooks(command: str) -> Iterator[None]:
    """Threads and late errors: one line and a log, never a traceback on the terminal."""

    def thread_hook(hook_args: threading.ExceptHookArgs) -> None:
        if hook_args.exc_value is None or isinstance(hook_args.exc_value, SystemExit):
            return
        _, message = classify(hook_args.exc_value, _CURRENT_FILE[-1] if _CURRENT_FILE else None)
        say(f"pelviscope {command}: {message}")

    def sys_hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        if isinstance(value, KeyboardInterrupt):
            say(f"pelviscope {command}: interrupted")
            return
        say(f"pelviscope {command}: {internal_error_line(value, write_log(value))}")

    def unraisable_hook(u: sys.UnraisableHookArgs) -> None:
        if u.exc_value is not None:
            _CAUGHT_WARNINGS.append(f"ignored {type(u.exc_value).__name__}: {u.exc_value}")

    def show_warning(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        _CAUGHT_WARNINGS.append(f"{category.__name__}: {message} ({filename}:{lineno})")

    saved = (threading.excepthook, sys.excepthook, sys.unraisablehook, warnings.showwarning)
    threads_before = set(threading.enumerate())
    threading.excepthook = thread_hook
    sys.excepthook = sys_hook
    sys.unraisablehook = unraisable_hook
    warnings.showwarning = show_warning
    try:
        yield
    finally:
        # Threads the command left running report through these hooks until they end (the
        # interpreter joins them on exit); otherwise an in-process caller gets its own back.
        # Only the command's own threads count: a caller's threads are none of its business.
        if not any(t.is_alive() for t in set(threading.enumerate()) - threads_before):
            threading.excepthook, sys.excepthook, sys.unraisablehook = saved[:3]
        warnings.showwarning = saved[3]


def _stdout_closed() -> int:
    """The reader of our output quit (``pelviscope analyze DIR | head``): end quietly."""
    with contextlib.suppress(OSError, ValueError):
        # Python's final flush of stdout would fail again and print about it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + 13  # as if killed by SIGPIPE, the shell convention


def _file_of(args: argparse.Namespace) -> str | None:
    """The file a command works on, for errors that name none (e.g. out of memory)."""
    for name in ("input", "inputs", "out", "output"):
        value = getattr(args, name, None)
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if isinstance(value, str | os.PathLike):
            return os.fspath(value)
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    try:
        parser = build_parser(sys.argv[1:] if argv is None else argv)
        try:
            args, extra = parser.parse_known_args(argv)
            if extra:  # named by the sub-command's parser, like its other argument errors
                (getattr(args, "_parser", None) or parser).error(
                    f"unrecognized arguments: {' '.join(extra)}"
                )
        except SystemExit as exc:  # --help, --version, or a bad argument (one line printed)
            return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        say("pelviscope: interrupted")
        return 130
    except BrokenPipeError:
        return _stdout_closed()
    except Exception as exc:  # a broken installation (a command module failing to import)
        say(f"pelviscope: {internal_error_line(exc, write_log(exc))}")
        return 1
    if args.command is None:
        parser.print_help()
        return 2
    command = args.command
    _CAUGHT_WARNINGS.clear()
    with _boundary_hooks(command):
        try:
            return int(args._module.run(args) or 0)
        except KeyboardInterrupt:
            say(f"pelviscope {command}: interrupted")
            return 130
        except BrokenPipeError as exc:
            if exc.filename is None:
                return _stdout_closed()
            say(f"pelviscope {command}: error: {exc.filename}: the reader of the pipe has quit")
            return 2
        except SystemExit as exc:
            return exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:  # the boundary: every failure is one line
            status, message = classify(exc, _CURRENT_FILE[-1] if _CURRENT_FILE else _file_of(args))
            say(f"pelviscope {command}: {message}")
            return status
        finally:
            _CURRENT_FILE.clear()
