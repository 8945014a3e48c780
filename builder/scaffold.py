"""`teachkit init`: write a commented example project to start from."""

from pathlib import Path

import builder

from .config import PROJECT_FILE_NAME
from .errors import ConfigError


def templates_dir() -> Path:
    """The `templates/` folder: inside the package when installed, beside it in a source checkout."""
    package = Path(builder.__file__).parent
    installed = package / "templates"
    return installed if installed.is_dir() else package.parent / "templates"


def write_example_project(directory: Path) -> Path:
    """Write the example project file into `directory` (created if needed) and return its path.

    Refuses to overwrite an existing project file.
    """
    directory = Path(directory)
    target = directory / PROJECT_FILE_NAME
    if target.exists():
        raise ConfigError(
            f"{target}: already exists (expected a folder without a project file; "
            "pick another folder, or delete or rename the file first)"
        )
    if directory.exists() and not directory.is_dir():
        raise ConfigError(f"{directory}: is a file (expected a folder to put {PROJECT_FILE_NAME} in)")
    directory.mkdir(parents=True, exist_ok=True)
    text = (templates_dir() / "project" / PROJECT_FILE_NAME).read_text(encoding="utf-8")
    with target.open("x", encoding="utf-8") as file:  # "x": never overwrite, even in a race
        file.write(text)
    return target
