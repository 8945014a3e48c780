"""Values at and around the edges of every setting the page offers, and Python's verdict on each.

A browser test feeds the same values to the page's own checks: the page and the project file must
agree on every one of them. The cases are derived from `settings_spec()`, so a changed bound moves
its cases along.
"""

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from builder.config import Project, settings_spec


def _nudge(bound: float) -> float:
    # Relative for large bounds, absolute near zero; 1e-6 is far above the float spacing of any bound.
    return 1e-6 * max(1.0, abs(bound))


def _around(setting: dict[str, Any]) -> list[Any]:
    """Each bound exactly, just inside and just outside."""
    values: list[Any] = []
    for bound, inward in ((setting["min"], 1), (setting["max"], -1)):
        if bound is None:
            continue
        step = 1 if setting["kind"] in ("integer", "integer_list") else _nudge(bound)
        values += [bound, bound + inward * step, bound - inward * step]
    return values


def boundary_cases() -> list[tuple[str, str, Any]]:
    """(section, key, value) for every setting of `settings_spec()`, at and around its edges."""
    cases: list[tuple[str, str, Any]] = []
    for setting in settings_spec():
        kind = setting["kind"]
        if kind == "choice":
            values: list[Any] = [choice["value"] for choice in setting["choices"]]
            values.append(values[0].upper())  # a near miss: choices are matched exactly
        elif kind == "integer_list":
            values = [[item] for item in _around(setting)]
            values += [[0], [2.5], [], [setting["default"][0]] * setting["max_items"]]
            values.append([setting["default"][0]] * (setting["max_items"] + 1))
        else:
            values = _around(setting)
            if kind == "integer":
                values.append(2.5)
        unique = [value for index, value in enumerate(values) if value not in values[:index]]
        cases += [(setting["section"], setting["key"], value) for value in unique]
    return cases


def python_verdict(section: str, key: str, value: Any) -> bool:
    """Whether a project file of classes (the page the browser test opens) accepts `value` as
    `key` of the `[section]` table: head.type = "regression" needs a project without classes."""
    raw = {"classes": ["cats", "dogs"], section: {key: value}}
    try:
        Project.model_validate(raw, context={"project_file": Path("/nonexistent/project.toml")})
    except ValidationError:
        return False
    return True
