"""What the author sees while a command runs (used by cli.py only): log records as lines on a
rich console."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TextIO

from rich.console import Console

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
