"""How values and problems are written: the parts every message about a project file is made of."""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from pydantic_core import InitErrorDetails, PydanticCustomError

ERROR = "teachkit"  # the pydantic error type of every message this package writes itself


def show(value: Any) -> str:
    """A value as the author wrote it in TOML, shortened if long."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, Path):
        text = json.dumps(str(value), ensure_ascii=False)
    elif isinstance(value, (int, float)):
        text = repr(value)
    elif isinstance(value, (datetime.date, datetime.time)):
        text = value.isoformat()
    elif isinstance(value, dict):
        return "a table"
    elif isinstance(value, (list, tuple)):
        text = "[" + ", ".join(show(item) for item in value) + "]"
    else:
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def one_of(values: Sequence[Any]) -> str:
    if len(values) == 1:
        return show(values[0])
    return "one of " + ", ".join(show(value) for value in values)


def problem(what: str, got: str, expected: str) -> PydanticCustomError:
    """What a field's validator raises: three parts already in human words; `got` is shown as is."""
    return PydanticCustomError(ERROR, "{what}", {"what": what, "got": got, "expected": expected})


class Problem(NamedTuple):
    """A problem a cross-field rule found, at `loc` (the keys leading to it in the project file)."""

    loc: tuple[str | int, ...]
    what: str
    got: str
    expected: str
    input: Any = None

    def at(self, *table: str | int) -> Problem:
        """The same problem, its location taken from inside `table`."""
        return self._replace(loc=(*table, *self.loc))

    def error(self) -> InitErrorDetails:
        """As pydantic reports it, for a ValidationError."""
        return {"type": problem(self.what, self.got, self.expected), "loc": self.loc, "input": self.input}
