"""The base model's own ImageNet classifier, shipped beside the base model for the page's "What the
base model sees" panel: embedding → 1,000 ImageNet probabilities.

Its kernel is quantized to uint8 per class (an affine scale and minimum for each of the 1,000
columns) and checked on the probe photos' float embeddings against the float classifier: the same
top-1 class on every probe and at least 4 of the top 5 on each. When uint8 misses that, float16
ships instead. The page reads it with `templates/app/imagenet_classifier.js`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CLASSIFIER_JSON = "classifier.json"
CLASSIFIER_BIN = "classifier.bin"
TOP = 5
MIN_TOP5_OVERLAP = 4


@dataclass(frozen=True)
class ClassifierCheck:
    encoding: str
    top1_agreement: float
    min_top5_overlap: int
    max_probability_error: float


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _top(probabilities: np.ndarray) -> np.ndarray:
    return np.argsort(-probabilities, axis=1)[:, :TOP]


def _encode(kernel: np.ndarray, encoding: str) -> tuple[list[bytes], np.ndarray]:
    """The kernel's bytes as the page reads them, and the kernel the page will compute with."""
    if encoding == "float16":
        half = kernel.astype(np.float16)
        return [half.tobytes()], half.astype(np.float32)
    low = kernel.min(axis=0)
    scale = np.maximum(kernel.max(axis=0) - low, 1e-12) / 255
    codes = np.clip(np.rint((kernel - low) / scale), 0, 255).astype(np.uint8)
    return [codes.tobytes(), low.astype("<f4").tobytes(), scale.astype("<f4").tobytes()], (
        codes * scale + low
    ).astype(np.float32)


def check(
    classifier: tuple[np.ndarray, np.ndarray],
    shipped_kernel: np.ndarray,
    embeddings: np.ndarray,
    encoding: str,
) -> ClassifierCheck:
    kernel, bias = classifier
    exact = _softmax(embeddings @ kernel + bias)
    shipped = _softmax(embeddings @ shipped_kernel + bias)
    top_exact, top_shipped = _top(exact), _top(shipped)
    return ClassifierCheck(
        encoding=encoding,
        top1_agreement=float(np.mean(top_exact[:, 0] == top_shipped[:, 0])),
        min_top5_overlap=min(len(set(a) & set(b)) for a, b in zip(top_exact, top_shipped, strict=True)),
        max_probability_error=float(np.abs(exact - shipped).max()),
    )


def write_classifier(
    classifier: tuple[np.ndarray, np.ndarray], probe_embeddings: np.ndarray, directory: Path
) -> ClassifierCheck:
    """Writes classifier.json and classifier.bin into `directory`: uint8 when faithful, else float16."""
    kernel, bias = (np.asarray(part, dtype=np.float32) for part in classifier)
    for encoding in ("uint8", "float16"):
        parts, shipped_kernel = _encode(kernel, encoding)
        result = check((kernel, bias), shipped_kernel, probe_embeddings, encoding)
        if result.top1_agreement == 1 and result.min_top5_overlap >= MIN_TOP5_OVERLAP:
            break
    directory.mkdir(parents=True, exist_ok=True)
    (directory / CLASSIFIER_BIN).write_bytes(b"".join([*parts, bias.astype("<f4").tobytes()]))
    (directory / CLASSIFIER_JSON).write_text(
        json.dumps(
            {
                "inputs": int(kernel.shape[0]),
                "classes": int(kernel.shape[1]),
                "encoding": result.encoding,
                # uint8: kernel codes [inputs × classes], then per class a float32 minimum and scale;
                # float16: the kernel [inputs × classes]; then, either way, the float32 bias.
                "check": {
                    "top1_agreement": result.top1_agreement,
                    "min_top5_overlap": result.min_top5_overlap,
                    "max_probability_error": round(result.max_probability_error, 6),
                    "probes": int(len(probe_embeddings)),
                },
            }
        )
    )
    return result
