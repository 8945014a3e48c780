"""Keras embedding model → TF.js graph model, with a weight encoding chosen by measured fidelity.

The converter runs once, unquantized; every candidate encoding is then written from those float
weights (cheap) and measured with the real TF.js runtime on probe photos. Measuring the artifact
itself matters: per-tensor uint8 after batch-norm folding looks harmless on paper and wrecks
EfficientNet-Lite0 in practice.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .errors import ConversionError
from .prebuilt import PrebuiltJs
from .progress import NO_PROGRESS, Progress
from .tensorflowjs_import import prepare_tensorflowjs_import

log = logging.getLogger(__name__)

# Smaller tensors (biases, folded batch-norm scales) stay 16-bit in a mixed encoding: they weigh
# nothing, and one 8-bit rounding of a per-channel scale can silence a whole channel.
MIXED_MIN_ELEMENTS = 4096


@dataclass(frozen=True)
class FidelityFloors:
    """The least cosines with the float model, on the probe photos, that an encoding must keep.

    The feature map has its own floor (model.min_map_fidelity, 0.98 by default against the
    embedding's 0.99): the embedding is the mean of the map's cells, which averages much of a
    quantized model's error away, so the map's cosine is always the lower one (Lite0, int8 with 8
    layers in float: map 0.985, embedding 0.991). At 0.98 the probes' 7 × 7 class evidence (the
    ImageNet top-1 class's score per cell) still correlates ≥ 0.98 with the float model's; holding
    the map to 0.99 costs LiteRT.js its int8 model (float16 weights: 5–8 times slower per frame)
    and TF.js 1.3 MB."""

    embedding: float
    feature_map: float

    @classmethod
    def of(cls, model_config: object) -> FidelityFloors:
        return cls(model_config.min_fidelity, model_config.min_map_fidelity)

    def describe(self) -> str:
        return f"model.min_fidelity = {self.embedding} (model.min_map_fidelity = {self.feature_map})"


@dataclass(frozen=True)
class Fidelity:
    """How closely a converted model's embeddings follow the float Keras model's on probe photos."""

    min_cosine: float
    mean_cosine: float
    # Fraction of probes whose ImageNet top-1 class is unchanged; None without a classifier.
    top1_agreement: float | None
    # The same for the feature map (models/base.py), flattened: None for a model without one.
    map_min_cosine: float | None = None
    map_mean_cosine: float | None = None

    def describe(self) -> str:
        text = f"cosine min {self.min_cosine:.4f} mean {self.mean_cosine:.4f}"
        if self.map_min_cosine is not None:
            text += f", feature map cosine min {self.map_min_cosine:.4f} mean {self.map_mean_cosine:.4f}"
        if self.top1_agreement is not None:
            text += f", ImageNet top-1 agreement {self.top1_agreement:.0%}"
        return text

    def keeps(self, floors: FidelityFloors) -> bool:
        """The embedding keeps its floor and the map its own: the page explains predictions with
        the map, so an encoding that kept the embedding but wrecked the map would show heatmaps
        Python does not compute."""
        map_kept = self.map_min_cosine is None or self.map_min_cosine >= floors.feature_map
        return self.min_cosine >= floors.embedding and map_kept


@dataclass(frozen=True)
class Measured:
    """One weight encoding, written and measured."""

    encoding: str
    size_bytes: int
    fidelity: Fidelity

    def describe(self) -> str:
        return f"{self.encoding}: {self.size_bytes / 1e6:.2f} MB, {self.fidelity.describe()}"


@dataclass(frozen=True)
class Probes:
    """Probe photos and what the float Keras model makes of them."""

    pixels: np.ndarray  # [n, size, size, 3] float32, 0–255
    embeddings: np.ndarray  # [n, d] float32
    classifier: tuple[np.ndarray, np.ndarray] | None
    maps: np.ndarray | None = None  # [n, rows, cols, d] float32: the feature maps, if the model has one

    def top1(self, embeddings: np.ndarray) -> np.ndarray | None:
        if self.classifier is None:
            return None
        kernel, bias = self.classifier
        return np.argmax(embeddings @ kernel + bias, axis=1)


@dataclass(frozen=True)
class Outputs:
    """What a runtime made of the probe photos."""

    embeddings: np.ndarray  # [n, d]
    maps: np.ndarray | None  # [n, rows × cols × d] row-major, channels last; None: no map read


Embedder = Callable[[Path, np.ndarray], "Outputs | np.ndarray"]
"""Runs a TF.js graph model directory on pixels and returns its outputs (a bare array: embeddings only)."""

# The TF.js model's feature map is a graph node outside its signature, so that `predict` still
# returns the embedding alone; model.json's userDefinedMetadata names it under this key.
FEATURE_MAP_KEY = "featureMap"


def export_saved_model(keras_model: object, directory: Path) -> None:
    keras_model.export(str(directory), format="tf_saved_model", verbose=False)


def convert_saved_model(saved_model_dir: Path, output_dir: Path) -> None:
    """Runs the tensorflowjs converter without quantization (batch norm gets folded here)."""
    prepare_tensorflowjs_import()
    from tensorflowjs.converters.tf_saved_model_conversion_v2 import convert_tf_saved_model

    try:
        convert_tf_saved_model(str(saved_model_dir), str(output_dir), skip_op_check=False)
    except Exception as error:  # the converter raises bare ValueErrors for unsupported ops
        raise ConversionError(
            f"the TF.js converter could not convert the base model: {error}\n"
            "Hint: the model may use an operation TF.js does not support; cut it at an earlier layer."
        ) from error


def mark_feature_map(model_dir: Path) -> dict | None:
    """Takes a two-output model's feature map out of the signature and names it in the metadata:
    {"node", "rows", "cols", "channels"}, or None for a model with one output.

    Every consumer that calls `model.predict(x)` keeps getting the embedding tensor (the page's
    fallback, the model download's classifier.js, host pages); `model.execute(x, [embedding node,
    map node])` gives both from one pass."""
    path = model_dir / "model.json"
    model_json = json.loads(path.read_text())
    outputs = model_json["signature"]["outputs"]
    ranks = {key: len(value["tensorShape"]["dim"]) for key, value in outputs.items()}
    maps = [key for key, rank in ranks.items() if rank == 4]
    if len(outputs) != 2 or len(maps) != 1:
        return None
    spec = outputs.pop(maps[0])
    _, rows, cols, channels = (int(dim["size"]) for dim in spec["tensorShape"]["dim"])
    feature_map = {"node": spec["name"].split(":")[0], "rows": rows, "cols": cols, "channels": channels}
    model_json.setdefault("userDefinedMetadata", {})[FEATURE_MAP_KEY] = feature_map
    path.write_text(json.dumps(model_json))
    return feature_map


def read_float_weights(model_dir: Path) -> list[list[dict]]:
    prepare_tensorflowjs_import()
    from tensorflowjs.read_weights import read_weights

    manifest = json.loads((model_dir / "model.json").read_text())["weightsManifest"]
    return read_weights(manifest, str(model_dir))


def uint8_channel_error(values: np.ndarray) -> float:
    """How badly the converter's 8 bits (one scale per tensor) serve this tensor's channels: the
    90th percentile over output channels of each channel's RMS error relative to its RMS.

    Per channel, because folded batch norms give the channels of one kernel very different ranges
    and a narrow channel gets only a few of the 256 levels; not the worst channel, because one dead
    or tiny channel rarely matters. Measured on Lite0, this order lets 17 of 37 large tensors be
    8-bit (4.60 MB) where the whole-tensor error allowed 12 (5.56 MB), at the same fidelity bound.
    """
    prepare_tensorflowjs_import()
    from tensorflowjs.quantization import dequantize_weights, quantize_weights

    if values.dtype != np.float32 or values.size == 0:
        return 0.0
    quantized, meta = quantize_weights(values, np.uint8)
    restored = dequantize_weights(quantized, meta, np.float32)
    # Kernels are [..., in, out]; a depthwise kernel is [kh, kw, channels, 1].
    axis = values.ndim - 1 if values.shape[-1] > 1 or values.ndim == 1 else values.ndim - 2
    others = tuple(i for i in range(values.ndim) if i != axis)
    error = np.sqrt(np.mean((values - restored).astype(np.float64) ** 2, axis=others))
    scale = np.sqrt(np.mean(values.astype(np.float64) ** 2, axis=others))
    return float(np.percentile(error / np.maximum(scale, 1e-12), 90))


def _fnmatch_literal(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in name)


@dataclass(frozen=True)
class Encoding:
    """A weight encoding: a name for people and the converter's quantization map."""

    name: str
    dtype_map: dict | None

    @classmethod
    def uniform(cls, dtype: str) -> Encoding:
        return cls(dtype, None if dtype == "none" else {dtype: True})

    @classmethod
    def mixed(cls, eight_bit: list[str], large_count: int) -> Encoding:
        return cls(
            f"mixed (uint8 for {len(eight_bit)} of {large_count} large tensors, float16 for the rest)",
            {"uint8": [_fnmatch_literal(name) for name in eight_bit], "float16": True},
        )


def large_tensors_by_error(groups: list[list[dict]]) -> list[str]:
    """Names of the large float tensors, those that suffer least from 8 bits first."""
    large = [
        w
        for group in groups
        for w in group
        if w["data"].dtype == np.float32 and w["data"].size >= MIXED_MIN_ELEMENTS
    ]
    return [w["name"] for w in sorted(large, key=lambda w: uint8_channel_error(w["data"]))]


def write_encoding(float_dir: Path, output_dir: Path, encoding: Encoding, groups: list[list[dict]]) -> int:
    """Writes model.json + shards of the float model in another encoding; returns their total size."""
    prepare_tensorflowjs_import()
    from tensorflowjs.write_weights import write_weights

    output_dir.mkdir(parents=True)
    model_json = json.loads((float_dir / "model.json").read_text())
    model_json["weightsManifest"] = write_weights(
        groups, str(output_dir), write_manifest=False, quantization_dtype_map=encoding.dtype_map
    )
    (output_dir / "model.json").write_text(json.dumps(model_json))
    return sum(path.stat().st_size for path in output_dir.iterdir())


def measure(model_dir: Path, probes: Probes, embed: Embedder) -> Fidelity:
    return fidelity_of(embed(model_dir, probes.pixels), probes, "the converted model")


def fidelity_of(outputs: Outputs | np.ndarray, probes: Probes, what: str) -> Fidelity:
    """How closely the outputs for the probe photos (from `what`, for the message) follow the
    Keras model's: cosines of the embeddings and of the flattened feature maps, and the ImageNet
    top-1 agreement where the probes have a classifier. A bare array is embeddings without maps."""
    if not isinstance(outputs, Outputs):
        outputs = Outputs(np.asarray(outputs), None)
    embeddings = outputs.embeddings
    if embeddings.shape != probes.embeddings.shape:
        raise ConversionError(
            f"{what} returns embeddings of shape {embeddings.shape}; "
            f"the Keras model returns {probes.embeddings.shape}"
        )
    cosines = [cosine(a, b) for a, b in zip(embeddings, probes.embeddings, strict=True)]
    float_top1, converted_top1 = probes.top1(probes.embeddings), probes.top1(embeddings)
    agreement = None if float_top1 is None else float(np.mean(float_top1 == converted_top1))
    map_min = map_mean = None
    if probes.maps is not None and outputs.maps is not None:
        expected = probes.maps.reshape(len(probes.maps), -1)
        if outputs.maps.shape != expected.shape:
            raise ConversionError(
                f"{what} returns feature maps of {outputs.maps.shape[1:]} values; "
                f"the Keras model's have {expected.shape[1:]}"
            )
        map_cosines = [cosine(a, b) for a, b in zip(outputs.maps, expected, strict=True)]
        map_min, map_mean = min(map_cosines), float(np.mean(map_cosines))
    return Fidelity(min(cosines), float(np.mean(cosines)), agreement, map_min, map_mean)


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a.astype(np.float64), b.astype(np.float64)
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / denominator if denominator else 0.0


@dataclass(frozen=True)
class ConversionResult:
    chosen: Measured
    tried: list[Measured]

    def to_json(self) -> dict:
        return {"chosen": asdict(self.chosen), "tried": [asdict(m) for m in self.tried]}

    @classmethod
    def from_json(cls, data: dict) -> ConversionResult:
        def load(item: dict) -> Measured:
            return Measured(item["encoding"], item["size_bytes"], Fidelity(**item["fidelity"]))

        return cls(load(data["chosen"]), [load(item) for item in data["tried"]])


class EncodingSearch:
    """Writes and measures encodings of one converted float model."""

    def __init__(
        self,
        float_dir: Path,
        probes: Probes,
        embed: Embedder,
        floors: FidelityFloors,
        progress: Progress = NO_PROGRESS,
    ) -> None:
        self.float_dir = float_dir
        self.groups = read_float_weights(float_dir)
        self.probes = probes
        self.embed = embed
        self.floors = floors
        self.progress = progress
        self.tried: list[tuple[Measured, Path]] = []

    @property
    def _on_probes(self) -> str:
        return f"on {len(self.probes.pixels)} probe photos"

    def measure(self, encoding: Encoding) -> Measured:
        directory = self.float_dir.parent / f"candidate-{len(self.tried)}"
        size = write_encoding(self.float_dir, directory, encoding, self.groups)
        measured = Measured(encoding.name, size, measure(directory, self.probes, self.embed))
        log.debug("measured %s", measured.describe())
        self.tried.append((measured, directory))
        self.progress.advance()
        return measured

    def explicit(self, dtype: str) -> Measured:
        """Measures the one encoding the author asked for."""
        self.progress.start(f"Measuring the {dtype} encoding {self._on_probes}", 1)
        return self.measure(Encoding.uniform(dtype))

    def passes(self, measured: Measured) -> bool:
        return measured.fidelity.keeps(self.floors)

    def smallest_passing_mixed(self, order: list[str]) -> Measured | None:
        """Binary search for the most large tensors (of `order`, those that suffer least from 8 bits
        first) that can be 8-bit; fidelity falls as more are."""
        low, high, best = 1, len(order) - 1, None
        while low <= high:
            count = (low + high) // 2
            measured = self.measure(Encoding.mixed(order[:count], len(order)))
            if self.passes(measured):
                best, low = measured, count + 1
            else:
                high = count - 1
        return best

    def auto(self) -> Measured | None:
        """The smallest encoding that passes: all-uint8, else the best mixed, else 16 or 32 bits."""
        order = large_tensors_by_error(self.groups)
        # uint8, then at most as many mixed encodings as the binary search over 1 … n-1 takes.
        most = 1 + max(len(order) - 1, 0).bit_length()
        self.progress.start(f"Measuring weight encodings {self._on_probes}", most)
        uint8 = self.measure(Encoding.uniform("uint8"))
        if self.passes(uint8):
            return uint8
        mixed = self.smallest_passing_mixed(order)
        if mixed is not None:
            return mixed
        fallbacks = ("float16", "uint16", "none")
        self.progress.start(f"Measuring 16- and 32-bit encodings {self._on_probes}", len(fallbacks))
        for dtype in fallbacks:
            measured = self.measure(Encoding.uniform(dtype))
            if self.passes(measured):
                return measured
        return None

    def directory_of(self, chosen: Measured) -> Path:
        return next(directory for measured, directory in self.tried if measured is chosen)


def convert_and_quantize(
    keras_model: object,
    probes: Probes,
    requested: str,
    floors: FidelityFloors,
    output_dir: Path,
    embed: Embedder,
    progress: Progress = NO_PROGRESS,
) -> ConversionResult:
    """Converts, measures the requested encoding (or, for `auto`, searches for the smallest that
    passes) and writes the chosen model into `output_dir`. An explicit encoding is kept whatever
    its fidelity: whether it may ship is decided by the caller, from the measurement.

    Two units of the caller's current progress step are done here (export, conversion); the
    measurements are a step of their own."""
    with tempfile.TemporaryDirectory(prefix="teachkit-convert-") as work_text:
        work = Path(work_text)
        log.debug("exporting the embedding model as a SavedModel")
        export_saved_model(keras_model, work / "saved_model")
        progress.advance()
        log.debug("converting to a TF.js graph model")
        convert_saved_model(work / "saved_model", work / "float")
        mark_feature_map(work / "float")
        progress.advance()
        search = EncodingSearch(work / "float", probes, embed, floors, progress)
        chosen = search.auto() if requested == "auto" else search.explicit(requested)
        tried = [measured for measured, _ in search.tried]
        if chosen is None:
            raise ConversionError(
                "no weight encoding keeps the converted model faithful to the float model:\n"
                + "\n".join(f"  {m.describe()}" for m in tried)
                + f"\nHint: lower {floors.describe()} only if you accept a less accurate model."
            )
        shutil.copytree(search.directory_of(chosen), output_dir)
        return ConversionResult(chosen, tried)


def tfjs_embedder(prebuilt: PrebuiltJs) -> Embedder:
    """An Embedder that runs the graph model in Node.js with TF.js's WASM backend, as the page does:
    embeddings, and feature maps from the same pass if the model has them."""
    wasm_dir = prebuilt.packages.wasm_binaries()[0].parent

    def embed(model_dir: Path, pixels: np.ndarray) -> Outputs:
        with tempfile.TemporaryDirectory(prefix="teachkit-embed-") as tmp_text:
            tmp = Path(tmp_text)
            np.ascontiguousarray(pixels, dtype=np.float32).tofile(tmp / "in.f32")
            size = str(pixels.shape[1])
            printed = prebuilt.run_tool(
                "embed_node.mjs",
                str(model_dir),
                str(tmp / "in.f32"),
                str(tmp / "out.f32"),
                size,
                str(wasm_dir),
                str(tmp / "map.f32"),
            )
            return read_outputs(tmp / "out.f32", tmp / "map.f32", len(pixels), printed)

    return embed


def read_outputs(embeddings: Path, maps: Path, count: int, printed: str) -> Outputs:
    """What embed_node.mjs or embed_litert.mjs wrote; the last line it printed says whether it wrote maps."""
    report = json.loads(printed.strip().splitlines()[-1])
    values = np.fromfile(embeddings, dtype=np.float32).reshape(count, -1)
    if not report.get("map"):
        return Outputs(values, None)
    return Outputs(values, np.fromfile(maps, dtype=np.float32).reshape(count, -1))
