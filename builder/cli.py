"""The `teachkit` command: parses options, makes one call, turns TeachkitError into a message."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any

import click

from . import __version__
from .class_cli import class_group
from .errors import TeachkitError
from .export import FORMATS, available_formats
from .terminal import Verbosity, command_output, configure_logging, make_console, progress_for

# TensorFlow prints pages of C++ logging at import time; an author needs none of it. This level
# stops what TensorFlow logs after absl::InitializeLog(); what comes before it is hidden by
# terminal.command_output.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def reports_errors(command):
    """Turns TeachkitError into `error: …` on stderr and exit code 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except TeachkitError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(error.exit_code)

    return wrapper


VERBOSITY = "teachkit.verbosity"  # key in click's context meta, shared by a command and its group


def verbosity(ctx: click.Context | None = None) -> Verbosity:
    """-v and -q as given so far, before the command name and after it."""
    return (ctx or click.get_current_context()).meta.setdefault(VERBOSITY, Verbosity())


def _more_verbose(ctx: click.Context, param: click.Parameter, count: int) -> None:
    verbosity(ctx).verbose += count
    configure_logging(verbosity(ctx), make_console())


def _quiet(ctx: click.Context, param: click.Parameter, quiet: bool) -> None:
    verbosity(ctx).quiet |= quiet
    configure_logging(verbosity(ctx), make_console())


def verbosity_options(command):
    """-v/--verbose and -q/--quiet, accepted by the group and by every command."""
    command = click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        callback=_quiet,
        help="Show only warnings, errors and the summary.",
    )(command)
    return click.option(
        "-v",
        "--verbose",
        count=True,
        expose_value=False,
        callback=_more_verbose,
        help="Show more detail (TensorFlow's own log, each measurement, each request served).",
    )(command)


@click.group()
@click.version_option(__version__, prog_name="teachkit")
@verbosity_options
def main() -> None:
    """Build static web apps that teach an image classifier in the visitor's browser."""


@main.command()
@click.argument("directory", type=click.Path(path_type=Path), default=".")
@verbosity_options
@reports_errors
def init(directory: Path) -> None:
    """Write a commented example project.toml into DIRECTORY."""
    from .scaffold import write_example_project

    path = write_example_project(directory)
    click.echo(f"Wrote {path}. Build it with: teachkit build {path}")


def lossy_option(command):
    return click.option(
        "--allow-lossy",
        is_flag=True,
        help="Ship an explicit quantization even if it fails the fidelity check.",
    )(command)


def trained_options(command):
    """--trained and --with-samples, for `build` and `deploy`."""
    command = click.option(
        "--with-samples", is_flag=True, help="With --trained: ship the file's example images too."
    )(command)
    return click.option(
        "--trained",
        type=click.Path(path_type=Path),
        help="A project file or model download saved by the page: the site opens with that model, ready "
        "to predict.",
    )(command)


def build_with_progress(
    project: object,
    output: Path,
    allow_lossy: bool,
    single_file: bool,
    trained: Path | None,
    with_samples: bool,
) -> object:
    """Builds `project` into `output` with the command's progress display; returns the BuildReport."""
    from .build import build_site
    from .trained import read_trained

    baked = read_trained(trained) if trained else None
    with command_output(verbosity()) as console, progress_for(verbosity(), console) as progress:
        return build_site(
            project,
            output,
            allow_lossy=allow_lossy,
            single_file=single_file,
            progress=progress,
            trained=baked,
            with_samples=with_samples,
        )


@main.command()
@click.argument("project_file", type=click.Path(path_type=Path))
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), help="Output directory (default: output.dir)."
)
@lossy_option
@click.option(
    "--single-file", is_flag=True, help="Write one self-contained HTML file that works from file://."
)
@trained_options
@verbosity_options
@reports_errors
def build(
    project_file: Path,
    output: Path | None,
    allow_lossy: bool,
    single_file: bool,
    trained: Path | None,
    with_samples: bool,
) -> None:
    """Build the site described by PROJECT_FILE."""
    from .config import load_project

    project = load_project(project_file)
    report = build_with_progress(
        project, output or project.output.dir, allow_lossy, single_file, trained, with_samples
    )
    click.echo(report.summary())


@main.command()
@click.argument("project_file", type=click.Path(path_type=Path), default="project.toml")
@click.option("--remote", default="origin", show_default=True, help="The git remote to push to.")
@click.option(
    "--branch",
    default="gh-pages",
    show_default=True,
    help="The branch the site is committed to (not the one you work on).",
)
@click.option(
    "-m",
    "--message",
    help="The commit message (default: names the source commit and teachkit's version).",
)
@click.option(
    "--no-push", is_flag=True, help="Commit the site to the local branch only; push it later with git push."
)
@lossy_option
@trained_options
@verbosity_options
@reports_errors
def deploy(
    project_file: Path,
    remote: str,
    branch: str,
    message: str | None,
    no_push: bool,
    allow_lossy: bool,
    trained: Path | None,
    with_samples: bool,
) -> None:
    """Build the site of PROJECT_FILE (default: project.toml here) and publish it on GitHub Pages:
    commit it, with an empty .nojekyll, to a branch of the git repository that holds the project
    file, and push that branch. Your current branch, index and files are left as they are."""
    import tempfile

    from .config import load_project
    from .deploy import default_message, prepare_target, publish

    project = load_project(project_file)
    target = prepare_target(project.project_file, remote, branch, push=not no_push)
    # A web server serves the site, so it is always the hosted one, even for output.mode = "single_file".
    hosted = project.model_copy(update={"output": project.output.model_copy(update={"mode": "hosted"})})
    with tempfile.TemporaryDirectory(prefix="teachkit-deploy-") as scratch:
        report = build_with_progress(
            hosted, Path(scratch) / "site", allow_lossy, False, trained, with_samples
        )
        click.echo(f"Built the site in {report.elapsed_seconds:.1f} s ({report.total_bytes / 1e6:.1f} MB).")
        deployed = publish(target, report.output, message or default_message(target.git, __version__))
    click.echo(deployed.summary())


EXPORT_FORMATS = available_formats()


@main.command()
@click.argument("project_file", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "format_name",
    type=click.Choice(EXPORT_FORMATS),
    required=True,
    help="What to write: "
    + "; ".join(f"{name}: {FORMATS[name].description}" for name in EXPORT_FORMATS)
    + ".",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    required=True,
    help="Folder to write (new, empty, or an earlier export, which is replaced).",
)
@click.option(
    "--base-model",
    type=click.Path(path_type=Path),
    help="The base model's file, for a page built on your own model (model.path) or on a Keras "
    "weights file (model.weights).",
)
@verbosity_options
@reports_errors
def export(project_file: Path, format_name: str, output: Path, base_model: Path | None) -> None:
    """Export what a visitor trained in the page, from the file the page saved (PROJECT_FILE: a
    project file, .teachkit.zip, or a model download, .teachkit-model.zip), as a model or data
    that other tools read."""
    from .export.pipeline import export_project

    with command_output(verbosity()) as console, progress_for(verbosity(), console) as progress:
        report = export_project(project_file, format_name, output, progress, base_model=base_model)
    click.echo(report.summary())


@main.command()
@click.argument("site", type=click.Path(path_type=Path), default="dist")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port (0 picks a free one).")
@click.option("--isolated", is_flag=True, help="Send cross-origin isolation headers (threaded WASM).")
@verbosity_options
@reports_errors
def serve(site: Path, host: str, port: int, isolated: bool) -> None:
    """Serve a built site on localhost: SITE is the folder a build wrote, or a project folder or
    its project.toml (its output.dir is served)."""
    from .serve import find_site, make_server

    found = find_site(site)
    server = make_server(found.root, host, port, isolated, quiet=False)
    url = f"http://{host}:{server.server_address[1]}/{found.page}"
    click.echo(f"Serving {found.root} at {url} (Ctrl+C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.server_close()


@main.command()
@click.option(
    "--store",
    required=True,
    help="Where models are kept: a folder (created if missing) or s3://BUCKET/PREFIX (credentials, "
    "AWS_ENDPOINT_URL and region the standard AWS way).",
)
@click.option(
    "--allow-origin",
    "origins",
    multiple=True,
    required=True,
    metavar="ORIGIN",
    help="The origin (scheme://host[:port]) of a page that may publish, or null for pages opened from "
    "file://; repeat for several.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8700, show_default=True, help="Port (0 picks a free one).")
@click.option(
    "--max-mb", default=50, show_default=True, type=click.IntRange(min=1), help="Largest upload, in MB."
)
@click.option(
    "--list", "listing", is_flag=True, help="Answer GET models with every model (off: by link only)."
)
@click.option(
    "--public-url",
    metavar="URL",
    help="The base of the links it answers (default: the URL each request came to, as the proxy says).",
)
@click.option(
    "--rate",
    default=120,
    show_default=True,
    type=click.IntRange(min=1),
    help="Requests per minute per client address.",
)
@verbosity_options
@reports_errors
def receive(**options: Any) -> None:
    """Receive the models that visitors publish from a page (its project's cloud.url): store them and
    answer links anyone can open."""
    from .receiver import make_settings, open_receiver

    # make_settings takes the options by their names and checks every value.
    settings = make_settings(**options)
    receiver = open_receiver(settings)
    click.echo(receiver.start_line())
    try:
        receiver.run()
    except KeyboardInterrupt:
        click.echo("Stopped.")


@main.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write to this file instead of stdout.")
@verbosity_options
@reports_errors
def schema(output: Path | None) -> None:
    """Print the JSON Schema of the project file (for editor completion)."""
    import json

    from .config import project_json_schema

    text = json.dumps(project_json_schema(), indent=2)
    if output:
        output.write_text(text + "\n")
        click.echo(f"Wrote {output}")
    else:
        click.echo(text)


main.add_command(class_group(reports_errors, verbosity_options))


if __name__ == "__main__":
    main()
