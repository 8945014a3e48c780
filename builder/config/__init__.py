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
"""

from ..models.catalog import (
    ALPHAS,
    BASE_MODELS,
    DEFAULT_BASE,
    FIXED_WEIGHTS,
    INPUT_SIZES,
    KERAS_MODEL_SUFFIXES,
    BaseName,
)
from .fields import Expect, Page
from .loading import PROJECT_FILE_NAME, load_project, project_from_data
from .messages import problem_lines
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
from .tables import (
    CaptureSection,
    CloudSection,
    EmbedSection,
    HeadSection,
    ModelSection,
    OutputSection,
    PageSection,
    RegressionSection,
    ThemeSection,
    TrainingSection,
)
from .types import (
    CLOUD_EXAMPLE,
    COLOUR_PATTERN,
    DEFAULT_PORTS,
    IMAGE_SUFFIXES,
    ORIGIN_EXAMPLE,
    RASTER_FORMATS,
    SVG_NAMESPACE,
    ClassName,
    Colour,
    FolderPath,
    KerasModelPath,
    LogoPath,
    Origin,
)

__all__ = [
    "ALPHAS",
    "BASE_MODELS",
    "CLOUD_EXAMPLE",
    "COLOUR_PATTERN",
    "DEFAULT_BASE",
    "DEFAULT_PORTS",
    "FIXED_WEIGHTS",
    "IMAGE_SUFFIXES",
    "INPUT_SIZES",
    "KERAS_MODEL_SUFFIXES",
    "ORIGIN_EXAMPLE",
    "PROJECT_FILE_NAME",
    "RASTER_FORMATS",
    "REFERENCE_END",
    "REFERENCE_START",
    "SVG_NAMESPACE",
    "BaseName",
    "CaptureSection",
    "ClassName",
    "CloudSection",
    "Colour",
    "EmbedSection",
    "Expect",
    "FolderPath",
    "HeadSection",
    "KerasModelPath",
    "LogoPath",
    "ModelSection",
    "Origin",
    "OutputSection",
    "Page",
    "PageSection",
    "Project",
    "RegressionSection",
    "ThemeSection",
    "TrainingSection",
    "load_project",
    "problem_lines",
    "project_from_data",
    "project_json_schema",
    "readme_reference",
    "reference_markdown",
    "settings_spec",
    "update_readme_reference",
]
