"""The base model's last feature map, a second output beside the embedding (issue 21): every base model
of the catalogue has one whose mean over the cells is the embedding; the TF.js graph model and the
.tflite carry it without moving the embedding; the build measures it with the real Node.js tools
and never ships an encoding whose map falls below its floor (model.min_map_fidelity)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from builder.convert import (
    FEATURE_MAP_KEY,
    FidelityFloors,
    Outputs,
    Probes,
    convert_and_quantize,
    cosine,
    tfjs_embedder,
)
from builder.litert import convert_for_litert, litert_embedder
from builder.models.catalog import ALPHAS, INPUT_SIZES
from builder.models.keras_apps import KERAS_APPS, build_keras_app
from builder.prebuilt import prebuilt_js
from builder.probes import probe_pixels

# Every test here runs TensorFlow (Keras models, conversions): none belongs to the quick tier.
pytestmark = pytest.mark.convert

# The float model's embedding is the mean of its map's cells up to float32 rounding: absolute for
# Lite0 (values ≤ 6), relative to the values' size for random weights fed 0–255 pixels.
POOLED_TOLERANCE = 1e-5
SIZE = 32
DEFAULT_FLOORS = FidelityFloors(0.99, 0.98)  # model.min_fidelity, model.min_map_fidelity


def assert_map_pools_to_embedding(model: object, pixels: np.ndarray) -> np.ndarray:
    """The mapped model's embedding is keras_model's, and the mean of its map's cells; returns the maps."""
    embeddings, maps = model.mapped_model.predict(pixels, verbose=0)
    assert maps.shape[1:] == model.feature_map_shape
    assert maps.shape[-1] == model.embedding_size
    single = model.keras_model.predict(pixels, verbose=0)
    tolerance = POOLED_TOLERANCE * max(1.0, float(np.abs(embeddings).max()))
    assert np.abs(embeddings - single).max() <= tolerance
    assert np.abs(maps.mean(axis=(1, 2)) - embeddings).max() <= tolerance
    return maps


def test_lite0_map_is_the_head_before_pooling():
    from builder.models.efficientnet_lite0 import build_efficientnet_lite0

    model = build_efficientnet_lite0()
    _, pixels = probe_pixels(model.input_size)

    maps = assert_map_pools_to_embedding(model, pixels)

    assert model.feature_map_shape == (7, 7, 1280)
    assert maps.min() >= 0 and maps.max() <= 6  # the head's ReLU6
    assert model.mapped_model.outputs[1].name.startswith(model.keras_model.get_layer("pool").input.name)


@pytest.mark.parametrize("base", sorted(KERAS_APPS))
def test_every_keras_application_has_a_map(base, tmp_path):
    """With random weights of the same shape (ImageNet's need the internet), through the real loader."""
    import keras

    app = KERAS_APPS[base]
    size = min(INPUT_SIZES[base])
    alpha = ALPHAS[base][0] if app.takes_alpha else None
    options = {"input_shape": (size, size, 3), "include_top": False, "pooling": "avg", "weights": None}
    if alpha is not None:
        options["alpha"] = alpha
    weights = tmp_path / f"{base}.weights.h5"
    getattr(keras.applications, app.constructor)(**options).save_weights(weights)
    model = build_keras_app(base, alpha, size, weights)
    pixels = np.random.default_rng(0).uniform(0, 255, (2, size, size, 3)).astype(np.float32)

    assert_map_pools_to_embedding(model, pixels)
    rows, cols, _ = model.feature_map_shape
    assert rows == cols == -(-size // 32)  # every one of them strides 32 in all


def own_network(path: Path) -> Path:
    import keras

    keras.utils.set_random_seed(0)
    network = keras.Sequential(
        [
            keras.Input((SIZE, SIZE, 3), name="own_pixels"),
            keras.layers.Conv2D(8, 3, strides=2, activation="relu", name="own_conv"),
            keras.layers.GlobalAveragePooling2D(name="own_pool"),
            keras.layers.Dense(4, name="own_dense"),
        ]
    )
    network.save(path)
    return path


@pytest.mark.parametrize(("cut", "has_map"), [("own_conv", True), ("own_pool", True), ("own_dense", False)])
def test_own_model_has_a_map_where_its_embedding_is_a_mean(cut, has_map, tmp_path):
    from builder.models.custom import build_custom_model

    model = build_custom_model(own_network(tmp_path / "own.keras"), cut, "0-255")
    pixels = np.random.default_rng(0).uniform(0, 255, (2, SIZE, SIZE, 3)).astype(np.float32)

    if has_map:
        assert_map_pools_to_embedding(model, pixels)
        assert model.feature_map_shape == (15, 15, 8)
    else:
        assert model.mapped_model is None and model.feature_map_shape is None
        assert model.converted_model is model.keras_model


@pytest.fixture(scope="module")
def tiny() -> tuple[object, Probes]:
    """A small two-output Keras model (embedding, map) and what it makes of a few pixel grids."""
    import keras

    keras.utils.set_random_seed(0)
    pixels_in = keras.Input((SIZE, SIZE, 3), name="tinymap_pixels")
    x = keras.layers.Rescaling(1 / 255, name="tinymap_scale")(pixels_in)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu", name="tinymap_conv1")(x)
    head = keras.layers.Conv2D(16, 3, strides=2, activation="relu", name="tinymap_conv2")(x)
    pooled = keras.layers.GlobalAveragePooling2D(name="tinymap_pool")(head)
    model = keras.Model(pixels_in, [pooled, head], name="tinymap")
    pixels = np.random.default_rng(0).uniform(0, 255, (4, SIZE, SIZE, 3)).astype(np.float32)
    embeddings, maps = model.predict(pixels, verbose=0)
    return model, Probes(pixels, embeddings, None, maps)


def test_tfjs_model_keeps_predict_and_names_its_map(tiny, tmp_path):
    model, probes = tiny
    result = convert_and_quantize(
        model, probes, "float16", DEFAULT_FLOORS, tmp_path / "model", tfjs_embedder(prebuilt_js())
    )

    model_json = json.loads((tmp_path / "model" / "model.json").read_text())
    outputs = model_json["signature"]["outputs"]
    assert [len(o["tensorShape"]["dim"]) for o in outputs.values()] == [2]  # predict: the embedding
    feature_map = model_json["userDefinedMetadata"][FEATURE_MAP_KEY]
    assert {k: feature_map[k] for k in ("rows", "cols", "channels")} == {"rows": 7, "cols": 7, "channels": 16}
    fidelity = result.chosen.fidelity
    assert fidelity.map_min_cosine >= 0.999 and fidelity.min_cosine >= 0.999
    assert "feature map cosine" in fidelity.describe()


def test_tflite_has_both_outputs_and_the_map_takes_part_in_the_choice(tiny, tmp_path):
    model, probes = tiny
    embed = litert_embedder(prebuilt_js())
    result = convert_for_litert(model, probes, DEFAULT_FLOORS, tmp_path / "out", embed)

    assert result.chosen is not None
    for measured in result.tried:
        assert measured.fidelity.map_min_cosine is not None, measured.describe()
    assert result.chosen.fidelity.keeps(DEFAULT_FLOORS)
    by_build, _ = embed(tmp_path / "out" / "model.tflite", probes.pixels)
    for build, outputs in by_build.items():
        assert outputs.maps.shape == (len(probes.pixels), 7 * 7 * 16), build
        # The embedding is the pooled map the runtime computed, up to the int8 output's rounding.
        means = outputs.maps.reshape(-1, 49, 16).mean(axis=1)
        for mean, embedding in zip(means, outputs.embeddings, strict=True):
            assert cosine(mean, embedding) >= 0.999, build


def stand_in_runtime(probes, maps):
    """A LiteRT embedder whose embeddings are exact and whose maps are `maps`."""

    def embed(path: Path, pixels: np.ndarray) -> tuple[dict, dict]:
        answer = Outputs(probes.embeddings, maps)
        return {"relaxed": answer, "compat": answer}, {"relaxed": 1.0, "compat": 1.0}

    return embed


def test_an_encoding_that_keeps_the_embedding_but_not_the_map_is_not_shipped(tiny, tmp_path):
    model, probes = tiny
    noise = np.random.default_rng(1).normal(size=(len(probes.pixels), 7 * 7 * 16)).astype(np.float32)

    result = convert_for_litert(
        model, probes, DEFAULT_FLOORS, tmp_path / "out", stand_in_runtime(probes, noise)
    )

    assert result.chosen is None
    for measured in result.tried:
        assert measured.fidelity.min_cosine > 0.9999 > 0.98 > measured.fidelity.map_min_cosine
    assert not (tmp_path / "out").exists()


def test_the_maps_floor_is_the_authors_min_map_fidelity(tiny, tmp_path):
    """A map at cosine ≈ 0.985 (what Lite0's int8 .tflite keeps) ships under the default 0.98 and
    not when the author holds the map to the embedding's 0.99."""
    model, probes = tiny
    maps = probes.maps.reshape(len(probes.pixels), -1)
    rng = np.random.default_rng(2)
    noise = rng.normal(size=maps.shape).astype(np.float32)
    noise *= (
        np.linalg.norm(maps, axis=1, keepdims=True) / np.linalg.norm(noise, axis=1, keepdims=True)
    ) * 0.175
    close = maps + noise  # cosine ≈ 1 / sqrt(1 + 0.175²) ≈ 0.985
    runtime = stand_in_runtime(probes, close)

    kept = convert_for_litert(model, probes, FidelityFloors(0.99, 0.98), tmp_path / "a", runtime)
    held = convert_for_litert(model, probes, FidelityFloors(0.99, 0.99), tmp_path / "b", runtime)

    assert kept.chosen is not None and 0.98 <= kept.chosen.fidelity.map_min_cosine < 0.99
    assert held.chosen is None and not (tmp_path / "b").exists()


def test_lite0_build_maps_match_python_in_each_runtime(lite0_sites):
    """The shipped TF.js model and .tflite, run again by the real Node.js tools on the probe photos,
    give maps that follow the float Keras model's within the map's floor (model.min_map_fidelity);
    the build's manifest reports the map for every candidate it measured."""
    from builder.models.efficientnet_lite0 import build_efficientnet_lite0

    site = lite0_sites("auto")
    manifest = json.loads((site / "manifest.json").read_text())
    floor = DEFAULT_FLOORS.feature_map  # the test project keeps the defaults
    model = build_efficientnet_lite0()
    _, pixels = probe_pixels(model.input_size)
    _, maps = model.mapped_model.predict(pixels, verbose=0)
    expected = maps.reshape(len(pixels), -1)
    prebuilt = prebuilt_js()

    tfjs = tfjs_embedder(prebuilt)(site / "model", pixels)
    litert, _ = litert_embedder(prebuilt)(site / "model" / "model.tflite", pixels)

    for runtime, outputs in [("TF.js", tfjs), *((f"LiteRT.js {b}", o) for b, o in litert.items())]:
        worst = min(cosine(a, b) for a, b in zip(outputs.maps, expected, strict=True))
        assert worst >= floor, f"{runtime}: feature map cosine {worst:.4f}"
    chosen = manifest["quantization"]["chosen"]["fidelity"]
    assert chosen["map_min_cosine"] >= floor
    assert manifest["litert"]["chosen"]["fidelity"]["map_min_cosine"] >= floor
    for measured in [*manifest["quantization"]["tried"], *manifest["litert"]["tried"]]:
        assert measured["fidelity"]["map_min_cosine"] is not None, measured["encoding"]
