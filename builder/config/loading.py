"""Loading a project file: read it, parse its TOML, check it, and report every problem at once.

Relative paths are resolved against the folder of the project file, never the current directory.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import ConfigError
from . import rules
from .messages import problem_lines, problem_report, syntax_error
from .project import CALLER_RUNS_RULES, Project

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 needs the backport
    import tomli as tomllib

PROJECT_FILE_NAME = "project.toml"


def load_project(path: Path) -> Project:
    """Read, validate and return the project file at `path`; any problem raises one ConfigError."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # -sig: Windows editors may add a BOM
    except FileNotFoundError:
        parent = path.parent if str(path.parent) else Path(".")
        raise ConfigError(
            f"{path}: file not found "
            f"(expected a teachkit project file; create one with: teachkit init {parent})"
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            f"{path}: is a folder (expected a teachkit project file, like {path / PROJECT_FILE_NAME})"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not a text file (got a byte that is not UTF-8 at position {exc.start}; "
            "expected a project file saved as UTF-8 text)"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {syntax_error(str(exc))}") from None
    return project_from_data(data, path)


def project_from_data(data: dict[str, Any], project_file: Path) -> Project:
    """Validate already parsed project data as if read from `project_file` (paths resolve beside it).

    pydantic checks each key, then the cross-field rules run on the data as written, whatever
    pydantic found, so that one message names every problem.
    """
    context = {"project_file": Path(project_file), CALLER_RUNS_RULES: True}
    project, errors = None, []
    try:
        project = Project.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors()
    found = rules.problems(data, errors)
    if project is not None and not found:
        return project
    raise ConfigError(problem_report(project_file, problem_lines(errors, data, found)))
