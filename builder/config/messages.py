"""Error text: every problem with a project file as `field.path: what is wrong (got X; expected Y)`.

pydantic's errors are put in words here, from their type and what the schema says at their path
(`Expect`, bounds, valid keys); the package's own problems (types and rules) arrive in words already.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from .fields import Expect
from .project import Project
from .reader import bounds, node, of_type, position, table_keys
from .types import COLOUR_PATTERN
from .words import ERROR, Problem, show


def problem_report(project_file: Any, lines: Sequence[str]) -> str:
    """The one message of a project file with problems: a headline, then one line per problem."""
    count = f"{len(lines)} problem" + ("" if len(lines) == 1 else "s")
    return "\n".join([f"{project_file}: {count} in the project file:", *("  " + line for line in lines)])


def problem_lines(
    errors: ValidationError | Iterable[Mapping[str, Any]], data: Any, found: Iterable[Problem] = ()
) -> list[str]:
    """pydantic's `errors` and the rules' problems `found` as lines, in schema order."""
    if isinstance(errors, ValidationError):
        errors = errors.errors()
    keyed = [(position(Project, error["loc"], data), _message(error)) for error in errors]
    keyed += [(position(Project, p.loc, data), _line(p.loc, p.what, p.got, p.expected)) for p in found]
    return [message for _, message in sorted(keyed, key=lambda pair: pair[0])]


def syntax_error(message: str) -> str:
    """tomllib's message in the words of the others: where, then what."""
    match = re.fullmatch(r"(?s)(.*) \(at line (\d+), column (\d+)\)", message)
    if match:
        reason, line, column = match.groups()
        return f"TOML syntax error at line {line}, column {column}: {reason}"
    match = re.fullmatch(r"(?s)(.*) \(at end of document\)", message)
    if match:
        return f"TOML syntax error at the end of the file: {match.group(1)}"
    return f"TOML syntax error: {message}"


def _loc_text(loc: Sequence[str | int]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(project)"


def _line(loc: Sequence[str | int], what: str, got: str, expected: str) -> str:
    return f"{_loc_text(loc)}: {what} (got {got}; expected {expected})"


_TYPE_WORDS = {
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be text in quotes",
    "list_type": "must be a list in square brackets",
    "model_type": "must be a table",
    "model_attributes_type": "must be a table",
    "dict_type": "must be a table",
    "path_type": "must be a path in quotes",
    "bool_type": "must be true or false",
}


def _message(error: Any) -> str:
    loc, kind, ctx, value = error["loc"], error["type"], error.get("ctx", {}), error["input"]
    where = _loc_text(loc)
    if kind == ERROR:
        return _line(loc, ctx["what"], ctx["got"], ctx["expected"])
    if kind == "extra_forbidden":
        return f"{where}: unknown key ({_suggest(loc)})"
    _, metadata = node(Project, loc)
    expects = [item.text for item in of_type(metadata, Expect)]
    expected = expects[0] if expects else "a valid value"
    got = "nothing" if kind == "missing" else show(value)
    if kind == "missing":
        what = "required"
    elif kind in _TYPE_WORDS:
        what = _TYPE_WORDS[kind]
        if kind in ("int_type", "float_type") and isinstance(value, str) and _is_number(value):
            what += ", without quotes"
        if kind in ("model_type", "dict_type"):
            expected = f"a [{_loc_text(loc)}] table"
    elif kind == "literal_error":
        what = "not one of the allowed values"
    elif kind == "string_pattern_mismatch":
        what = "not a CSS hex colour" if ctx.get("pattern") == COLOUR_PATTERN else "not in the expected form"
    elif kind in ("too_short", "string_too_short") and ctx.get("min_length") == 1:
        what = "must not be empty"
    elif kind == "too_short":
        what = f"needs at least {ctx['min_length']} {_noun(loc)}"
        got = str(ctx["actual_length"])
    elif kind == "too_long":
        what = f"has too many {_noun(loc)}, at most {ctx['max_length']}"
        got = str(ctx["actual_length"])
    elif kind == "string_too_short":
        what = f"too short, at least {ctx['min_length']} characters"
        got = f"{len(value.strip())} characters"
    elif kind == "string_too_long":
        what = f"too long, at most {ctx['max_length']} characters"
        got = f"{len(value.strip())} characters"
    elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        what = _range_words(metadata, ctx)
    else:  # a pydantic error this module does not expect; keep its own words
        what = error["msg"]
    return f"{where}: {what} (got {got}; expected {expected})"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _noun(loc: Sequence[str | int]) -> str:
    return "classes" if tuple(loc) == ("classes",) else "entries"


def _range_words(metadata: list[Any], ctx: dict[str, Any]) -> str:
    limits = bounds(metadata) or dict(ctx)
    lower = (
        f"at least {limits['ge']}"
        if "ge" in limits
        else f"more than {limits['gt']}"
        if "gt" in limits
        else ""
    )
    upper = (
        f"at most {limits['le']}" if "le" in limits else f"less than {limits['lt']}" if "lt" in limits else ""
    )
    if "ge" in limits and "le" in limits:
        return f"must be from {limits['ge']} to {limits['le']}"
    return "must be " + " and ".join(part for part in (lower, upper) if part)


def _suggest(loc: Sequence[str | int]) -> str:
    valid = table_keys(Project, loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), valid, n=1)
    if close:
        return f'did you mean "{close[0]}"?'
    return (
        "expected one of " + ", ".join(f'"{key}"' for key in valid)
        if valid
        else "not part of a teachkit project"
    )
