"""The project file's top level: its own keys, its tables, and what the page needs from it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_validator,
)

from . import rules
from .fields import Expect
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
    Table,
    ThemeSection,
    TrainingSection,
)
from .types import CLASS_LIST_EXAMPLE, ClassName

# A validation context key: the caller runs the cross-field rules itself (see `Project._follow_rules`).
CALLER_RUNS_RULES = "caller_runs_rules"


def _table(cls: type[Table]) -> Any:
    # Validate the default ({}) too, so that paths in an absent table are resolved as well.
    return Field(default_factory=dict, validate_default=True, description=cls.__doc__)


class Project(Table):
    """A teachkit project: what the page teaches and how it is built."""

    title: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=80),
        Expect('a short title like "Leaves of Kew"'),
    ] = Field("My image classifier", description="Page title and heading.")
    description: Annotated[str, Expect('a text like "Sorts leaves by tree"')] = Field(
        "", description="One sentence about the classifier, for the page's metadata and the model file."
    )
    # Required, at least two, unless the head predicts a number (checked in `rules`).
    classes: Annotated[list[ClassName], Expect(CLASS_LIST_EXAMPLE)] = Field(
        default_factory=list,
        max_length=20,
        description="Names of the classes the visitor teaches, 2 to 20, each different (ignoring case); "
        'none with head.type = "regression".',
        json_schema_extra={"uniqueItems": True},
    )
    model: ModelSection = _table(ModelSection)
    head: HeadSection = _table(HeadSection)
    regression: RegressionSection = _table(RegressionSection)
    training: TrainingSection = _table(TrainingSection)
    capture: CaptureSection = _table(CaptureSection)
    theme: ThemeSection = _table(ThemeSection)
    page: PageSection = _table(PageSection)
    embed: EmbedSection = _table(EmbedSection)
    cloud: CloudSection = _table(CloudSection)
    output: OutputSection = _table(OutputSection)

    _project_file: Path | None = PrivateAttr(None)

    @model_validator(mode="wrap")
    @classmethod
    def _follow_rules(cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        """A project breaking a cross-field rule is refused too, once each key is valid.

        pydantic's own errors pass through untouched. `load_project` runs the rules itself instead,
        to report their problems beside pydantic's even when some key is wrong.
        """
        project = handler(data)
        if not (info.context or {}).get(CALLER_RUNS_RULES):
            found = rules.problems(data)
            if found:
                raise ValidationError.from_exception_data(
                    cls.__name__, [problem.error() for problem in found]
                )
        return project

    @property
    def is_regression(self) -> bool:
        """Whether the head predicts a number rather than a class."""
        return self.head.type == "regression"

    @model_validator(mode="after")
    def _remember_file(self, info: ValidationInfo) -> Project:
        project_file = (info.context or {}).get("project_file")
        if project_file is not None:
            self._project_file = Path(project_file).resolve()
        return self

    @property
    def project_file(self) -> Path:
        """Absolute path of the project file this project was loaded from."""
        if self._project_file is None:
            raise AttributeError("this Project was not loaded from a file (use load_project)")
        return self._project_file

    @property
    def project_dir(self) -> Path:
        """Absolute path of the folder holding the project file; relative paths start here."""
        return self.project_file.parent

    def page_config(self) -> dict[str, Any]:
        """What the browser page needs from the project, as JSON-ready data (no file paths)."""
        return {
            "title": self.title,
            "description": self.description,
            # A regression page keeps its samples in one group, named after the number.
            "classes": [self.regression.label] if self.is_regression else list(self.classes),
            "regression": self.regression.model_dump(mode="json") if self.is_regression else None,
            "head": self.head.model_dump(mode="json"),
            "training": self.training.model_dump(mode="json"),
            "capture": self.capture.model_dump(mode="json"),
            "theme": self.theme.model_dump(
                mode="json", include={"primary_color", "background_color", "text_color", "intro", "footer"}
            ),
            "page": self.page.model_dump(mode="json"),
            "embed": self.embed.model_dump(mode="json"),
            "cloud": self.cloud.model_dump(mode="json"),
            "settings": settings_spec(),
        }
