"""What the author sees while a command runs (used by cli.py only): log records and progress, on
a rich console."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, TaskID, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

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
    """A command's console, with the log records on it."""
    console = make_console()
    configure_logging(verbosity, console)
    yield console
