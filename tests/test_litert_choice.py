"""The build's choice of a .tflite for LiteRT.js and of the runtime: an encoding below min_fidelity
is never shipped, every measured candidate is reported, a single file keeps TF.js."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from builder.convert import FidelityFloors, Probes
from builder.errors import TeachkitError
from builder.litert import LiteResult, convert_for_litert
from builder.runtime import choose_runtime

SIZE = 32
FLOORS = FidelityFloors(0.99, 0.98)  # model.min_fidelity, model.min_map_fidelity


@pytest.fixture(scope="module")
def tiny() -> tuple[object, Probes]:
    """A real (small) Keras embedding model and its float embeddings of a few pixel grids."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            # Named: Keras numbers unnamed layers per process, and other tests read their names.
            keras.Input((SIZE, SIZE, 3), name="tiny_pixels"),
            keras.layers.Rescaling(1 / 255, name="tiny_scale"),
            keras.layers.Conv2D(8, 3, activation="relu", name="tiny_conv1"),
            keras.layers.Conv2D(16, 3, activation="relu", name="tiny_conv2"),
            keras.layers.GlobalAveragePooling2D(name="tiny_pool"),
        ],
        name="tiny_embedder",
    )
    pixels = np.random.default_rng(0).uniform(0, 255, (4, SIZE, SIZE, 3)).astype(np.float32)
    return model, Probes(pixels, np.asarray(model.predict(pixels, verbose=0)), None)


def fake_litert(probes: Probes, faithful: set[int]) -> object:
    """Stands in for LiteRT.js in Node.js: candidate N answers Keras's embeddings if N is in
    `faithful`, otherwise noise far from them."""
    noise = np.random.default_rng(1).normal(size=probes.embeddings.shape).astype(np.float32)

    def embed(model: Path, pixels: np.ndarray) -> tuple[dict, dict]:
        index = int(model.stem.rsplit("-", 1)[1])
        answer = probes.embeddings if index in faithful else noise
        return {"relaxed": answer, "compat": answer}, {"relaxed": 1.0, "compat": 2.0}

    return embed


def test_the_first_faithful_candidate_ships_and_every_one_is_reported(tiny, tmp_path):
    model, probes = tiny
    result = convert_for_litert(model, probes, FLOORS, tmp_path / "out", fake_litert(probes, {1}))

    assert [m.encoding for m in result.tried] == ["int8", "float16 weights"]
    assert result.tried[0].fidelity.min_cosine < 0.99
    assert result.chosen is result.tried[1]
    assert (tmp_path / "out" / "model.tflite").stat().st_size == result.chosen.size_bytes
    assert LiteResult.from_json(result.to_json()) == result


def test_no_candidate_below_min_fidelity_is_ever_written(tiny, tmp_path):
    model, probes = tiny
    result = convert_for_litert(model, probes, FLOORS, tmp_path / "out", fake_litert(probes, set()))

    assert result.chosen is None
    assert len(result.tried) == 2
    assert not (tmp_path / "out").exists()


class _Prepared:
    def __init__(self, litert: LiteResult | None) -> None:
        self.litert = litert


def test_runtime_choice(tiny, tmp_path):
    model, probes = tiny
    passing = _Prepared(convert_for_litert(model, probes, FLOORS, tmp_path / "a", fake_litert(probes, {0})))
    failing = _Prepared(convert_for_litert(model, probes, FLOORS, tmp_path / "b", fake_litert(probes, set())))

    assert choose_runtime("auto", "hosted", passing).name == "litert"
    assert choose_runtime("auto", "single_file", passing).name == "tfjs"
    assert choose_runtime("auto", "hosted", failing).name == "tfjs"
    assert choose_runtime("tfjs", "hosted", passing).name == "tfjs"
    assert choose_runtime("litert", "hosted", passing).name == "litert"
    # A named TF.js encoding (quantization = "float16") keeps TF.js, unless LiteRT.js is asked for.
    assert choose_runtime("auto", "hosted", passing, "float16").name == "tfjs"
    assert choose_runtime("litert", "hosted", passing, "float16").name == "litert"
    with pytest.raises(TeachkitError, match="no LiteRT.js encoding keeps"):
        choose_runtime("litert", "hosted", failing)
    with pytest.raises(TeachkitError, match="single file"):
        choose_runtime("litert", "single_file", passing)
