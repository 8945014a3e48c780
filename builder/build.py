"""The build pipeline: project → prepared model → bundled app → rendered site, swapped into place
atomically so a failed build never leaves a half-written output directory."""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .baked import baked_model, check_same_base
from .contrast import theme_contrast_warnings
from .errors import BuildError
from .model_cache import PreparedModel, prepare_model
from .notices import site_notices
from .prebuilt import PrebuiltJs, prebuilt_js, shipped_bundles
from .progress import NO_PROGRESS, Progress
from .render import SiteInputs, base_identity, render_hosted, render_single_file
from .runtime import Runtime, choose_runtime
from .sizes import Transfer, first_visit
from .trained import TrainedProject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildReport:
    output: Path  # the folder, or the single HTML file
    total_bytes: int
    model: PreparedModel
    elapsed_seconds: float
    runtime: Runtime
    single_file: bool = False
    first_visit: Transfer | None = None  # a hosted site's

    def summary(self) -> str:
        """Two lines: what was built (and what runs its base model), and how to look at it."""
        chosen = self.model.conversion.chosen
        visit = f"a first visit transfers {self.first_visit.describe()}, " if self.first_visit else ""
        if self.runtime.name == "litert":
            chosen = self.model.litert.chosen
        runs = f"base model on {self.runtime.label} ({self.runtime.reason}"
        if self.runtime.name == "litert":
            runs += "; its relaxed SIMD build where the browser has relaxed SIMD, else its compat build"
        built = (
            f"Built {self.output} in {self.elapsed_seconds:.1f} s: "
            f"{_megabytes(self.total_bytes)} in all, {visit}"
            f"model {_megabytes(chosen.size_bytes)} ({chosen.encoding}; {chosen.fidelity.describe()}), "
            f"{runs}), conversion {'from cache' if self.model.from_cache else 'done now'}."
        )
        return f"{built}\n{self.preview()}"

    def preview(self) -> str:
        if self.single_file:
            return f"Preview: open {self.output} in a browser (it works from file://)"
        return f"Preview: teachkit serve {shlex.quote(str(self.output))}"


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


def check_output_dir(output: Path, project_file: Path) -> None:
    """Refuses output locations where replacing the directory would destroy the author's files."""
    if project_file.is_relative_to(output):
        raise BuildError(
            f"the output directory {output} contains the project file {project_file.name}; building "
            "there would delete it.\nHint: choose an output directory of its own, e.g. -o dist."
        )
    if output.exists() and not output.is_dir():
        raise BuildError(f"the output path {output} exists and is not a directory; choose another one.")
    if output.is_dir() and any(output.iterdir()) and not (output / "manifest.json").exists():
        raise BuildError(
            f"the output directory {output} holds files that teachkit did not write (no manifest.json); "
            "refusing to replace them.\nHint: choose an empty or new directory, or remove it yourself."
        )


def _staging_dir(output: Path) -> Path:
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{output.name}.building-", dir=output.parent))
    except OSError as error:
        raise BuildError(
            f"cannot write the output directory {output}: {error.strerror or error}.\n"
            "Hint: choose a directory you can write to with -o, or fix its permissions."
        ) from error


def swap_into_place(staging: Path, output: Path) -> None:
    """Moves `staging` to `output`, replacing what was there only once the new one is in place."""
    if not output.exists():
        os.replace(staging, output)
        return
    previous = output.with_name(f".{output.name}.previous-{os.getpid()}")
    os.replace(output, previous)
    try:
        os.replace(staging, output)
    except OSError:
        os.replace(previous, output)
        raise
    shutil.rmtree(previous, ignore_errors=True)


def build_site(
    project: object,
    output: Path,
    allow_lossy: bool = False,
    single_file: bool = False,
    progress: Progress = NO_PROGRESS,
    trained: TrainedProject | None = None,
    with_samples: bool = False,
) -> BuildReport:
    """Builds into `output`; `single_file` (or output.mode = "single_file") writes one HTML file there.
    `trained` (read from a file the page saved) is baked in: the site opens with it, ready to predict.

    Theme colours that are hard to read are logged as warnings; the slow steps report to `progress`."""
    started = time.perf_counter()
    mode = "single_file" if single_file else project.output.mode
    output = output.resolve()
    check_output_dir(output, project.project_file)
    for warning in theme_contrast_warnings(project.theme):
        log.warning("%s", warning)
    if project.page.mode == "predict" and trained is None:
        raise BuildError(
            'page.mode = "predict" shows only the prediction panel, so it needs a trained model.\n'
            "Hint: build with --trained FILE (a project file or model download saved by the page)."
        )
    prebuilt = prebuilt_js(progress)
    model = prepare_model(project.model, allow_lossy, prebuilt, progress)
    if trained is not None:
        check_same_base(trained, base_identity(model))
    runtime = choose_runtime(project.model.runtime, mode, model, project.model.quantization)
    staging = _staging_dir(output)
    try:
        progress.start("Writing the site", 1)
        site = staging / "site"
        site.mkdir()
        inputs = site_inputs(project, model, prebuilt, runtime, mode, trained, with_samples)
        visit = None
        if mode == "single_file":
            page = render_single_file(inputs, site)
            total = page.stat().st_size
            built = output / page.name
        else:
            render_hosted(inputs, site)
            total = sum(path.stat().st_size for path in site.rglob("*") if path.is_file())
            visit = first_visit(site)
            built = output
        try:
            swap_into_place(site, output)
        except OSError as error:
            raise BuildError(f"cannot replace {output}: {error.strerror or error}.") from error
        progress.advance()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return BuildReport(
        built, total, model, time.perf_counter() - started, runtime, mode == "single_file", visit
    )


def site_inputs(
    project: object,
    model: PreparedModel,
    prebuilt: PrebuiltJs,
    runtime: Runtime,
    mode: str,
    trained: TrainedProject | None,
    with_samples: bool,
) -> SiteInputs:
    shipped = [bundle.name for bundle in shipped_bundles(runtime.name, mode)]
    return SiteInputs(
        project=project,
        model=model,
        bundles=prebuilt.bundles,
        wasm_binaries=prebuilt.packages.wasm_binaries(),
        tfjs_version=prebuilt.packages.version("@tensorflow/tfjs-core"),
        mode=mode,
        runtime=runtime.name,
        litert_files=prebuilt.packages.litert_files() if runtime.name == "litert" else [],
        litert_version=prebuilt.packages.version("@litertjs/core"),
        baked=baked_model(trained, with_samples) if trained is not None else None,
        notices=site_notices(prebuilt.packages, prebuilt.packages_in(shipped), model),
    )
