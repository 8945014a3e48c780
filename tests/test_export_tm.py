"""The tm export (a Teachable Machine image model folder), loaded by its real clients and nothing of
ours: @teachablemachine/image with the TF.js 1.3.1 it is built against, and ml5 with the TF.js it
bundles, both from node_modules on a loopback server in headless Chromium. Each predicts the
held-out photos and must give the reference labels and, for these square photos, its
probabilities. The project file is written in Python (tests/support/trained_project.py), so the
browser only runs the clients and trains nothing; the reference is the Python model's own
predictions (tests/test_export.py's parity test covers a file the page trained). The Python side
checks the rebuilding of a Keras 3 network in TF.js 1.3.1's layers on a small network that has
every kind of layer it rewrites."""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import expect

from builder.errors import TrainedFileError
from builder.export.tm import export_tm, translate
from builder.progress import NO_PROGRESS
from builder.trained import read_trained

from .support.browser import record_traffic

REPO = Path(__file__).resolve().parent.parent
NODE_MODULES = REPO / "node_modules"
CLIENT_FILES = {
    "tf-1.3.1.min.js": NODE_MODULES / "tfjs-for-tm/dist/tf.min.js",
    "tm-image.min.js": NODE_MODULES / "@teachablemachine/image/dist/teachablemachine-image.min.js",
    "ml5.min.js": NODE_MODULES / "ml5/dist/ml5.min.js",
}
PAGES = {
    "tm.html": ["tf-1.3.1.min.js", "tm-image.min.js"],
    "ml5.html": ["ml5.min.js"],
}
MIN_PHOTOS = 30
MIN_AGREEMENT = 0.97
MAX_DIFFERENCE = 0.05
TEMPERATURE = 8.0
# Set when the reference was the page, whose base model runs int8 on LiteRT.js (cosine ≥ 0.99 to the
# float base the export carries); tempered probabilities are far from saturated, so that difference
# showed: up to 0.07 measured. The Python reference runs the float base, as the export does.
MAX_TEMPERED_DIFFERENCE = 0.1
# Every layer class that TF.js 1.3.1's tfjs-layers registers and the export may write.
TFJS_1_3_1_LAYERS = {
    "InputLayer",
    "Conv2D",
    "DepthwiseConv2D",
    "Dense",
    "BatchNormalization",
    "ReLU",
    "Activation",
    "Add",
    "Multiply",
    "Average",
    "Maximum",
    "Minimum",
    "Concatenate",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "MaxPooling2D",
    "AveragePooling2D",
    "ZeroPadding2D",
    "Reshape",
    "Flatten",
}


def client_script(body: str) -> str:
    """An async function of [folders, photos] for page.evaluate: `images` holds an <img> decoded
    from each PNG (base64), then `body` runs the client on them."""
    return (
        """async ([folders, photos]) => {
  const images = [];
  for (const photo of photos) {
    const image = new Image();
    image.src = "data:image/png;base64," + photo;
    await image.decode();
    images.push(image);
  }
"""
        + body
        + "}"
    )


# Each client loads every model folder it is given and predicts an <img> decoded from each PNG the
# reference was given; it is told nothing else.
TM_PREDICT = client_script("""  const results = {};
  const labels = {};
  for (const folder of folders) {
    const model = await tmImage.load(folder + "model.json", folder + "metadata.json");
    labels[folder] = model.getClassLabels();
    results[folder] = [];
    for (const image of images) {
      const predicted = await model.predict(image);
      results[folder].push(Object.fromEntries(predicted.map((p) => [p.className, p.probability])));
    }
  }
  return { tfjs: tf.version.tfjs, backend: tf.getBackend(), labels, results };
""")
ML5_CLASSIFY = client_script("""  const results = {};
  for (const folder of folders) {
    const classifier = await ml5.imageClassifier(folder + "model.json");
    results[folder] = [];
    for (const image of images) {
      const classified = await classifier.classify(image);
      results[folder].push(Object.fromEntries(classified.map((c) => [c.label, c.confidence])));
    }
  }
  return { tfjs: ml5.tf.version.tfjs, backend: ml5.tf.getBackend(), results };
""")


@pytest.fixture(scope="module")
def dense(python_trained):
    """The dense project file written in Python, and the Python model's predictions (the reference)."""
    return python_trained("dense")


@pytest.fixture(scope="module")
def exported(dense, tmp_path_factory) -> tuple[Path, list[Path]]:
    folder = tmp_path_factory.mktemp("tm-export")
    return folder, export_tm(read_trained(dense.project_file), folder, NO_PROGRESS)


@pytest.fixture(scope="module")
def tempered(dense, tmp_path_factory) -> Path:
    """The export of the same file with the head's logits divided by TEMPERATURE. The reference is
    sure of every held-out photo (top probability 0.999 or more), where probabilities that agree say
    little; these spread out, and the reference's own follow from its probabilities exactly. Without its
    samples, too, as the page's model download comes: nothing to check the rebuilding on."""
    trained = read_trained(dense.project_file)
    weights = list(trained.head.weights)
    weights[-2:] = [weights[-2] / TEMPERATURE, weights[-1] / TEMPERATURE]  # the last Dense layer
    head = dataclasses.replace(trained.head, weights=weights)
    cooler = dataclasses.replace(trained, head=head, samples=[])
    folder = tmp_path_factory.mktemp("tm-tempered")
    export_tm(cooler, folder, NO_PROGRESS)
    return folder


def tempered_page(dense) -> list[tuple[Path, str, dict[str, float]]]:
    """What the reference would have said with the tempered head: softmax(log p / T) is
    softmax(z / T) for its logits z, since log p is z less one constant."""
    tempered = []
    for photo, _, confidences in dense.predictions:
        names = list(confidences)
        probabilities = np.array([confidences[name] for name in names], dtype=np.float64)
        assert probabilities.min() > 0, "an underflowed probability has no logarithm"
        logits = np.log(probabilities) / TEMPERATURE
        softened = np.exp(logits - logits.max())
        softened /= softened.sum()
        label = names[int(np.argmax(softened))]
        tempered.append((photo, label, dict(zip(names, softened.tolist(), strict=True))))
    return tempered


@pytest.fixture(scope="module")
def client_site(exported, tempered, tmp_path_factory) -> Path:
    """The clients' UMD files from node_modules, a page for each, and the exports under model/
    and tempered/."""
    site = tmp_path_factory.mktemp("tm-clients")
    for name, source in CLIENT_FILES.items():
        assert source.is_file(), f"{source} is missing; run npm ci"
        shutil.copyfile(source, site / name)
    for page, scripts in PAGES.items():
        tags = "".join(f'<script src="{script}"></script>' for script in scripts)
        (site / page).write_text(
            f'<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">{tags}<body>'
        )
    links = "".join(f'<a href="{page}">{page}</a> ' for page in PAGES)  # an index.html makes it a site
    (site / "index.html").write_text(f'<!doctype html><meta charset="utf-8"><body>{links}')
    shutil.copytree(exported[0], site / "model")
    shutil.copytree(tempered, site / "tempered")
    return site


def photos_base64(dense) -> list[str]:
    return [base64.b64encode(photo.read_bytes()).decode() for photo, _, _ in dense.predictions]


def compare_with_page(page, client: str, results: list[dict[str, float]]) -> tuple[float, float]:
    """(share of photos given the reference label, largest difference of any class's probability);
    printed with how sure the reference was (saturated probabilities hide differences). `page` is
    the reference's (photo, label, probabilities), as tests/support/visitor.py PageTrained has them."""
    assert len(results) == len(page) >= MIN_PHOTOS
    agree, largest = 0, 0.0
    for (_, label, confidences), found in zip(page, results, strict=True):
        assert set(found) == set(confidences), found
        agree += max(found, key=found.get) == label
        largest = max(largest, *(abs(found[name] - value) for name, value in confidences.items()))
    top = sorted(max(confidences.values()) for _, _, confidences in page)
    print(
        f"\ntm: {client}: {agree / len(results):.1%} of {len(results)} photos as the reference, max "
        f"probability difference {largest:.4f} (the reference's top probability: min {top[0]:.3f}, median "
        f"{top[len(top) // 2]:.3f})"
    )
    return agree / len(results), largest


def run_client(browser, serve_site_module, client_site: Path, page_name: str, script: str, dense):
    server = serve_site_module(client_site)
    context = browser.new_context()
    try:
        session = record_traffic(context.new_page())
        session.page.goto(server.url + page_name)
        expect(session.page.locator("body")).to_be_attached()
        urls = {name: f"{server.url}{name}/" for name in ("model", "tempered")}
        found = session.page.evaluate(script, [list(urls.values()), photos_base64(dense)])
        found["results"] = {name: found["results"][url] for name, url in urls.items()}
        origin = server.url.rstrip("/")
        assert session.foreign_requests(origin) == [], "the clients must load nothing from the network"
        return found, session.console_errors
    finally:
        context.close()


def test_folder_holds_what_teachable_machine_exports(exported):
    folder, files = exported
    assert sorted(path.name for path in files) == ["metadata.json", "model.json", "weights.bin"]
    assert sorted(path.name for path in folder.iterdir()) == ["metadata.json", "model.json", "weights.bin"]
    model = json.loads((folder / "model.json").read_text())
    assert model["format"] == "layers-model"
    topology = model["modelTopology"]["model_config"]
    assert topology["class_name"] == "Model"  # TF.js 1.x does not know Keras 2.4's "Functional"
    kinds = {layer["class_name"] for layer in topology["config"]["layers"]}
    assert kinds <= TFJS_1_3_1_LAYERS, kinds - TFJS_1_3_1_LAYERS
    assert topology["config"]["layers"][0]["config"]["batch_input_shape"] == [None, 224, 224, 3]
    (group,) = model["weightsManifest"]
    assert group["paths"] == ["weights.bin"]
    assert {weight["dtype"] for weight in group["weights"]} == {"float32"}
    assert not any("quantization" in weight for weight in group["weights"])
    expected = sum(4 * int(np.prod(weight["shape"])) for weight in group["weights"])
    size = (folder / "weights.bin").stat().st_size
    assert size == expected
    metadata = json.loads((folder / "metadata.json").read_text())
    assert metadata["labels"] == ["Brick", "Grass", "Gravel"]
    assert metadata["imageSize"] == 224
    assert metadata["packageName"] == "@teachablemachine/image"
    assert metadata["modelName"] == "Surfaces"
    assert {"tfjsVersion", "packageVersion", "timeStamp"} <= set(metadata)
    print(
        f"\ntm: model.json {(folder / 'model.json').stat().st_size / 1e3:.0f} kB, weights.bin "
        f"{size / 1e6:.1f} MB (float32), {len(topology['config']['layers'])} layers"
    )


def check_client(found: dict, client: str, dense) -> None:
    for folder, page, name, limit in (
        ("model", dense.predictions, client, MAX_DIFFERENCE),
        ("tempered", tempered_page(dense), f"{client}, logits / {TEMPERATURE:g}", MAX_TEMPERED_DIFFERENCE),
    ):
        agreement, largest = compare_with_page(page, name, found["results"][folder])
        assert agreement >= MIN_AGREEMENT, folder
        assert largest <= limit, folder


def test_teachable_machine_library_predicts_as_the_page(browser, serve_site_module, client_site, dense):
    found, errors = run_client(browser, serve_site_module, client_site, "tm.html", TM_PREDICT, dense)
    assert errors == []
    assert found["tfjs"] == "1.3.1"
    assert all(labels == ["Brick", "Grass", "Gravel"] for labels in found["labels"].values())
    check_client(found, f"@teachablemachine/image 0.8.5 on TF.js {found['tfjs']} ({found['backend']})", dense)


def test_ml5_classifies_as_the_page(browser, serve_site_module, client_site, dense):
    found, errors = run_client(browser, serve_site_module, client_site, "ml5.html", ML5_CLASSIFY, dense)
    # ml5 tries WebGPU first and warns (not errs) when headless Chromium has no adapter.
    assert errors == []
    check_client(found, f"ml5 1.4.0 on TF.js {found['tfjs']} ({found['backend']})", dense)


def test_knn_head_is_refused_with_the_alternative(python_trained, tmp_path):
    trained = read_trained(python_trained("knn").project_file)
    with pytest.raises(TrainedFileError) as refused:
        export_tm(trained, tmp_path, NO_PROGRESS)
    message = str(refused.value)
    assert "k-nearest neighbours (k = 3)" in message and "cannot be exported as tm" in message
    assert "--format embeddings" in message
    assert list(tmp_path.iterdir()) == []


def test_untrained_file_is_refused(dense, tmp_path):
    untrained = dataclasses.replace(read_trained(dense.project_file), head=None)
    with pytest.raises(TrainedFileError, match="nothing is trained in this project file"):
        export_tm(untrained, tmp_path, NO_PROGRESS)
    assert list(tmp_path.iterdir()) == []


def small_network():
    """A Keras 3 network with every rewrite: nested models, consecutive input scalings (Rescaling,
    Normalization), padding after them, swish as an activation and as a layer, dropout."""
    import keras

    inner_input = keras.Input((16, 16, 3))
    x = keras.layers.Rescaling(1 / 255.0)(inner_input)
    x = keras.layers.Normalization(mean=[0.4, 0.5, 0.6], variance=[0.05, 0.06, 0.07])(x)
    x = keras.layers.ZeroPadding2D(1)(x)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="swish")(x)
    x = keras.layers.BatchNormalization()(x)
    y = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    y = keras.layers.ReLU(6.0)(y)
    x = keras.layers.Add()([x, y])
    gate = keras.layers.GlobalAveragePooling2D()(x)
    gate = keras.layers.Reshape((1, 1, 8))(keras.layers.Dense(8, activation="sigmoid")(gate))
    x = keras.layers.Multiply()([x, gate])
    x = keras.layers.Activation("silu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    inner = keras.Model(inner_input, keras.layers.Dropout(0.5)(x), name="base")
    pixels = keras.Input((16, 16, 3))
    features = inner(keras.layers.Rescaling(2.0, offset=-3.0)(pixels))  # one more scaling, with an offset
    outputs = keras.layers.Dense(3, activation="softmax")(keras.layers.Dense(5, activation="elu")(features))
    model = keras.Model(pixels, outputs)
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype(np.float32) for w in model.get_weights()])
    batch_norm = next(layer for layer in inner.layers if type(layer).__name__ == "BatchNormalization")
    gamma, beta, mean, variance = batch_norm.get_weights()
    batch_norm.set_weights([gamma, beta, mean, np.abs(variance) + 0.1])
    return model


def test_translation_computes_what_the_keras_network_does():
    network = small_network()
    model = translate(network, 16, "a test network")
    assert type(model).__module__.startswith("tf_keras")
    kinds = {type(layer).__name__ for layer in model.layers}
    assert kinds <= TFJS_1_3_1_LAYERS, kinds - TFJS_1_3_1_LAYERS
    scalings = [layer for layer in model.layers if layer.name.startswith("input_scaling")]
    assert len(scalings) == 1  # client's, Rescaling, Rescaling, Normalization: one layer
    pixels = np.random.default_rng(2).integers(0, 256, (4, 16, 16, 3)).astype(np.float32)
    expected = np.asarray(network.predict(pixels, verbose=0))
    found = np.asarray(model.predict(pixels / 127.0 - 1.0, verbose=0))
    assert np.max(np.abs(expected - found)) < 1e-5


def test_translation_follows_a_nested_model_that_is_the_output():
    """Keras 3 writes such a model's node index unlike every other reference in the configuration."""
    import keras

    inner_input = keras.Input((8, 8, 3))
    inner = keras.Model(
        inner_input, keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inner_input))
    )
    pixels = keras.Input((8, 8, 3))
    network = keras.Model(pixels, inner(keras.layers.Rescaling(1 / 255.0)(pixels)))
    model = translate(network, 8, "a test network")
    images = np.random.default_rng(3).integers(0, 256, (2, 8, 8, 3)).astype(np.float32)
    expected = np.asarray(network.predict(images, verbose=0))
    assert np.max(np.abs(expected - model.predict(images / 127.0 - 1.0, verbose=0))) < 1e-5


def test_translation_refuses_a_layer_tfjs_1_3_1_cannot_run():
    import keras

    pixels = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, activation="hard_sigmoid", name="gated")(pixels)
    network = keras.Model(pixels, keras.layers.GlobalAveragePooling2D()(x))
    with pytest.raises(TrainedFileError) as refused:
        translate(network, 8, "a test network")
    message = str(refused.value)
    assert 'the activation "hard_sigmoid" of layer "gated"' in message
    assert "--format keras, savedmodel or tflite" in message
