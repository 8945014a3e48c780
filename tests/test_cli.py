"""The command line: help, init → build, -v/-q anywhere, progress, serve's MIME types, headers,
request log and project folders, config errors at the edge, and a build from an installed wheel
outside the repository."""

from __future__ import annotations

import io
import json
import selectors
import signal
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest
from rich.console import Console

from builder.errors import BuildError
from builder.serve import Site, find_site
from builder.sizes import first_visit
from builder.terminal import BarProgress, LineProgress, SilentProgress, Verbosity, make_console, progress_for

from .support.site import LITE0_PROJECT, run_cli, write_project

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("command", [[], ["init"], ["build"], ["deploy"], ["serve"], ["schema"]])
def test_every_command_has_help(command):
    result = run_cli(*command, "--help")
    assert result.exit_code == 0
    assert "Usage: " in result.output
    assert "--help" in result.output
    assert "-v, --verbose" in result.output and "-q, --quiet" in result.output, result.output


def test_usage_error_exits_2():
    result = run_cli("build")
    assert result.exit_code == 2
    assert "Missing argument 'PROJECT_FILE'" in result.output


def test_config_error_reaches_the_user_without_traceback(tmp_path):
    project = tmp_path / "project.toml"
    project.write_text('classes = ["only one"]\n[training]\nlearnig_rate = 0.1\n')
    output = tmp_path / "dist"
    output.mkdir()
    (output / "manifest.json").write_text("{}")
    result = run_cli("build", project)
    assert result.exit_code == 1
    assert result.output == (
        f"error: {project}: 2 problems in the project file:\n"
        '  classes: needs at least 2 classes (got 1; expected a list like ["cats", "dogs"])\n'
        '  training.learnig_rate: unknown key (did you mean "learning_rate"?)\n'
    )
    assert [p.name for p in output.iterdir()] == ["manifest.json"]


def test_init_writes_a_project_that_builds(tmp_path, lite0_sites):
    lite0_sites("auto")  # the example uses Lite0 with auto quantization: converted once per session
    result = run_cli("init", tmp_path / "demo")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "demo" / "project.toml").exists()
    built = run_cli("build", tmp_path / "demo" / "project.toml")
    assert built.exit_code == 0, built.output
    summary, preview = built.output.strip().splitlines()[-2:]
    assert summary.startswith(f"Built {tmp_path / 'demo' / 'dist'} in ")
    assert "conversion from cache." in summary
    # What a first hosted visit transfers: the files the service worker keeps up front.
    visit = first_visit(tmp_path / "demo" / "dist")
    assert f"MB in all, a first visit transfers {visit.describe()}, model " in summary
    assert 0 < visit.gzip_bytes < visit.raw_bytes
    assert preview == f"Preview: teachkit serve {tmp_path / 'demo' / 'dist'}"
    assert "warning" not in built.output  # the example's colours pass WCAG AA
    assert (tmp_path / "demo" / "dist" / "index.html").exists()
    again = run_cli("init", tmp_path / "demo")
    assert again.exit_code == 1
    assert "project.toml" in again.output


def test_schema_command_writes_json_schema(tmp_path):
    result = run_cli("schema", "-o", tmp_path / "schema.json")
    assert result.exit_code == 0
    schema = json.loads((tmp_path / "schema.json").read_text())
    assert {"classes", "model", "head", "training", "theme", "output"} <= set(schema["properties"])


def fetch(url: str) -> tuple[int, object, bytes]:
    # A fresh opener: urllib's global one keeps whatever proxy settings it first saw.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url) as response:
        return response.status, response.headers, response.read()


@pytest.mark.parametrize("isolated", [False, True])
def test_serve_sends_right_types_and_optional_isolation(lite0_sites, serve_site, isolated):
    site = lite0_sites("auto")
    server = serve_site(site, isolated=isolated)
    expected = {
        "wasm/tfjs-backend-wasm-simd.wasm": "application/wasm",
        "model/model.json": "application/json",
        "index.html": "text/html; charset=utf-8",
        "app.js": "text/javascript",
    }
    shard = next((site / "model").glob("*.bin")).name
    expected[f"model/{shard}"] = "application/octet-stream"
    for path, content_type in expected.items():
        status, headers, body = fetch(server.url + path)
        assert status == 200
        assert headers["Content-Type"] == content_type, path
        assert body == (site / path).read_bytes()
        if isolated:
            assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
            assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
        else:
            assert "Cross-Origin-Opener-Policy" not in headers


def test_serve_refuses_a_directory_without_a_site(tmp_path):
    result = run_cli("serve", tmp_path)
    assert result.exit_code == 1
    assert f"error: {tmp_path} has no index.html; build a site first" in result.output


# ------------------------------------------------------------------------------- verbosity, progress


@pytest.fixture
def cached_project(tmp_path, lite0_sites) -> Path:
    """A Lite0 project whose conversion is in the session's cache: builds in a second or two."""
    lite0_sites("auto")
    return write_project(tmp_path / "p", LITE0_PROJECT.format(quantization="auto"))


@pytest.mark.parametrize(
    "args",
    [["-v", "build", "PROJECT"], ["build", "PROJECT", "-v"], ["build", "-v", "PROJECT"]],
    ids=["before", "after", "between"],
)
def test_verbose_before_or_after_the_command(cached_project, args):
    result = run_cli(*[cached_project if arg == "PROJECT" else arg for arg in args])
    assert result.exit_code == 0, result.output
    assert "using the converted model from the cache (" in result.output, result.output


@pytest.mark.parametrize(
    "args", [["-q", "build", "PROJECT"], ["build", "PROJECT", "-q"]], ids=["before", "after"]
)
def test_quiet_before_or_after_the_command_leaves_only_the_summary(cached_project, args):
    result = run_cli(*[cached_project if arg == "PROJECT" else arg for arg in args])
    assert result.exit_code == 0, result.output
    built, preview = result.output.splitlines()
    assert built.startswith("Built ") and preview.startswith("Preview: teachkit serve "), result.output


def test_default_build_shows_its_steps_as_lines_when_not_a_terminal(cached_project):
    result = run_cli("build", cached_project)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    steps, built = lines[:-2], lines[-2]
    # The conversion came from the cache (the page's bundles too, unless this is the cache's first build).
    assert steps in (["Writing the site"], ["Bundling the page", "Writing the site"]), result.output
    assert built.startswith("Built "), result.output


def test_every_command_takes_verbosity_after_its_name(tmp_path):
    assert run_cli("init", tmp_path / "demo", "-q").exit_code == 0
    result = run_cli("schema", "-o", tmp_path / "schema.json", "-v")
    assert result.exit_code == 0, result.output
    assert run_cli("serve", tmp_path, "-v").exit_code == 1  # parsed; fails only for want of a site


def terminal_console() -> tuple[Console, io.StringIO]:
    stream = io.StringIO()
    return Console(file=stream, force_terminal=True, width=100, color_system=None), stream


def test_progress_bars_on_a_terminal_end_at_100_percent():
    console, stream = terminal_console()
    with progress_for(Verbosity(), console) as progress:
        assert isinstance(progress, BarProgress)
        progress.start("Converting the base model", 4)
        progress.advance(2)
        progress.start("Measuring weight encodings", 7)  # ends the step before it
        progress.advance(3)  # and this one is complete when the build is
    final = stream.getvalue().rsplit("\x1b[2K", 1)[-1]  # rich clears the lines before each frame
    screen = stream.getvalue()
    assert "Measuring weight encodings" in final and "100%" in final, repr(final)
    converting = [line for line in screen.splitlines() if "Converting the base model" in line]
    assert converting and "100%" in converting[-1], repr(screen)


def test_progress_is_lines_without_a_terminal_or_with_v_and_nothing_with_q():
    console, _ = terminal_console()
    with progress_for(Verbosity(verbose=1), console) as progress:
        assert isinstance(progress, LineProgress)  # TensorFlow's own lines would tear a bar apart
    with progress_for(Verbosity(quiet=True), console) as progress:
        assert isinstance(progress, SilentProgress)
    stream = io.StringIO()
    with progress_for(Verbosity(), make_console(stream)) as progress:
        assert isinstance(progress, LineProgress)
        progress.start("Converting the base model", 4)
        progress.advance()
        progress.start("Bundling the page", 5)
    assert stream.getvalue() == "Converting the base model\nBundling the page\n"


HIDE_NATIVE = textwrap.dedent(
    """
    import os, sys
    from builder.errors import BuildError
    from builder.terminal import native_stderr_hidden

    with native_stderr_hidden(True) as terminal:
        os.write(2, b"native noise\\n")  # as TensorFlow's C++ log does
        print("a Python warning", file=sys.stderr)
        terminal.write("own output\\n")
        if sys.argv[1] == "crash":
            raise RuntimeError("boom")
        if sys.argv[1] == "error":
            raise BuildError("a clear message")
    """
)


@pytest.mark.parametrize("outcome", ["success", "error", "crash"])
def test_native_stderr_is_hidden_and_shown_only_after_a_crash(outcome):
    done = subprocess.run(
        [sys.executable, "-c", HIDE_NATIVE, outcome], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert "own output" in done.stderr
    if outcome == "success":
        assert done.returncode == 0 and done.stderr == "own output\n"
    elif outcome == "error":  # teachkit's own message says what to do; the noise would mislead
        assert "native noise" not in done.stderr and "a Python warning" not in done.stderr
        assert "BuildError: a clear message" in done.stderr
    else:
        assert "native noise\na Python warning\n" in done.stderr and "RuntimeError: boom" in done.stderr


# --------------------------------------------------------------------------------------------- serve


def sigint_stops_it() -> None:
    # A suite started in the background (nohup, `&` in a script) ignores SIGINT, and a child
    # inherits that: the Ctrl+C that stop() sends would never reach `teachkit serve`.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def serve_in_subprocess(*args: object) -> tuple[subprocess.Popen, str]:
    """Starts `teachkit serve ARGS --port 0`; returns the process and the URL it announced."""
    process = subprocess.Popen(
        [sys.executable, "-m", "builder.cli", "serve", *map(str, args), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        preexec_fn=sigint_stops_it,
    )
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    if not selector.select(timeout=60):
        process.kill()
        pytest.fail("teachkit serve announced no URL within 60 s")
    line = process.stdout.readline()
    assert line.startswith("Serving "), (line, process.stderr.read() if process.poll() is not None else "")
    return process, line.split(" at ", 1)[1].split(" ", 1)[0]


def stop(process: subprocess.Popen) -> tuple[str, str]:
    process.send_signal(signal.SIGINT)  # Ctrl+C
    stdout, stderr = process.communicate(timeout=30)
    return stdout, stderr


@pytest.mark.parametrize("verbose", [False, True], ids=["default", "-v"])
def test_serve_a_project_folder_logs_requests_only_with_v(lite0_sites, verbose):
    site = lite0_sites("auto")  # built from <folder>/project.toml into <folder>/dist
    process, url = serve_in_subprocess(site.parent, *(["-v"] if verbose else []))
    try:
        status, headers, body = fetch(url)
        assert status == 200 and body == (site / "index.html").read_bytes()
        # Every file may be fetched from host pages on other origins, as GitHub Pages allows.
        assert headers["Access-Control-Allow-Origin"] == "*"
        for script in ("embed.js", "embed-classic.js", "teachkit-classifier.js"):
            status, headers, _ = fetch(url + script)
            assert headers["Access-Control-Allow-Origin"] == "*", script
    finally:
        stdout, stderr = stop(process)
    assert stdout == "Stopped.\n"
    if verbose:
        assert '"GET / HTTP/1.1" 200' in stderr and '"GET /embed.js HTTP/1.1" 200' in stderr, stderr
    else:
        assert stderr == ""


def test_find_site_takes_a_built_folder_a_project_folder_or_its_project_file(lite0_sites):
    site = lite0_sites("auto")
    for given in (site, site.parent, site.parent / "project.toml"):
        assert find_site(given) == Site(site, "")


def test_find_site_finds_a_single_file_page(tmp_path, surfaces_single_file):
    output = tmp_path / "leaves" / "out"
    output.mkdir(parents=True)
    for path in surfaces_single_file.parent.iterdir():
        (output / path.name).write_bytes(path.read_bytes())
    project = write_project(
        tmp_path / "leaves", 'classes = ["a", "b"]\n[output]\nmode = "single_file"\ndir = "out"\n'
    )
    expected = Site(output, surfaces_single_file.name)
    for given in (output, output / surfaces_single_file.name, project.parent, project):
        assert find_site(given) == expected


def test_serve_an_unbuilt_project_says_to_build_it_first(tmp_path):
    project = write_project(tmp_path / "leaves", 'classes = ["a", "b"]\n')
    for given in (project.parent, project):
        result = run_cli("serve", given)
        assert result.exit_code == 1
        assert result.output == (
            f"error: {project} is not built yet: its output folder {project.parent / 'dist'} holds no site; "
            f"build it first with: teachkit build {project}\n"
        )


def test_serve_refuses_what_is_neither_a_site_nor_a_project(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    result = run_cli("serve", tmp_path / "notes.txt")
    assert result.exit_code == 1
    assert result.output == (
        f"error: {tmp_path / 'notes.txt'} is neither a site nor a project file; give the folder a build "
        "wrote, or a project folder or its project.toml.\n"
    )
    with pytest.raises(BuildError, match="does not exist"):
        find_site(tmp_path / "nowhere")
