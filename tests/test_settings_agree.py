"""The page and the project file judge every training setting alike: the bounds exist once, in the
schema, and reach the page as its settings spec."""

from __future__ import annotations

from builder.config import settings_spec

from .pagekit import wait_ready
from .settings_cases import boundary_cases, python_verdict

# Each value alone, through the public API, as a script or a host page would set it.
VERDICTS = """async (cases) => {
  const verdicts = [];
  for (const [section, key, value] of cases) {
    try {
      await window.teachkit.setSettings({ [section]: { [key]: value } });
      verdicts.push(true);
    } catch (error) {
      verdicts.push(error.code === "bad_setting" ? false : error.code);
    }
  }
  return verdicts;
}"""


def test_the_page_and_python_agree_on_every_boundary_value(surfaces_site, serve_site, open_page):
    cases = boundary_cases()
    page = open_page(serve_site(surfaces_site).url).page
    wait_ready(page)

    page_verdicts = page.evaluate(VERDICTS, [list(case) for case in cases])

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
