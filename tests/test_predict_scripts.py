"""The predict.py an export writes: each format's script with the shared module put in place of its
import, one file that runs on its own (here: its --help, which needs no model runtime)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from builder.export.formats import SHARED_SCRIPT, write_script

SCRIPTS = ("predict_keras.py", "predict_savedmodel.py", "predict_tflite.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_predict_py_is_one_file_that_runs_alone(script, tmp_path):
    path = write_script(tmp_path, script)
    text = path.read_text(encoding="utf-8")
    assert "import predict_images" not in text and "from predict_images" not in text
    assert f"# From {SHARED_SCRIPT}:" in text and "def load_pixels(" in text
    assert [p.name for p in tmp_path.iterdir()] == ["predict.py"]
    ran = subprocess.run(
        [sys.executable, str(path), "--help"], cwd=Path("/"), capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert "Classify images with the exported model." in ran.stdout and "--json" in ran.stdout
