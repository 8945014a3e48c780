"""Keras embedding model → `.tflite` for LiteRT.js, with an encoding chosen by measured fidelity.

LiteRT.js runs XNNPACK's int8 kernels, which are several times faster in WebAssembly than TF.js's
float kernels; full int8 loses too much on EfficientNet-Lite0 (min cosine 0.985), so the few layers
that suffer most are kept in float. Which layers is measured, not guessed: TensorFlow's
QuantizationDebugger compares each quantized layer's output with its float output on calibration
photos. Every candidate is then run by LiteRT.js itself in Node.js on the probe photos.

The model has a static batch of one: LiteRT.js 2.5.3 refuses a [1, …] tensor for a [-1, …] input.
"""

from __future__ import annotations

import json
import logging
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .convert import Fidelity, FidelityFloors, Outputs, Probes, fidelity_of, read_outputs
from .models.preprocess import center_crop_resize
from .prebuilt import PrebuiltJs
from .progress import NO_PROGRESS, Progress

log = logging.getLogger(__name__)

# Photos that ship inside scikit-image and are not probe photos (builder/probes.py): the int8
# activation ranges are calibrated on them, so the fidelity measured on the probes is honest.
CALIBRATION_PHOTOS = (
    "stereo_motorcycle",
    "retina",
    "colorwheel",
    "logo",
    "brick",
    "camera",
    "grass",
    "gravel",
    "moon",
    "page",
    "text",
    "coins",
    "cell",
    "microaneurysms",
    "horse",
    "clock",
)

# How many of the most sensitive layers a mixed candidate keeps in float, fewest first: each
# float layer costs speed and size, so the first that passes is the smallest and fastest.
FLOAT_LAYER_COUNTS = (4, 8, 16)

# LiteRT.js's two single-threaded builds: "relaxed" needs WebAssembly relaxed SIMD, "compat" only
# SIMD. Both are measured: a page runs whichever the browser supports.
LITERT_BUILDS = ("relaxed", "compat")


@dataclass(frozen=True)
class LiteMeasured:
    """One `.tflite` candidate, written and run by LiteRT.js in Node.js on the probe photos."""

    encoding: str
    size_bytes: int
    fidelity: Fidelity  # the worse of the two builds
    milliseconds: dict[str, float]  # build → median ms per image (one thread, in Node.js)

    def describe(self) -> str:
        times = ", ".join(f"{build} {ms:.1f} ms" for build, ms in self.milliseconds.items())
        return f"{self.encoding}: {self.size_bytes / 1e6:.2f} MB, {self.fidelity.describe()}, {times}"


@dataclass(frozen=True)
class LiteResult:
    chosen: LiteMeasured | None  # None when no candidate keeps min_fidelity
    tried: list[LiteMeasured]

    def to_json(self) -> dict:
        return {
            "chosen": asdict(self.chosen) if self.chosen else None,
            "tried": [asdict(m) for m in self.tried],
        }

    @classmethod
    def from_json(cls, data: dict) -> LiteResult:
        def load(item: dict) -> LiteMeasured:
            return LiteMeasured(
                item["encoding"], item["size_bytes"], Fidelity(**item["fidelity"]), item["milliseconds"]
            )

        chosen = data["chosen"]
        return cls(load(chosen) if chosen else None, [load(item) for item in data["tried"]])


LiteEmbedder = Callable[[Path, np.ndarray], tuple[dict[str, "Outputs | np.ndarray"], dict[str, float]]]
"""Runs a .tflite file on pixels with each LiteRT.js build: (build → outputs, build → ms); a bare
array is embeddings without maps."""


def calibration_pixels(size: int) -> np.ndarray:
    """The calibration photos and their mirror images, as the page would crop them."""
    import skimage.data

    crops = []
    for name in CALIBRATION_PHOTOS:
        image = getattr(skimage.data, name)()
        image = np.asarray(image[0] if isinstance(image, tuple) else image)  # a stereo pair: the left
        if image.dtype == bool:
            image = image.astype(np.uint8) * 255
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        image = np.ascontiguousarray(image[..., :3].astype(np.uint8))
        crop = center_crop_resize(image, size)
        crops += [crop, crop[:, ::-1]]
    return np.stack(crops)


def _converter(keras_model: object, size: int) -> object:
    import tensorflow as tf

    @tf.function(input_signature=[tf.TensorSpec([1, size, size, 3], tf.float32, name="pixels")])
    def embed(pixels: tf.Tensor) -> tf.Tensor:
        return keras_model(pixels, training=False)

    concrete = embed.get_concrete_function()
    return tf.lite.TFLiteConverter.from_concrete_functions([concrete], embed)


def _int8_converter(keras_model: object, size: int, calibration: np.ndarray) -> object:
    import tensorflow as tf

    def dataset() -> Iterator[list[np.ndarray]]:
        for crop in calibration:
            yield [crop[None]]

    converter = _converter(keras_model, size)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = dataset
    # Float input and output: the page feeds 0–255 pixels and reads the embedding as it is.
    return converter


def sensitive_layers(keras_model: object, size: int, calibration: np.ndarray) -> list[str]:
    """Tensor names of the int8 model's layers, the worst served by 8 bits first: the RMS error of
    each layer's output relative to its quantization step, as TensorFlow's own guide ranks them."""
    import tensorflow as tf

    def dataset() -> Iterator[list[np.ndarray]]:
        for crop in calibration:
            yield [crop[None]]

    converter = _int8_converter(keras_model, size, calibration)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        debugger = tf.lite.experimental.QuantizationDebugger(converter=converter, debug_dataset=dataset)
        debugger.run()
    with tempfile.TemporaryDirectory(prefix="teachkit-qdebug-") as scratch:
        dump = Path(scratch) / "stats.csv"
        with dump.open("w") as file:
            debugger.layer_statistics_dump(file)
        import csv

        rows = list(csv.DictReader(dump.open()))
    ranked = []
    for row in rows:
        scale = float(row["scale"]) if row.get("scale") not in (None, "") else 0.0
        mse = float(row["mean_squared_error"])
        if scale > 0:
            ranked.append((np.sqrt(mse) / scale, row["tensor_name"]))
    ranked.sort(reverse=True)
    return [name for _, name in ranked]


def _int8_with_float(keras_model: object, size: int, calibration: np.ndarray, names: list[str]) -> bytes:
    import tensorflow as tf

    def dataset() -> Iterator[list[np.ndarray]]:
        for crop in calibration:
            yield [crop[None]]

    converter = _int8_converter(keras_model, size, calibration)
    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=names)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=dataset, debug_options=options
        )
        return debugger.get_nondebug_quantized_model()


def candidates(
    keras_model: object, size: int, progress: Progress = NO_PROGRESS
) -> Iterator[tuple[str, bytes]]:
    """(name, .tflite bytes), the smallest and fastest first: full int8, int8 with the most
    sensitive layers in float, then float16 weights (the fallback that always passes)."""
    import tensorflow as tf

    calibration = calibration_pixels(size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield "int8", _int8_converter(keras_model, size, calibration).convert()
        progress.advance()
        order = sensitive_layers(keras_model, size, calibration)
        progress.advance()
        for count in FLOAT_LAYER_COUNTS:
            if count >= len(order):
                break
            model = _int8_with_float(keras_model, size, calibration, order[:count])
            yield f"int8, {count} most sensitive layers in float", model
            progress.advance()
        converter = _converter(keras_model, size)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
        yield "float16 weights", converter.convert()
        progress.advance()


def measure_tflite(path: Path, encoding: str, probes: Probes, embed: LiteEmbedder) -> LiteMeasured:
    by_build, milliseconds = embed(path, probes.pixels)
    worst: Fidelity | None = None
    for build, outputs in by_build.items():
        fidelity = fidelity_of(outputs, probes, f"the .tflite model in LiteRT.js's {build} build")
        if worst is None or _lowest(fidelity) < _lowest(worst):
            worst = fidelity
    return LiteMeasured(encoding, path.stat().st_size, worst, milliseconds)


def _lowest(fidelity: Fidelity) -> float:
    return min(fidelity.min_cosine, fidelity.map_min_cosine or fidelity.min_cosine)


def convert_for_litert(
    keras_model: object,
    probes: Probes,
    floors: FidelityFloors,
    output: Path,
    embed: LiteEmbedder,
    progress: Progress = NO_PROGRESS,
) -> LiteResult:
    """Writes and measures the candidates in order and stops at the first that keeps
    `floors`, written to `output` (model.tflite). None is written if none passes: an encoding
    below them is never shipped."""
    size = probes.pixels.shape[1]
    progress.start("Converting the base model for LiteRT.js and measuring it", 3 + len(FLOAT_LAYER_COUNTS))
    tried: list[LiteMeasured] = []
    with tempfile.TemporaryDirectory(prefix="teachkit-litert-") as scratch:
        for index, (encoding, model) in enumerate(candidates(keras_model, size, progress)):
            path = Path(scratch) / f"candidate-{index}.tflite"
            path.write_bytes(model)
            measured = measure_tflite(path, encoding, probes, embed)
            log.debug("measured for LiteRT.js %s", measured.describe())
            tried.append(measured)
            if measured.fidelity.keeps(floors):
                output.mkdir(parents=True)
                (output / "model.tflite").write_bytes(model)
                return LiteResult(measured, tried)
    return LiteResult(None, tried)


def litert_embedder(prebuilt: PrebuiltJs) -> LiteEmbedder:
    """Runs a .tflite file in Node.js with each of LiteRT.js's single-threaded builds."""
    wasm_dir = prebuilt.packages.litert_files()[0].parent

    def embed(model: Path, pixels: np.ndarray) -> tuple[dict[str, Outputs], dict[str, float]]:
        embeddings, milliseconds = {}, {}
        with tempfile.TemporaryDirectory(prefix="teachkit-embed-") as tmp_text:
            tmp = Path(tmp_text)
            np.ascontiguousarray(pixels, dtype=np.float32).tofile(tmp / "in.f32")
            for build in LITERT_BUILDS:
                out, maps = tmp / f"{build}.f32", tmp / f"{build}-map.f32"
                size = str(pixels.shape[1])
                args = (str(model), str(tmp / "in.f32"), str(out), size, build, str(wasm_dir), str(maps))
                printed = prebuilt.run_tool("embed_litert.mjs", *args)
                embeddings[build] = read_outputs(out, maps, len(pixels), printed)
                milliseconds[build] = float(json.loads(printed.strip().splitlines()[-1])["milliseconds"])
        return embeddings, milliseconds

    return embed
