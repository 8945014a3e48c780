"""How the build reports its slow steps, without knowing who watches: the CLI passes a Progress
(a bar on a terminal, plain lines elsewhere); code that passes none reports nothing."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, step: str, total: int) -> None:
        """Begins `step`, made of `total` units of work; the step before it, if any, is done."""

    def advance(self, units: int = 1) -> None:
        """Marks `units` more units of the current step as done."""


class NoProgress:
    """Reports nothing."""

    def start(self, step: str, total: int) -> None:
        pass

    def advance(self, units: int = 1) -> None:
        pass


NO_PROGRESS = NoProgress()
