"""Where an export goes: checked before anything is written, written next to the output directory
and moved into place at the end, so that a failed export leaves nothing behind and a second export
replaces the first one only once it is complete."""

from __future__ import annotations

import contextlib
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .. import __version__
from ..errors import TeachkitError

# Written into every export; an output directory holding one may be replaced by the next export.
MARKER = ".teachkit-export.json"


class ExportError(TeachkitError):
    """An export cannot be written: the head or the output location does not allow it."""


def check_output(output: Path, source: Path) -> None:
    """Refuses output locations where replacing the directory would destroy someone's files."""
    if source.resolve().is_relative_to(output.resolve()):
        raise ExportError(
            f"the output directory {output} contains the project file {source.name}; exporting there "
            "would delete it.\nHint: choose an output directory of its own, e.g. -o export."
        )
    if output.exists() and not output.is_dir():
        raise ExportError(f"the output path {output} exists and is not a directory; choose another one.")
    if output.is_dir() and any(output.iterdir()) and not (output / MARKER).is_file():
        raise ExportError(
            f"the output directory {output} holds files that teachkit export did not write (no {MARKER}); "
            "refusing to replace them.\nHint: choose an empty or new directory, or remove it yourself."
        )


def write_marker(staging: Path, format_name: str, source: Path) -> None:
    record = {"format": format_name, "source": source.name, "teachkit": __version__}
    (staging / MARKER).write_text(json.dumps(record, indent=2) + "\n")


@contextlib.contextmanager
def staged_output(output: Path) -> Iterator[Path]:
    """Yields an empty folder next to `output` to write into; moves it into place when the block
    ends without an error, else removes it (and any parent folders it had to create)."""
    output = output.resolve()
    created = [parent for parent in [output.parent, *output.parent.parents] if not parent.exists()]
    succeeded = False
    try:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.exporting-", dir=output.parent))
            # mkdtemp's folder is private (0700); the export inside it gets the usual permissions.
            folder = staging / "export"
            folder.mkdir()
        except OSError as error:
            raise ExportError(
                f"cannot write the output directory {output}: {error.strerror or error}.\n"
                "Hint: choose a directory you can write to with -o, or fix its permissions."
            ) from error
        try:
            yield folder
            _swap_into_place(folder, output)
            succeeded = True
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    finally:
        if not succeeded:
            for parent in created:  # deepest first
                with contextlib.suppress(OSError):
                    parent.rmdir()


def _swap_into_place(staging: Path, output: Path) -> None:
    from ..build import swap_into_place

    try:
        swap_into_place(staging, output)
    except OSError as error:
        raise ExportError(f"cannot replace {output}: {error.strerror or error}.") from error
