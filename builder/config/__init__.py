"""The project file: its schema, loading, and error messages a non-programmer can act on.

`load_project` reports every problem of a project file in one `ConfigError`, one line per problem,
each `field.path: what is wrong (got X; expected Y)`. One job per module:

- `tables`, `project`: the schema, pydantic models only; `fields`: what a field says beyond its type
  (`Expect` for messages, `Page` for the page's controls). The base models' own tables (names, alphas,
  input sizes) are in `builder.models.catalog`.
- `types`: paths resolved against the project file, the logo, the Keras model, colours, origins.
- `rules`: checks that combine several keys, plain functions run on the data after pydantic's.
- `reader`: the one reader of the schema's annotations, for messages and the settings spec.
- `words`, `messages`: how values and problems are written; `loading`: file → `Project` or one error.
- `settings`: the page settings spec; `reference`: JSON Schema and the docs' reference
  (`python -m builder.config [FILE]`).

This package exports what the rest of teachkit reads; the tables and types are in their modules.
"""

from .loading import PROJECT_FILE_NAME, load_project, project_from_data
from .project import Project
from .reference import (
    REFERENCE_END,
    REFERENCE_START,
    project_json_schema,
    readme_reference,
    reference_markdown,
    update_readme_reference,
)
from .settings import settings_spec

__all__ = [
    "PROJECT_FILE_NAME",
    "REFERENCE_END",
    "REFERENCE_START",
    "Project",
    "load_project",
    "project_from_data",
    "project_json_schema",
    "readme_reference",
    "reference_markdown",
    "settings_spec",
    "update_readme_reference",
]
