"""What the schema says about a field beyond its type, read by the messages and the page's settings."""

from __future__ import annotations

from typing import Literal, NamedTuple


class Expect(NamedTuple):
    """Field metadata: what a valid value looks like, for the `expected …` part of messages."""

    text: str


class Page(NamedTuple):
    """Field metadata: how the page shows a setting as a control (see `settings_spec`).

    The bounds are not repeated here: the page gets them from the field's own constraints.
    """

    label: str
    step: float | str = 1  # the input's step; "any" for a number without a natural step
    # The head type the setting applies to ("dense" includes the network of a regression head); None: all.
    head: Literal["dense", "knn"] | None = None
    choices: dict[str, str] | None = None  # labels of a Literal's values; missing ones show the value
