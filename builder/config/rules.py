"""Rules that combine several keys of the project file, as plain functions of the data as written.

They run after pydantic has checked each key, on the raw TOML data, so they still run when other keys
are wrong and `load_project` reports every problem in one pass. `failed` holds the keys pydantic
already refused, which a rule then leaves alone. A rule returns its problems; it never raises.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic_core import PydanticCustomError

from ..models.catalog import ALPHAS, DEFAULT_BASE, FIXED_WEIGHTS, INPUT_SIZES
from .types import CLASS_LIST_EXAMPLE, check_origin
from .words import Problem, one_of, show

Raw = dict[str, Any]  # a table as the TOML parser returned it


def problems(data: Any, errors: Sequence[Mapping[str, Any]] = ()) -> list[Problem]:
    """Every rule's problems with a project's raw `data`, given pydantic's `errors` for it."""
    if not isinstance(data, dict):
        return []
    locs = [tuple(error["loc"]) for error in errors]
    found: list[Problem] = []
    for name, rule in TABLE_RULES.items():
        table = data.get(name, {})  # an absent table is an empty one
        if isinstance(table, dict):
            failed = {str(loc[1]) for loc in locs if len(loc) > 1 and loc[0] == name}
            found += [problem.at(name) for problem in rule(table, failed)]
    failed = {str(loc[0]) for loc in locs if loc}
    return found + project_rules(data, failed)


def _given(table: Raw, key: str, what: str, expected: str) -> Problem:
    """A problem with `key` of `table`, showing what the author wrote there ("nothing" if absent)."""
    return Problem((key,), what, show(table[key]) if key in table else "nothing", expected, table.get(key))


def model_rules(table: Raw, failed: set[str]) -> list[Problem]:
    """A base model or the author's own (model.path), each with only the keys that apply to it."""
    found: list[Problem] = []
    custom = "path" in table
    base = None if "base" in failed or custom else table.get("base", DEFAULT_BASE)
    given = {key for key in table if key not in failed}
    if custom and "base" in table:
        what = "cannot be used together with model.path"
        found.append(
            _given(table, "base", what, "either a base model or your own model in model.path, not both")
        )
    if custom and "cut_layer" not in table:
        what = "required when model.path is set"
        found.append(_given(table, "cut_layer", what, "the name of the layer whose output is the embedding"))
    for key in ("cut_layer", "input_range"):
        if not custom and key in table:
            what = "only used with your own model in model.path"
            found.append(_given(table, key, what, f"no {key} for a base model"))
    if "alpha" in given and custom:
        found.append(_given(table, "alpha", "only used with a base model", "no alpha with model.path"))
    elif "alpha" in given and base is not None and base not in ALPHAS:
        expected = "no alpha, or a base that has one: " + ", ".join(ALPHAS)
        found.append(_given(table, "alpha", f"{base} has no alpha setting", expected))
    elif "alpha" in given and base is not None and table["alpha"] not in ALPHAS[base]:
        found.append(_given(table, "alpha", f"not offered for {base}", one_of(ALPHAS[base])))
    if "input_size" in given and base is not None and table["input_size"] not in INPUT_SIZES[base]:
        found.append(_given(table, "input_size", f"not offered for {base}", one_of(INPUT_SIZES[base])))
    if "weights" in given and table["weights"] != "imagenet":
        if custom:
            expected = "no weights key: your own model file holds its weights"
            found.append(_given(table, "weights", "not used with model.path", expected))
        elif base in FIXED_WEIGHTS:
            expected = '"imagenet" or no weights key, or a Keras base model'
            found.append(_given(table, "weights", f"{base} comes with its own weights", expected))
    return found


def regression_rules(table: Raw, failed: set[str]) -> list[Problem]:
    """The slider's range is not empty."""
    low, high = table.get("min", 0.0), table.get("max", 100.0)
    if {"min", "max"} & failed or not all(isinstance(value, (int, float)) for value in (low, high)):
        return []
    if low < high:
        return []
    return [Problem(("max",), "must be above min", show(high), f"a number above {show(low)}", high)]


def embed_rules(table: Raw, failed: set[str]) -> list[Problem]:
    """Each allowed origin is listed once."""
    origins = table.get("allowed_origins")
    if not isinstance(origins, list):
        return []
    found: list[Problem] = []
    seen: set[str] = set()
    for index, origin in enumerate(origins):
        if not isinstance(origin, str):
            continue  # reported by the item check, as are the origins refused below
        try:
            check_origin(origin)
        except PydanticCustomError:
            continue
        if origin in seen:
            what, expected = "duplicate origin", "every origin to be different"
            found.append(Problem(("allowed_origins", index), what, show(origin), expected, origin))
        seen.add(origin)
    return found


TABLE_RULES: dict[str, Callable[[Raw, set[str]], list[Problem]]] = {
    "model": model_rules,
    "regression": regression_rules,
    "embed": embed_rules,
}


def project_rules(data: Raw, failed: set[str]) -> list[Problem]:
    """The classes fit the head, and no two classes share a name (ignoring case)."""
    head = data.get("head")
    regression = isinstance(head, dict) and head.get("type") == "regression"
    found = _task_problems(data, failed, regression)
    classes = data.get("classes")
    if not isinstance(classes, list):
        return found
    seen: set[str] = set()
    for index, name in enumerate(classes):
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= 40:
            continue  # reported by the item check
        key = name.strip().casefold()
        if key in seen:
            what, expected = "duplicate class name", "every name to be different"
            found.append(Problem(("classes", index), what, show(name), expected, name))
        seen.add(key)
    return found


def _task_problems(data: Raw, failed: set[str], regression: bool) -> list[Problem]:
    """A classifier needs two classes or more; a regression head predicts a number, so it has none."""
    classes = data.get("classes")
    if regression:
        if "classes" not in data:
            return []
        what = 'not used with head.type = "regression", which predicts a number'
        expected = "no classes: [regression] label names the number"
        return [Problem(("classes",), what, show(classes), expected, classes)]
    found: list[Problem] = []
    if "regression" in data:
        what = 'only used with head.type = "regression"'
        expected = 'head.type = "regression", or no [regression] table'
        found.append(Problem(("regression",), what, "a table", expected))
    if "classes" not in data:
        found.append(Problem(("classes",), "required", "nothing", CLASS_LIST_EXAMPLE, data))
    elif isinstance(classes, list) and len(classes) < 2 and "classes" not in failed:
        what = "needs at least 2 classes"
        found.append(Problem(("classes",), what, str(len(classes)), CLASS_LIST_EXAMPLE, classes))
    return found
