"""A project file (.teachkit.zip) of the Surfaces page, trained, written in Python instead of by the
page: for tests of what reads such files (`teachkit export`), which need a trained file but not a
browser to make it.

It is the page's format with real contents: the real test photos (the `texture_files` fixture)
embedded by the float Keras base model that the build converts and `teachkit export` rebuilds
(`builder.models.build_embedding_model`), a head of the page's architecture (templates/app/learning/
head.js: Dense layers with the hidden activation, then the class logits; Glorot-uniform kernels,
Adam, softmax cross-entropy) trained in Keras with the page's default settings and its rule of
splitting (not its very choice of held-back samples), and the crops, thumbnails, history and
evaluation as the page stores them. What differs from a file the page saved: the embeddings are the
float model's (the page's run int8 or float16 in the browser), and the file names no converted model
(`modelFingerprint` is null and the base has no `model_json_sha256`: nothing was converted), so a
page that opens it embeds its crops again.

The reference predictions are the Python model's own (float base, then the head, in float64): what
an export that computes faithfully must answer. Files and predictions are kept in the model cache
(TEACHKIT_CACHE, which the tests set from TEACHKIT_TEST_CACHE) under a key of everything they are
made from: about a second with a warm cache, a minute or two on an empty one (the base model is
built and the photos embedded).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .pagekit import CLASS_OF, PROJECT
from .receivers import project_zip
from .visitor import PageTrained

# Bump when what is written changes for the same inputs: the cache then makes the file again.
FORMAT = 1
BASE = "efficientnet_lite0"
CROP_QUALITY = 90  # the page's canvasJpeg(crop, 0.9) and (thumbnail, 0.8)
THUMB_QUALITY = 80
THUMB_SIZE = 64
ADDED = 1_796_000_000_000  # a fixed time (ms) for every sample: the file is the same every run


@dataclass(frozen=True)
class Inputs:
    """What the file is made from: the page's settings for `head`, the base's identity, photos."""

    head: str
    settings: dict[str, Any]
    identity: dict[str, Any]
    train: dict[str, list[Path]]  # class name → training photos
    held_out: list[Path]

    def key(self) -> str:
        photos = [
            (path.name, hashlib.sha256(path.read_bytes()).hexdigest())
            for path in [*(p for files in self.train.values() for p in files), *self.held_out]
        ]
        material = {
            "format": FORMAT,
            "head": self.head,
            "settings": self.settings,
            "identity": self.identity,
            "classes": list(self.train),
            "photos": photos,
        }
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:32]


def page_settings(head: str) -> dict[str, Any]:
    """The settings the Surfaces page starts with and saves (its project's [head] and [training]
    defaults), with `head.type` set to `head`."""
    import tomllib

    from builder.config import project_from_data

    config = project_from_data(tomllib.loads(PROJECT), Path("project.toml")).page_config()
    return {"head": {**config["head"], "type": head}, "training": config["training"]}


def base_identity() -> dict[str, Any]:
    """The base model's identity as a built page records it (builder/render.py base_identity),
    without what only a conversion knows (model_json_sha256)."""
    from builder.export.rebuild import BaseRecipe
    from builder.models import model_identity
    from builder.models.efficientnet_lite0 import EMBEDDING_SIZE, INPUT_SIZE
    from builder.render import PREPROCESSING

    return {
        **model_identity(BaseRecipe(base=BASE)),
        "input_size": INPUT_SIZE,
        "embedding_size": EMBEDDING_SIZE,
        "preprocessing": {**PREPROCESSING, "input_size": INPUT_SIZE},
    }


def python_trained(texture_files: dict[str, dict[str, list[Path]]], head: str = "dense") -> PageTrained:
    """The Surfaces project trained in Python on the 20 training photos of each texture (`head`
    "dense" or "knn"), and the Python model's predictions for the held-out photos; from the cache
    when it has them."""
    from builder.jstools import cache_root

    inputs = Inputs(
        head=head,
        settings=page_settings(head),
        identity=base_identity(),
        train={CLASS_OF[texture]: files["train"] for texture, files in texture_files.items()},
        held_out=[photo for files in texture_files.values() for photo in files["held-out"]],
    )
    entry = cache_root() / "test-projects" / inputs.key()
    if not (entry / "predictions.json").exists():
        entry.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".writing-", dir=entry.parent))
        try:
            project, predictions = make(inputs)
            (staging / "surfaces.teachkit.zip").write_bytes(project)
            (staging / "predictions.json").write_text(json.dumps(predictions))
            try:
                staging.rename(entry)
            except OSError:  # another session wrote the same entry meanwhile: that one is kept
                shutil.rmtree(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    by_name = {photo.name: photo for photo in inputs.held_out}
    stored = json.loads((entry / "predictions.json").read_text())
    return PageTrained(
        entry / "surfaces.teachkit.zip",
        [(by_name[name], label, confidences) for name, label, confidences in stored],
    )


def crop(photo: Path, size: int) -> np.ndarray:
    """The photo's centred square at `size` pixels, float32 0–255, as the page crops it."""
    from builder.models.preprocess import center_crop_resize

    with Image.open(photo) as picture:
        return center_crop_resize(np.asarray(picture.convert("RGB")), size)


def jpeg(pixels: np.ndarray, quality: int) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8)).save(out, "JPEG", quality=quality)
    return out.getvalue()


def stable_id(*parts: str) -> str:
    """A UUID as the page's crypto.randomUUID() makes, but the same for the same parts."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "teachkit-test:" + "/".join(parts)))


def make(inputs: Inputs) -> tuple[bytes, list[tuple[str, str, dict[str, float]]]]:
    """The project file's bytes and the held-out photos' (file name, label, probabilities)."""
    from builder.export.rebuild import BaseRecipe
    from builder.models import build_embedding_model

    base = build_embedding_model(BaseRecipe(base=BASE))
    size = base.input_size
    names = list(inputs.train)
    classes = [{"id": stable_id("class", name), "name": name} for name in names]
    photos = [(index, photo) for index, name in enumerate(names) for photo in inputs.train[name]]
    crops = np.stack([crop(photo, size) for _, photo in photos])
    embeddings = np.asarray(base.keras_model.predict(crops, verbose=0), dtype=np.float32)
    labels = np.array([index for index, _ in photos])
    samples = [
        {"id": stable_id("sample", photo.name), "classId": classes[index]["id"], "added": ADDED}
        for index, photo in photos
    ]
    training, validation = split(labels, inputs.settings["training"])
    if inputs.head == "dense":
        record, predict = train_dense(embeddings, labels, training, validation, inputs.settings)
    else:
        record, predict = fit_knn(embeddings, labels, training, validation, inputs.settings)
    class_ids = [item["id"] for item in classes]
    record = {"model": {**record["model"], "classIds": class_ids}, "classIds": class_ids, **record["rest"]}
    manifest = {
        "format": "teachkit-project",
        "version": 1,
        "title": "Surfaces",
        "modelFingerprint": None,
        "base": inputs.identity,
        "embeddingSize": base.embedding_size,
        "task": "classification",
        "regression": None,
        "classes": classes,
        "samples": samples,
        "settings": inputs.settings,
        "head": record,
    }
    pictures = {
        sample["id"]: (jpeg(pixels, CROP_QUALITY), jpeg(thumbnail(pixels), THUMB_QUALITY))
        for sample, pixels in zip(samples, crops, strict=True)
    }
    held_out = np.stack([crop(photo, size) for photo in inputs.held_out])
    probabilities = predict(np.asarray(base.keras_model.predict(held_out, verbose=0), dtype=np.float32))
    predictions = [
        (photo.name, names[int(np.argmax(row))], dict(zip(names, map(float, row), strict=True)))
        for photo, row in zip(inputs.held_out, probabilities, strict=True)
    ]
    return project_zip(manifest, embeddings, pictures), predictions


def thumbnail(pixels: np.ndarray) -> np.ndarray:
    image = Image.fromarray(np.clip(np.rint(pixels), 0, 255).astype(np.uint8))
    return np.asarray(image.resize((THUMB_SIZE, THUMB_SIZE), Image.Resampling.BILINEAR), dtype=np.float32)


def split(labels: np.ndarray, training: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The page's stratified split (learning/dataset.js): of each class, floor(n · fraction)
    samples, at least one kept for training, are held back; here a seeded choice of them."""
    rng = np.random.default_rng(training["seed"])
    kept, held = [], []
    for label in np.unique(labels):
        own = rng.permutation(np.flatnonzero(labels == label))
        count = min(int(len(own) * training["validation_fraction"]), max(len(own) - 1, 0))
        held += own[:count].tolist()
        kept += own[count:].tolist()
    return np.array(sorted(kept)), np.array(sorted(held))


def forward(weights: list[np.ndarray], activation: str, x: np.ndarray) -> np.ndarray:
    """The head's class probabilities in float64: what the page's DenseHead computes to predict."""
    functions = {"relu": lambda v: np.maximum(v, 0), "tanh": np.tanh}  # the defaults and one more
    output = x.astype(np.float64)
    for index in range(0, len(weights), 2):
        output = output @ weights[index].astype(np.float64) + weights[index + 1].astype(np.float64)
        if index < len(weights) - 2:
            output = functions[activation](output)
    output = np.exp(output - output.max(axis=1, keepdims=True))
    return output / output.sum(axis=1, keepdims=True)


def evaluation(predicted: np.ndarray, labels: np.ndarray, classes: int) -> dict[str, Any]:
    """The page's evaluation of the held-back samples: confusion (actual × predicted), accuracy."""
    confusion = np.zeros((classes, classes), dtype=int)
    for actual, guess in zip(labels, predicted, strict=True):
        confusion[actual, guess] += 1
    per_class = [float(row[i] / row.sum()) if row.sum() else None for i, row in enumerate(confusion)]
    return {
        "confusion": confusion.tolist(),
        "perClass": per_class,
        "accuracy": float(np.trace(confusion) / max(len(labels), 1)),
        "count": len(labels),
        "onValidation": True,
    }


def train_dense(embeddings, labels, training, validation, settings):
    """Trains the page's dense head in Keras; returns (its record, probabilities of embeddings)."""
    import keras

    head, options = settings["head"], settings["training"]
    classes = int(labels.max()) + 1
    keras.utils.set_random_seed(options["seed"])
    inputs = keras.Input((embeddings.shape[1],))
    x = inputs
    for units in head["hidden_units"]:
        x = keras.layers.Dense(units, activation=head["activation"])(x)
        if head["dropout"]:
            x = keras.layers.Dropout(head["dropout"])(x)
    model = keras.Model(inputs, keras.layers.Dense(classes)(x))
    model.compile(
        optimizer=keras.optimizers.Adam(options["learning_rate"]),
        loss=keras.losses.CategoricalCrossentropy(from_logits=True),
    )
    targets = np.eye(classes, dtype=np.float32)[labels]
    history: list[dict[str, Any]] = []

    def measure(rows: np.ndarray) -> tuple[float, float]:
        probabilities = forward(model.get_weights(), head["activation"], embeddings[rows])
        loss = -np.mean(np.log(np.maximum(probabilities[np.arange(len(rows)), labels[rows]], 1e-30)))
        return float(loss), float(np.mean(np.argmax(probabilities, axis=1) == labels[rows]))

    def on_epoch_end(epoch: int, _logs: object) -> None:
        loss, accuracy = measure(training)
        val_loss, val_accuracy = measure(validation) if len(validation) else (None, None)
        history.append(
            {
                "epoch": epoch + 1,
                "loss": loss,
                "accuracy": accuracy,
                "valLoss": val_loss,
                "valAccuracy": val_accuracy,
            }
        )

    model.fit(
        embeddings[training],
        targets[training],
        batch_size=options["batch_size"],
        epochs=options["epochs"],
        shuffle=True,
        verbose=0,
        callbacks=[keras.callbacks.LambdaCallback(on_epoch_end=on_epoch_end)],
    )
    weights = [np.asarray(w, dtype=np.float32) for w in model.get_weights()]
    predicted = np.argmax(forward(weights, head["activation"], embeddings[validation]), axis=1)
    config = {key: head[key] for key in ("hidden_units", "activation", "dropout")} | {"seed": options["seed"]}
    record = {
        "model": {"kind": "dense", "config": config, "weights": [w.ravel().tolist() for w in weights]},
        "rest": {"history": history, "evaluation": evaluation(predicted, labels[validation], classes)},
    }
    return record, lambda x: forward(weights, head["activation"], x)


def fit_knn(embeddings, labels, training, validation, settings):
    """The page's k-nearest-neighbour head (cosine similarity, each of the k nearest training
    samples a vote of 1/k); returns (its record, probabilities of embeddings)."""
    k = settings["head"]["k"]
    classes = int(labels.max()) + 1

    def unit(rows: np.ndarray) -> np.ndarray:
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)

    known = unit(embeddings[training].astype(np.float64))

    def predict(x: np.ndarray) -> np.ndarray:
        nearest = np.argsort(-(unit(x.astype(np.float64)) @ known.T), axis=1, kind="stable")[:, :k]
        votes = np.zeros((len(x), classes))
        for row, indices in enumerate(nearest):
            for index in indices:
                votes[row, labels[training][index]] += 1 / k
        return votes

    def accuracy(rows: np.ndarray) -> float | None:
        return (
            float(np.mean(np.argmax(predict(embeddings[rows]), axis=1) == labels[rows]))
            if len(rows)
            else None
        )

    predicted = np.argmax(predict(embeddings[validation]), axis=1)
    record = {
        "model": {"kind": "knn", "config": {"k": k}},
        "rest": {
            "history": [
                {
                    "epoch": 1,
                    "loss": None,
                    "accuracy": accuracy(training),
                    "valLoss": None,
                    "valAccuracy": accuracy(validation),
                }
            ],
            "evaluation": evaluation(predicted, labels[validation], classes),
            "sampleCount": len(labels),
        },
    }
    return record, predict
