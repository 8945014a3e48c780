"""What the author sees while a command runs (used by cli.py only): log records and progress, on
a rich console, and TensorFlow's own C++ log kept out of sight unless asked for.

TensorFlow's C++ logging (absl) writes to file descriptor 2 itself, at import and again when the
converter builds graphs, and ignores TF_CPP_MIN_LOG_LEVEL for everything logged before
absl::InitializeLog() (cuDNN/cuBLAS registration, "computation placer already registered", grappler's
device lines). Unless -v is given, fd 2 is therefore pointed at a temporary file for the whole
command, while teachkit's own output goes to a duplicate of the real stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from .errors import TeachkitError
from .progress import NoProgress

# Third-party Python loggers that speak up at INFO or WARNING about things an author cannot change.
NOISY_LOGGERS = ("tensorflow", "absl", "h5py", "jax")
OWN_LOGGER = "builder"


@dataclass
class Verbosity:
    """-v (counted) and -q, wherever on the command line they were given."""

    verbose: int = 0
    quiet: bool = False

    @property
    def level(self) -> int:
        """teachkit's own level: -v shows its detail."""
        return logging.WARNING if self.quiet else logging.DEBUG if self.verbose else logging.INFO

    @property
    def library_level(self) -> int:
        """Other libraries' level: their debug output (Pillow's PNG chunks, …) needs -vv."""
        return logging.WARNING if self.quiet else logging.DEBUG if self.verbose > 1 else logging.INFO

    @property
    def hides_native_log(self) -> bool:
        """TensorFlow's C++ log shows with -v only (-q wins over -v, as everywhere)."""
        return self.quiet or not self.verbose


def make_console(stream: TextIO | None = None) -> Console:
    """A console that prints text as given: no markup, highlighting, emoji or wrapping."""
    return Console(
        file=stream, stderr=stream is None, markup=False, highlight=False, emoji=False, soft_wrap=True
    )


class ConsoleHandler(logging.Handler):
    """Log records as lines on a rich console, so that they print above a live progress bar."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self.console = console

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        return f"warning: {message}" if record.levelno == logging.WARNING else message

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.console.print(self.format(record))
        except Exception:  # logging must never break the command
            self.handleError(record)


def configure_logging(verbosity: Verbosity, console: Console) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(ConsoleHandler(console))
    root.setLevel(verbosity.library_level)
    logging.getLogger(OWN_LOGGER).setLevel(verbosity.level)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.ERROR)


@contextlib.contextmanager
def native_stderr_hidden(hide: bool) -> Iterator[TextIO | None]:
    """With `hide`, points fd 2 at a temporary file and yields a stream on the real stderr for
    teachkit's own output; otherwise (or when stderr has no file descriptor, as under a test
    runner) changes nothing and yields None. What was hidden is written out after all if the
    command fails unexpectedly (with a traceback); a TeachkitError's own message says enough."""
    real_fd = _stderr_fd() if hide else None
    if real_fd is None:
        yield None
        return
    sys.stderr.flush()
    saved = os.dup(real_fd)
    hidden = tempfile.TemporaryFile()
    terminal = open(  # closed below, after the command
        os.dup(saved), "w", buffering=1, encoding=sys.stderr.encoding or "utf-8", errors="replace"
    )
    os.dup2(hidden.fileno(), real_fd)
    replay = False
    try:
        yield terminal
    except TeachkitError:
        raise
    except Exception:
        replay = True
        raise
    finally:
        sys.stderr.flush()
        terminal.close()
        os.dup2(saved, real_fd)
        os.close(saved)
        if replay:
            hidden.seek(0)
            sys.stderr.flush()
            shutil.copyfileobj(hidden, sys.stderr.buffer)
            sys.stderr.flush()
        hidden.close()


def _stderr_fd() -> int | None:
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a stream without a descriptor
        return None
    return fd if fd == 2 else None


class BarProgress:
    """Progress bars with percentages (rich.progress), one per step, on a terminal."""

    def __init__(self, console: Console) -> None:
        self._bars = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TimeElapsedColumn(),
            console=console,
            # Writes to sys.stdout/stderr (Python warnings) stay where fd 2 points, not above the bar.
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task: TaskID | None = None

    def start(self, step: str, total: int) -> None:
        self._finish_step()
        if self._task is None:
            self._bars.start()
        self._task = self._bars.add_task(step, total=total)

    def advance(self, units: int = 1) -> None:
        if self._task is not None:
            self._bars.advance(self._task, units)

    def _finish_step(self) -> None:
        if self._task is not None:
            task = self._bars.tasks[self._task]
            self._bars.update(self._task, completed=task.total)

    def close(self, succeeded: bool) -> None:
        if self._task is None:
            return
        if succeeded:
            self._finish_step()
        self._bars.stop()


class LineProgress:
    """Each step as one line, where a bar cannot be drawn (not a terminal) or would be torn by
    TensorFlow's own log lines (-v)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def start(self, step: str, total: int) -> None:
        self.console.print(step)

    def advance(self, units: int = 1) -> None:
        pass

    def close(self, succeeded: bool) -> None:
        pass


class SilentProgress(NoProgress):
    """-q: nothing."""

    def close(self, succeeded: bool) -> None:
        pass


@contextlib.contextmanager
def progress_for(
    verbosity: Verbosity, console: Console
) -> Iterator[BarProgress | LineProgress | SilentProgress]:
    """Bars on a terminal at the default verbosity, lines otherwise, nothing with -q."""
    if verbosity.quiet:
        progress: BarProgress | LineProgress | SilentProgress = SilentProgress()
    elif console.is_terminal and not console.is_dumb_terminal and not verbosity.verbose:
        progress = BarProgress(console)
    else:
        progress = LineProgress(console)
    succeeded = False
    try:
        yield progress
        succeeded = True
    finally:
        progress.close(succeeded)


@contextlib.contextmanager
def command_output(verbosity: Verbosity) -> Iterator[Console]:
    """For a command that may run TensorFlow: its console, with TensorFlow's C++ log hidden at the
    default verbosity and with -q, shown with -v."""
    with native_stderr_hidden(verbosity.hides_native_log) as stream:
        console = make_console(stream)
        configure_logging(verbosity, console)
        try:
            yield console
        finally:
            configure_logging(verbosity, make_console())
