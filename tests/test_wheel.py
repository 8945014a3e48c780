"""An author with only Python: the wheel made from this checkout, installed into a fresh venv of the
supported range's newest Python, builds a working site with no Node.js, npm or npx on PATH and an empty
cache; the newest Python teachkit cannot run on is refused at install time."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from .support import core_flow as flow

REPO = Path(__file__).resolve().parent.parent
# npm packages that only the tests and the repository's tools use; none may ride in the wheel.
TEST_ONLY_PACKAGES = ("@teachablemachine", "ml5", "axe-core", "prettier", "patch-package", "tfjs-for-tm")


def python(version: str) -> Path:
    """An interpreter of `version` ("3.12"): one that pyenv installed, or one on PATH (pyenv's shims
    are on PATH too, and fail for a version that is not selected)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True)
    on_path = shutil.which(f"python{version}")
    for candidate in [*candidates, *([Path(on_path)] if on_path else [])]:
        if run(candidate, "-c", "import sys").returncode == 0:
            return candidate
    pytest.fail(f"Python {version} is needed for this test: install it (e.g. `pyenv install {version}`).")


def run(*args: object, **options) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, **options)


def fresh_venv(version: str, where: Path) -> Path:
    """A new venv with the newest pip and setuptools."""
    made = run(python(version), "-m", "venv", where)
    assert made.returncode == 0, made.stderr
    upgraded = run(where / "bin/python", "-m", "pip", "install", "-q", "--upgrade", "pip", "setuptools")
    assert upgraded.returncode == 0, upgraded.stderr
    return where / "bin/python"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    made = run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, REPO)
    assert made.returncode == 0, made.stderr
    (found,) = out.glob("teachkit-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """The venv's bin folder, teachkit installed from the wheel into Python 3.12."""
    venv = tmp_path_factory.mktemp("py312") / "venv"
    interpreter = fresh_venv("3.12", venv)
    result = run(interpreter, "-m", "pip", "install", "-q", wheel)
    assert result.returncode == 0, result.stderr
    return interpreter.parent


def test_the_wheel_carries_the_page_prebuilt_and_nothing_only_tests_use(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for bundle in ("app.js", "tfjs-worker.js", "sw.js", "litert-worker.js", "embed.js"):
        assert f"builder/js/bundles/{bundle}" in names
    assert "builder/js/tools/embed_node.mjs" in names and "builder/js/prebuilt.json" in names
    assert "builder/js/packages/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm" in names
    assert "builder/js/packages/@litertjs/core/wasm/litert_wasm_internal.wasm" in names
    assert "builder/js/packages/chart.js/LICENSE.md" in names  # licence texts for NOTICE.txt
    assert not [name for name in names if any(package in name for package in TEST_ONLY_PACKAGES)]
    assert not [name for name in names if "node_modules" in name or "/templates/app/" in name]


def test_python_only_author_builds_a_working_site(installed, tmp_path, browser, serve_site, texture_files):
    """Python 3.12 with the newest setuptools (no pkg_resources any more: teachkit asks for an older
    one, for TensorBoard's sake, but an upgrade or another package may bring it), no node, npm or npx."""
    upgraded = run(installed / "python", "-m", "pip", "install", "-q", "--upgrade", "setuptools")
    assert upgraded.returncode == 0, upgraded.stderr
    assert run(installed / "python", "-c", "import pkg_resources").returncode != 0
    home = tmp_path / "home"
    home.mkdir()
    env = {"PATH": str(installed), "HOME": str(home), "LANG": "C.UTF-8"}
    assert not [name for name in ("node", "npm", "npx") if shutil.which(name, path=env["PATH"])]

    init = run(installed / "teachkit", "init", "demo", cwd=tmp_path, env=env)
    assert init.returncode == 0, init.stderr
    project = tmp_path / "demo/project.toml"
    # The author names the classes the visitor will teach.
    text, count = re.subn(
        r"(?m)^classes = .*$", 'classes = ["Brick", "Grass", "Gravel"]', project.read_text()
    )
    assert count == 1
    project.write_text(text)
    build = run(installed / "teachkit", "build", "demo/project.toml", "-o", "site", cwd=tmp_path, env=env)
    assert build.returncode == 0, build.stderr
    assert "Traceback" not in build.stderr + build.stdout
    assert "conversion done now" in build.stdout  # the cache (under HOME) started empty
    assert not list(tmp_path.rglob("node_modules")), "a build from the wheel must not install npm packages"

    context = browser.new_context()
    try:
        session = flow.open_session(context, serve_site(tmp_path / "site").url)
        flow.upload_photos(session, texture_files)
        flow.train_model(session)
        flow.predict_held_out(session, texture_files)
    finally:
        context.close()


def test_python_313_is_refused_at_install_time_with_the_supported_range(wheel, tmp_path):
    interpreter = fresh_venv("3.13", tmp_path / "venv")
    result = run(interpreter, "-m", "pip", "install", wheel)
    assert result.returncode != 0
    assert "requires a different Python: 3.13" in result.stderr and "<3.13,>=3.10" in result.stderr
    assert run(interpreter, "-m", "pip", "show", "teachkit").returncode != 0


@pytest.mark.convert  # converts the base model inside the fresh venv
def test_python_310_the_oldest_supported_installs_and_builds(wheel, tmp_path, model_cache):
    """The supported range's other end (3.11 runs the rest of the suite): installed from the wheel,
    `teachkit init` and `teachkit build` work; the base model comes from the session's cache."""
    interpreter = fresh_venv("3.10", tmp_path / "venv")
    result = run(interpreter, "-m", "pip", "install", "-q", wheel)
    assert result.returncode == 0, result.stderr
    env = {"PATH": str(interpreter.parent), "HOME": str(tmp_path), "TEACHKIT_CACHE": str(model_cache)}
    assert run(interpreter.parent / "teachkit", "init", "demo", cwd=tmp_path, env=env).returncode == 0
    build = run(
        interpreter.parent / "teachkit", "build", "demo/project.toml", "-o", "site", cwd=tmp_path, env=env
    )
    assert build.returncode == 0, build.stderr
    assert (tmp_path / "site/index.html").is_file() and (tmp_path / "site/app.js").is_file()
