"""mkdocs hook: the parts of the docs that are generated, never written by hand.

- `cli.md`: the marker `<!-- cli-reference -->` becomes every `teachkit` command with its usage and
  options, read from the click commands in `builder/cli.py` as the site is built, so it cannot go stale.
- `project-file.md`: holds the schema's reference between markers (`python -m builder.config
  docs/project-file.md` writes it, so it also reads well on GitHub); the build fails when it differs from
  what the schema generates now.
- `<!-- cli-options NAME -->` on a line of its own (any page): the options table of `teachkit NAME`.
- `<!-- bench-results NAME.md -->` on a line of its own (any page): the benchmark's table as
  `bench/results/NAME.md` holds it, its headings moved under the page's own.
- `embedding.md`: the API version it names must be the page's `API_VERSION`.

Anything missing or stale stops the build with the command that fixes it.
"""

from __future__ import annotations

import inspect
import re
import sys
from pathlib import Path

import click
from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[2]
CLI_MARKER = "<!-- cli-reference -->"
RESULTS_MARKER = re.compile(r"^<!-- bench-results (\S+\.md) -->$", re.MULTILINE)
OPTIONS_MARKER = re.compile(r"^<!-- cli-options (\S+) -->$", re.MULTILINE)
API_SOURCE = ROOT / "templates" / "app" / "api" / "page_api.js"
# The order a reader meets the commands in; a command not named here follows, by name.
COMMAND_ORDER = ["init", "build", "serve", "deploy", "export", "schema", "receive"]


def _import_builder():
    """This checkout's builder, not whichever one the environment has installed."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import builder.cli
    import builder.config

    return builder.cli, builder.config


def on_page_markdown(markdown: str, page, config, files) -> str:
    name = page.file.src_uri
    if name == "cli.md":
        if CLI_MARKER not in markdown:
            raise PluginError(f"docs/cli.md has lost its marker {CLI_MARKER}: put it back where it goes")
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if name == "project-file.md":
        check_project_reference(markdown)
    if name == "embedding.md":
        check_api_version(markdown)
    markdown = OPTIONS_MARKER.sub(lambda match: options_table(match.group(1), name), markdown)
    return RESULTS_MARKER.sub(lambda match: bench_results(match.group(1), name), markdown)


def check_api_version(markdown: str) -> None:
    shipped = re.search(r'API_VERSION = "([^"]+)"', API_SOURCE.read_text(encoding="utf-8"))
    named = re.search(r"Version `([^`]+)` \(`teachkit.version`\)", markdown)
    if shipped is None or named is None:
        raise PluginError("docs/embedding.md must say: Version `X.Y.Z` (`teachkit.version`)")
    if shipped.group(1) != named.group(1):
        raise PluginError(
            f"docs/embedding.md names API version {named.group(1)}, the page ships {shipped.group(1)} "
            "(templates/app/api/page_api.js): say what changed and write the new version"
        )


def check_project_reference(markdown: str) -> None:
    _, config = _import_builder()
    current = config.readme_reference(markdown)
    regenerate = "regenerate it with: python -m builder.config docs/project-file.md"
    if current is None:
        raise PluginError(
            f"docs/project-file.md has no {config.REFERENCE_START} … {config.REFERENCE_END} markers; "
            f"put them back, then {regenerate}"
        )
    if current.strip("\n") != config.reference_markdown().strip("\n"):
        raise PluginError(f"docs/project-file.md's reference is out of date with the schema; {regenerate}")


def bench_results(name: str, page: str) -> str:
    path = ROOT / "bench" / "results" / name
    if not path.is_file():
        raise PluginError(f"docs/{page} includes bench/results/{name}, which does not exist")
    return _demote_headings(path.read_text(encoding="utf-8").strip("\n"), levels=2)


def _demote_headings(markdown: str, levels: int) -> str:
    """A results file's `# Title` becomes `### Title`, under the including page's `##` section."""
    out, fenced = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and re.match(r"#{1,4} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


# ----------------------------------------------------------------------------------------- command line


def cli_reference() -> str:
    """Markdown for `teachkit` and each of its commands: usage, description and every option."""
    cli, _ = _import_builder()
    group = cli.main
    group_ctx = click.Context(group, info_name="teachkit")
    names = sorted(group.list_commands(group_ctx), key=_command_rank)
    parts = [_command_section(group, group_ctx, "teachkit", with_help_option=True)]
    for name in names:
        command = group.get_command(group_ctx, name)
        ctx = click.Context(command, info_name=name, parent=group_ctx)
        parts.append(_command_section(command, ctx, f"teachkit {name}", with_help_option=False))
        if isinstance(command, click.Group):  # teachkit class: each of its commands too
            for sub_name in command.list_commands(ctx):
                sub = command.get_command(ctx, sub_name)
                sub_ctx = click.Context(sub, info_name=sub_name, parent=ctx)
                parts.append(
                    _command_section(sub, sub_ctx, f"teachkit {name} {sub_name}", with_help_option=False)
                )
    return "\n\n".join(parts)


def options_table(name: str, page: str) -> str:
    cli, _ = _import_builder()
    group_ctx = click.Context(cli.main, info_name="teachkit")
    command = cli.main.get_command(group_ctx, name)
    if command is None:
        raise PluginError(f"docs/{page} asks for the options of teachkit {name}, which is no command")
    ctx = click.Context(command, info_name=name, parent=group_ctx)
    return "\n".join(_options_table(command, ctx, with_help_option=False))


def _command_rank(name: str) -> tuple[int, str]:
    return (COMMAND_ORDER.index(name) if name in COMMAND_ORDER else len(COMMAND_ORDER), name)


def _command_section(command: click.Command, ctx: click.Context, title: str, with_help_option: bool) -> str:
    usage = command.get_usage(ctx).removeprefix("Usage:").strip()
    lines = [f"### `{title}`", "", "```", usage, "```", ""]
    if command.help:
        lines += [_help_text(command.help), ""]
    lines += _options_table(command, ctx, with_help_option)
    if command.epilog:
        lines += ["", _help_text(command.epilog)]
    return "\n".join(lines).rstrip()


def _options_table(command: click.Command, ctx: click.Context, with_help_option: bool) -> list[str]:
    rows = []
    for param in command.get_params(ctx):
        if isinstance(param, click.Argument):
            rows.append(_argument_row(param))
            continue
        if param is command.get_help_option(ctx) and not with_help_option:
            continue
        record = param.get_help_record(ctx)
        if record is not None:
            # Python-Markdown's tables leave a pipe inside a code span alone; elsewhere it must be escaped.
            rows.append(f"| `{' '.join(record[0].split())}` | {_cell(record[1])} |")
    return ["| option | what it does |", "| --- | --- |", *rows] if rows else []


def _argument_row(param: click.Argument) -> str:
    name = param.human_readable_name
    if param.required:
        what = "argument, required"
    elif param.default is not None:
        what = f"argument, default `{param.default}`"
    else:
        what = "argument, optional"
    return f"| `{_cell(name)}` | {what} |"


def _help_text(text: str) -> str:
    # click's \b marks a paragraph it must not rewrap; Markdown has no use for it.
    return inspect.cleandoc(text.replace("\b\n", ""))


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
