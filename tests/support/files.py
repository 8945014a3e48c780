"""Fixture files: folders nothing may write to, zip bombs."""

from __future__ import annotations

import contextlib
import os
import subprocess
import zipfile
from pathlib import Path


@contextlib.contextmanager
def unwritable(directory: Path):
    """Makes a directory unwritable even for root (immutable flag), or by permissions otherwise."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(directory)], check=True)
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
    else:
        mode = directory.stat().st_mode
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(mode)


def project_zip_bomb(directory: Path) -> Path:
    """1.5 GB of zeros as the embeddings, deflated to about 1.5 MB (streamed: never in memory)."""
    path = directory / "bomb.zip"
    chunk = bytes(64 * 1024**2)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("teachkit-project.json", b'{"format": "teachkit-project", "version": 1}')
        with archive.open("embeddings.f32", "w", force_zip64=True) as entry:
            for _ in range(24):
                entry.write(chunk)
    assert path.stat().st_size < 3 * 1024**2
    return path
