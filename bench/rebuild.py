"""First build of the example project with an empty cache against rebuilds of the unchanged project.

Usage: python bench/rebuild.py [--runs 3]   (prints the medians and their ratio)
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sites import save_results

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "demo" / "project.toml"


def timed_build(cache: Path, output: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "builder.cli", "-q", "build", str(EXAMPLE), "-o", str(output)],
        check=True,
        env={"TEACHKIT_CACHE": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        capture_output=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work_text:
        work = Path(work_text)
        first = [timed_build(work / f"cache-{run}", work / "dist") for run in range(args.runs)]
        rebuild = [timed_build(work / "cache-0", work / "dist") for _ in range(args.runs)]
    first_median, rebuild_median = statistics.median(first), statistics.median(rebuild)
    text = "\n".join(
        [
            "| build of examples/demo | median | runs |",
            "| --- | --- | --- |",
            f"| first build, empty cache | {first_median:.1f} s | {args.runs} |",
            f"| rebuild, unchanged project | {rebuild_median:.2f} s | {args.runs} |",
            f"| ratio | {first_median / rebuild_median:.0f}× faster | |",
        ]
    )
    save_results(args.out, "rebuild", {"first_s": first, "rebuild_s": rebuild}, text)


if __name__ == "__main__":
    main()
