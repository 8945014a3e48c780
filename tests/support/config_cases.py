"""The exact-message cases of tests/test_config*.py: what a malformed project file must be told, and the
check every case runs (the loader's message, and the same through `teachkit build`)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from builder.cli import main
from builder.config import load_project
from builder.errors import ConfigError

TWO = 'classes = ["cats", "dogs"]\n'


def image_bytes(format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 4), (200, 40, 40)).save(buffer, format=format)
    return buffer.getvalue()


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="4"><rect width="8" height="4"/></svg>'


def problems(*lines: str) -> list[str]:
    """The expected message of a ConfigError listing `lines` (FILE stands for the project file)."""
    count = f"{len(lines)} problem" + ("" if len(lines) == 1 else "s")
    return [f"FILE: {count} in the project file:", *("  " + line for line in lines)]


def check_malformed(tmp_path: Path, text: str | bytes | None, files: dict, expected: list[str]) -> None:
    """Each case: project.toml text (str or bytes; None for no file), other files, expected message
    lines. FILE is replaced by the project file's path, DIR by the resolved project folder."""
    project_file = tmp_path / "project.toml"
    if text is not None:
        project_file.write_bytes(text if isinstance(text, bytes) else text.encode())
    for name, content in files.items():
        if isinstance(content, bytes):
            (tmp_path / name).write_bytes(content)
        else:
            (tmp_path / name).write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_project(project_file)
    substitute = {"FILE": str(project_file), "DIR": str(tmp_path.resolve())}
    wanted = []
    for line in expected:
        for placeholder, value in substitute.items():
            line = line.replace(placeholder, value)
        wanted.append(line)
    assert str(caught.value).splitlines() == wanted

    # The same through the command line: the message, exit code 1, and the previous site untouched.
    output = tmp_path / "site"
    output.mkdir()
    (output / "manifest.json").write_text('{"previous": "build"}')
    result = CliRunner().invoke(main, ["build", str(project_file), "-o", str(output)])
    assert result.exit_code == 1, result.output
    assert result.output == "error: " + "\n".join(wanted) + "\n"
    assert [(f.name, f.read_text()) for f in output.iterdir()] == [("manifest.json", '{"previous": "build"}')]
