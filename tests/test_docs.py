"""The documentation site and the README: a strict mkdocs build, its generated pages, its failures."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from html import unescape
from pathlib import Path

import click
import pytest

from builder.cli import main
from builder.config import project_json_schema

REPO = Path(__file__).resolve().parent.parent
README_LIMIT = 120


def mkdocs_build(config: Path, site: Path) -> subprocess.CompletedProcess:
    """`mkdocs build --strict`, as ./dev test and CI run it: any warning (a broken link) fails."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(site)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def page_text(path: Path) -> str:
    """A built page's article as plain text, tags removed."""
    html = path.read_text(encoding="utf-8")
    article = html[html.index("<article") : html.index("</article>")]
    return unescape(re.sub(r"<[^>]+>", " ", article))


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "site"
    result = mkdocs_build(REPO / "mkdocs.yml", out)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return out


def test_every_page_is_built(site):
    for page in sorted((REPO / "docs").rglob("*.md")):
        built = site / page.relative_to(REPO / "docs").with_suffix(".html")
        assert built.is_file(), f"docs/{page.relative_to(REPO / 'docs')} was not built into {built.name}"
    assert not (site / "screenshots.py").exists() and not (site / "hooks").exists()
    assert (site / "page-laptop.png").is_file()


def test_site_fetches_nothing_from_elsewhere(site):
    """No web fonts, scripts or styles from another origin: the site works offline and builds so."""
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert "fonts.googleapis" not in html and "fonts.gstatic" not in html, page.name
        remote = re.findall(r'<(?:script|link)\b[^>]*(?:src|href)="(https?:[^"]+)"', html)
        assert remote == [], f"{page.name} loads {remote}"


def test_cli_page_holds_every_command_and_option(site):
    text = page_text(site / "cli.html")
    ctx = click.Context(main, info_name="teachkit")
    assert main.list_commands(ctx), "teachkit has no commands?"
    for name in main.list_commands(ctx):
        command = main.get_command(ctx, name)
        assert f"teachkit {name} [OPTIONS]" in text, f"the command line page lacks teachkit {name}"
        section = text[text.index(f"teachkit {name} [OPTIONS]") :]
        for param in command.get_params(click.Context(command, info_name=name, parent=ctx)):
            if isinstance(param, click.Option) and param.opts != ["--help"]:
                for opt in param.opts:
                    assert opt in section, f"the command line page lacks teachkit {name} {opt}"
            elif isinstance(param, click.Argument):
                assert param.human_readable_name in section, f"teachkit {name}'s {param.name}"


def test_project_file_page_holds_every_table_and_key(site):
    text = page_text(site / "project-file.html")
    schema = project_json_schema()
    definitions = schema.get("$defs", {})
    for name, prop in schema["properties"].items():
        ref = prop.get("$ref") or next((s["$ref"] for s in prop.get("allOf", []) if "$ref" in s), None)
        if ref:
            assert f"[{name}]" in text, f"the project file page lacks the table [{name}]"
            for key in definitions[ref.rsplit("/", 1)[-1]]["properties"]:
                assert f"{name}.{key}" in text, f"the project file page lacks {name}.{key}"
        else:
            assert name in text, f"the project file page lacks the key {name}"


def test_benchmarks_are_included_not_copied(site):
    """Every benchmark's results file appears in the site, as the file says, on the page that names it."""
    markers = "\n".join(p.read_text(encoding="utf-8") for p in (REPO / "docs").rglob("*.md"))
    for result in sorted((REPO / "bench" / "results").glob("*.md")):
        assert f"<!-- bench-results {result.name} -->" in markers, f"no docs page includes {result.name}"
        row = next(line for line in result.read_text(encoding="utf-8").splitlines() if line.startswith("| "))
        first_cell = row.strip("|").split("|")[0].strip()
        assert first_cell in page_text(site / "benchmarks.html"), f"{result.name}'s table is not on the page"


# A copy of the docs with one fault each, built the same way: the build must stop and say why.
FAULTS = {
    "a link to a missing page": ("hosting.md", "\nSee [nowhere](nowhere.md).\n", "nowhere.md"),
    "a link to a missing anchor": (
        "hosting.md",
        "\nSee [the options](cli.md#no-such-part).\n",
        "no-such-part",
    ),
    "a stale project-file reference": ("project-file.md", None, "out of date"),
    "a stale API version": ("embedding.md", None, "API version"),
    "a missing benchmark result": ("benchmarks.md", "\n<!-- bench-results nothing.md -->\n", "nothing.md"),
}


@pytest.mark.parametrize("fault", FAULTS)
def test_a_broken_or_stale_page_fails_the_build(tmp_path, fault):
    for shared in ("builder", "bench", "templates"):
        (tmp_path / shared).symlink_to(REPO / shared)
    shutil.copytree(REPO / "docs", tmp_path / "docs")
    shutil.copy(REPO / "mkdocs.yml", tmp_path)
    page, addition, expected = FAULTS[fault]
    path = tmp_path / "docs" / page
    text = original = path.read_text(encoding="utf-8")
    if fault == "a stale project-file reference":
        text = text.replace("| `model.base` | text |", "| `model.basis` | text |", 1)
    elif fault == "a stale API version":
        text = re.sub(r"Version `[^`]+` \(`teachkit.version`\)", "Version `0.0.1` (`teachkit.version`)", text)
    else:
        text += addition
    assert text != original, f"the test could not put {fault} into docs/{page}"
    path.write_text(text, encoding="utf-8")

    result = mkdocs_build(tmp_path / "mkdocs.yml", tmp_path / "site")
    output = result.stdout + result.stderr
    assert result.returncode != 0, f"the build passed with {fault}:\n{output}"
    assert expected in output, f"the build failed without naming {expected!r}:\n{output}"


def test_readme_is_short_and_points_into_the_docs():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    lines = readme.splitlines()
    assert len(lines) <= README_LIMIT, f"README.md has {len(lines)} lines; the limit is {README_LIMIT}"
    # The README's contract: a clone's two commands, the ones .ci/run proves.
    assert "./dev example" in readme and "./dev test" in readme
    assert "./dev test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)|src=\"([^\"]+)\"", readme)
    targets = [a or b for a, b in links if not (a or b).startswith(("http://", "https://", "mailto:"))]
    assert any(t.startswith("docs/") and t.endswith(".md") for t in targets), "README links into no docs page"
    for target in targets:
        assert (REPO / target).exists(), f"README.md links to {target}, which does not exist"


def test_pages_workflows_build_the_example_and_the_docs():
    """examples/github-pages.yml publishes a project; docs-pages.yml the docs with the example beside it."""
    import yaml  # comes with mkdocs

    def commands(name: str) -> str:
        workflow = yaml.safe_load((REPO / "examples" / name).read_text(encoding="utf-8"))
        steps = workflow["jobs"]["build"]["steps"]
        assert any(step.get("uses", "").startswith("actions/upload-pages-artifact") for step in steps)
        assert workflow["jobs"]["deploy"]["steps"][0]["uses"].startswith("actions/deploy-pages")
        return "\n".join(step.get("run", "") for step in steps)

    assert "teachkit build project.toml -o dist" in commands("github-pages.yml")
    docs = commands("docs-pages.yml")
    assert "mkdocs build --strict -d site" in docs
    assert "teachkit build examples/demo/project.toml -o site/example" in docs
    assert (REPO / "examples" / "demo" / "project.toml").is_file()
