"""The `tensorboard` export: what a visitor trained in the page, as a TensorBoard log directory.

    train/        event file: epoch_loss, epoch_accuracy per epoch (Keras' layout, step = epoch - 1)
    validation/   event file: the same on the held-back samples, and the confusion_matrix image
    projector/    the Embedding Projector's files: tensors.tsv, metadata.tsv, sprite.png,
                  projector_config.pbtxt (TensorBoard) and projector_config.json (the standalone
                  projector at projector.tensorflow.org, once its paths are made URLs)
    projector_config.pbtxt   the same config for `tensorboard --logdir` on this folder
    confusion_matrix.png     the confusion matrix as a plain picture

The event files are written by TensorFlow's own summary writer. The split into training and
held-back samples is recomputed exactly as the page's dataset.js makes it (mulberry32, stratified
per class), and each sample's prediction as the page's head.js makes it, from the stored weights.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps, UnidentifiedImageError

from ..config.tables import HeadSection, TrainingSection
from ..errors import TrainedFileError
from ..progress import NO_PROGRESS, Progress
from ..trained import TrainedHead, TrainedProject

RUNS = {"train": ("loss", "accuracy"), "validation": ("valLoss", "valAccuracy")}
TAGS = {
    "loss": "epoch_loss",
    "accuracy": "epoch_accuracy",
    "valLoss": "epoch_loss",
    "valAccuracy": "epoch_accuracy",
}
CONFUSION_TAG = "confusion_matrix"
PROJECTOR = "projector"
TENSOR_NAME = "embeddings"
TILE = 64  # the page's thumbnails are 64 × 64
METADATA_COLUMNS = ("class", "split", "predicted", "confidence")


# --- The page's split (templates/app/learning/dataset.js) -------------------------------------------------

_MASK = 0xFFFFFFFF


def seeded_random(seed: int) -> Callable[[], float]:
    """mulberry32, as dataset.js's seededRandom: the same seed gives the same numbers in [0, 1)."""
    state = seed & _MASK

    def imul(a: int, b: int) -> int:  # Math.imul, on unsigned 32-bit values
        return (a * b) & _MASK

    def random() -> float:
        nonlocal state
        state = (state + 0x6D2B79F5) & _MASK
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & _MASK
        return ((t ^ (t >> 14)) & _MASK) / 4294967296

    return random


def shuffled(items: list[Any], random: Callable[[], float]) -> list[Any]:
    """Fisher–Yates from the end, as dataset.js's shuffled."""
    copy = list(items)
    for i in range(len(copy) - 1, 0, -1):
        j = math.floor(random() * (i + 1))
        copy[i], copy[j] = copy[j], copy[i]
    return copy


def held_back(trained: TrainedProject) -> list[bool]:
    """For each sample, whether the page holds it back for checking with the file's settings
    (dataset.js's Dataset.split: each class in order, its samples shuffled by one seeded generator,
    the first min(floor(n · fraction), n - 1) of them held back)."""
    settings = trained.settings.get("training") or {}
    fraction = float(settings.get("validation_fraction", TrainingSection().validation_fraction))
    seed = int(settings.get("seed", TrainingSection().seed))
    random = seeded_random(seed)
    held = [False] * len(trained.samples)
    for name in trained.class_names:
        own = [index for index, sample in enumerate(trained.samples) if sample.class_name == name]
        own = shuffled(own, random)
        count = min(math.floor(len(own) * fraction), max(len(own) - 1, 0))
        for index in own[:count]:
            held[index] = True
    return held


# --- The page's head (templates/app/learning/head.js) -----------------------------------------------------

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "selu": lambda x: _SELU_SCALE * np.where(x > 0, x, _SELU_ALPHA * np.expm1(np.minimum(x, 0))),
    "swish": lambda x: x * _sigmoid(x),
}


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _normalized(matrix: np.ndarray) -> np.ndarray:
    return matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)


def probabilities(trained: TrainedProject, held: list[bool]) -> np.ndarray:
    """The head's class probabilities (columns in the head's class order) for every sample, as the
    page computes them: the dense network with softmax, or for knn the vote of the k most cosine-
    similar samples of the training split."""
    head = _head(trained)
    embeddings = np.stack([sample.embedding for sample in trained.samples]).astype(np.float32)
    if head.kind == "dense":
        activation = ACTIVATIONS.get(str(head.config.get("activation", "relu")))
        if activation is None:
            raise _problem(
                trained,
                f'the trained model uses the activation "{head.config.get("activation")}", '
                f"which teachkit does not know (expected one of {', '.join(ACTIVATIONS)}).",
            )
        output = embeddings
        layers = len(head.weights) // 2
        for layer in range(layers):
            output = output @ head.weights[2 * layer] + head.weights[2 * layer + 1]
            if layer < layers - 1:
                output = activation(output).astype(np.float32)
        return _softmax(output.astype(np.float64))
    training = [
        index
        for index, sample in enumerate(trained.samples)
        if not held[index] and sample.class_name in head.class_names
    ]
    votes = np.zeros((len(trained.samples), len(head.class_names)))
    if not training:
        return votes
    labels = np.array([head.class_names.index(trained.samples[index].class_name) for index in training])
    similarities = _normalized(embeddings) @ _normalized(embeddings[training]).T
    k = min(int(head.config.get("k", HeadSection().k)), len(training))
    # A stable sort, as the page's Array.prototype.sort: equal similarities keep the samples' order.
    nearest = np.argsort(-similarities, axis=1, kind="stable")[:, :k]
    for row, columns in enumerate(nearest):
        np.add.at(votes[row], labels[columns], 1 / k)
    return votes


# --- Reading what the file says ------------------------------------------------------------------


def _problem(trained: TrainedProject, text: str) -> TrainedFileError:
    """A TrainedFileError that names the file, when it is known."""
    source = getattr(trained, "source", None)
    return TrainedFileError(f"{source}: {text}" if source else text[0].upper() + text[1:])


def _head(trained: TrainedProject) -> TrainedHead:
    if trained.head is None:
        raise _problem(
            trained,
            "the project file has no trained model, so there is nothing to show in TensorBoard.\n"
            "Hint: press Train in the page, then save the project file again.",
        )
    if trained.head.kind == "regression":
        raise _problem(
            trained,
            "the trained model predicts a number (a regression head); this teachkit writes TensorBoard "
            "logs of classifiers only (accuracy, confusion matrix, predicted classes).\n"
            "Hint: --format embeddings exports the samples' embeddings with their numbers.",
        )
    return trained.head


def _history(trained: TrainedProject) -> list[tuple[int, dict[str, float | None]]]:
    """(step, {loss, accuracy, valLoss, valAccuracy}) per epoch; step counts from 0, like Keras."""
    head = _head(trained)
    if not head.history:
        raise _problem(
            trained,
            "the trained model in the project file has no training history (loss and accuracy per "
            "epoch), so there is nothing to plot.\nHint: train it again in the page, then save the "
            "project file again.",
        )
    epochs = []
    for index, entry in enumerate(head.history):
        epoch = entry.get("epoch", index + 1)
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 1:
            raise _problem(trained, f"the trained model's history is damaged (epoch {epoch!r}).")
        values: dict[str, float | None] = {}
        for key in TAGS:
            value = entry.get(key)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            ):
                raise _problem(
                    trained,
                    f"the trained model's history is damaged (epoch {epoch}'s {key} is {value!r}, "
                    "not a number).",
                )
            values[key] = None if value is None else float(value)
        epochs.append((epoch - 1, values))
    return epochs


def _confusion(trained: TrainedProject) -> np.ndarray | None:
    """The confusion matrix of the held-back samples (rows actual, columns predicted), or None when
    none were held back."""
    head = _head(trained)
    evaluation = head.evaluation
    if not evaluation or not evaluation.get("onValidation") or not evaluation.get("count"):
        return None
    size = len(head.class_names)
    try:
        matrix = np.array(evaluation.get("confusion"), dtype=np.int64)
    except (TypeError, ValueError):
        matrix = None
    if matrix is None or matrix.shape != (size, size) or (matrix < 0).any():
        raise _problem(trained, "the trained model's evaluation is damaged (its confusion matrix).")
    return matrix


# --- Writing -------------------------------------------------------------------------------------


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)  # Pillow's own scalable font (Pillow >= 10.1)
    except TypeError:
        return ImageFont.load_default()


def _text_size(font: Any, text: str) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text)
    return math.ceil(right - left), math.ceil(bottom - top)


def _rotated_text(text: str, font: Any, colour: tuple[int, int, int]) -> Image.Image:
    """`text` reading upwards, on a transparent background."""
    left, top, right, bottom = font.getbbox(text)
    label = Image.new("RGBA", (math.ceil(right - left) + 2, math.ceil(bottom - top) + 2), (0, 0, 0, 0))
    ImageDraw.Draw(label).text((1 - left, 1 - top), text, font=font, fill=colour)
    return label.rotate(90, expand=True)


def render_confusion(class_names: list[str], matrix: np.ndarray) -> Image.Image:
    """The confusion matrix as a picture: actual classes down the left, predicted along the top,
    each cell's count, shaded by its share of the row."""
    ink, grey, accent = (31, 35, 40), (208, 215, 222), (31, 111, 235)
    font, bold = _font(15), _font(17)
    pad = 14
    counts = [str(value) for value in matrix.flatten()] or ["0"]
    cell = max(52, max(_text_size(font, text)[0] for text in counts) + 20)
    name_width = max(_text_size(font, name)[0] for name in class_names)
    line = _text_size(font, "Ag")[1] + 6
    total = int(matrix.sum())
    correct = int(np.trace(matrix))
    title = f"Held-back samples: {total}, {correct} right ({correct / total:.0%})" if total else ""
    title_height = _text_size(bold, title or "Ag")[1] + 10
    size = len(class_names)
    grid_left = pad + line + name_width + 10  # "Actual", then the row labels
    grid_top = pad + title_height + line + name_width + 10  # title, "Predicted", the column labels
    width = max(grid_left + size * cell + pad, pad * 2 + _text_size(bold, title)[0])
    height = grid_top + size * cell + pad
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((pad, pad), title, font=bold, fill=ink)
    grid_width = size * cell
    draw.text(
        (grid_left + grid_width // 2, pad + title_height), "Predicted", font=font, fill=ink, anchor="mt"
    )
    actual = _rotated_text("Actual", font, ink)
    image.paste(actual, (pad, grid_top + (grid_width - actual.height) // 2), actual)
    for index, name in enumerate(class_names):
        label = _rotated_text(name, font, ink)
        x = grid_left + index * cell + (cell - label.width) // 2
        image.paste(label, (x, grid_top - 6 - label.height), label)
        draw.text(
            (grid_left - 8, grid_top + index * cell + cell // 2), name, font=font, fill=ink, anchor="rm"
        )
    for row in range(size):
        row_total = int(matrix[row].sum())
        for column in range(size):
            value = int(matrix[row, column])
            share = value / row_total if row_total else 0.0
            fill = tuple(round(255 + (part - 255) * share) for part in accent)
            x, y = grid_left + column * cell, grid_top + row * cell
            draw.rectangle((x, y, x + cell, y + cell), fill=fill, outline=grey)
            colour = "white" if share > 0.5 else ink
            draw.text((x + cell // 2, y + cell // 2), str(value), font=font, fill=colour, anchor="mm")
    return image


def _write_events(
    output: Path,
    epochs: list[tuple[int, dict[str, float | None]]],
    confusion: Image.Image | None,
    progress: Progress,
) -> None:
    import tensorflow as tf  # slow to import: only when writing

    progress.start("Writing the TensorBoard event files", len(epochs) * 2 + int(confusion is not None))
    for run, keys in RUNS.items():
        if all(values[key] is None for _, values in epochs for key in keys) and not (
            run == "validation" and confusion is not None
        ):
            progress.advance(len(epochs))
            continue  # nothing measured for this run (no samples held back): no empty run
        writer = tf.summary.create_file_writer(str(output / run))
        with writer.as_default():
            for step, values in epochs:
                for key in keys:
                    if values[key] is not None:
                        tf.summary.scalar(TAGS[key], values[key], step=step)
                progress.advance()
            if run == "validation" and confusion is not None:
                pixels = np.asarray(confusion.convert("RGB"), dtype=np.uint8)[np.newaxis]
                tf.summary.image(
                    CONFUSION_TAG,
                    pixels,
                    step=epochs[-1][0],
                    description="The held-back samples: actual classes in rows, predicted in columns.",
                )
                progress.advance()
        writer.close()


def _clean(text: str) -> str:
    """A class name as one TSV field."""
    return " ".join(text.split()) or "?"


def _sprite(trained: TrainedProject, progress: Progress) -> Image.Image:
    grid = math.ceil(math.sqrt(len(trained.samples)))
    sprite = Image.new("RGB", (grid * TILE, grid * TILE), "white")
    for index, sample in enumerate(trained.samples):
        try:
            with Image.open(io.BytesIO(sample.thumb)) as thumb:
                tile = ImageOps.fit(thumb.convert("RGB"), (TILE, TILE))
        except (UnidentifiedImageError, OSError) as error:
            raise _problem(
                trained, f"the thumbnail of sample {sample.id} ({sample.class_name}) is damaged ({error})."
            ) from None
        sprite.paste(tile, ((index % grid) * TILE, (index // grid) * TILE))
        progress.advance()
    return sprite


def _tensor_name(trained: TrainedProject) -> str:
    """The name the projector shows for the embeddings: the page's title."""
    return _clean(trained.title) if trained.title.strip() else TENSOR_NAME


def _projector_config(name: str, shape: tuple[int, int], prefix: str) -> str:
    from google.protobuf import text_format
    from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig

    config = ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = name
    embedding.tensor_shape.extend(shape)
    embedding.tensor_path = f"{prefix}tensors.tsv"
    embedding.metadata_path = f"{prefix}metadata.tsv"
    embedding.sprite.image_path = f"{prefix}sprite.png"
    embedding.sprite.single_image_dim.extend([TILE, TILE])
    return text_format.MessageToString(config)


def _rows(trained: TrainedProject, held: list[bool], chances: np.ndarray) -> Iterator[str]:
    head = _head(trained)
    yield "\t".join(METADATA_COLUMNS)
    for index, sample in enumerate(trained.samples):
        best = int(np.argmax(chances[index]))  # the first of equals, as the page's argmax
        split = "validation" if held[index] else "training"
        yield "\t".join(
            [_clean(sample.class_name), split, _clean(head.class_names[best]), f"{chances[index, best]:.4f}"]
        )


def _write_projector(trained: TrainedProject, output: Path, progress: Progress) -> None:
    samples = trained.samples
    progress.start("Writing the Embedding Projector files", len(samples) + 2)
    folder = output / PROJECTOR
    folder.mkdir()
    held = held_back(trained)
    chances = probabilities(trained, held)
    embeddings = np.stack([sample.embedding for sample in samples]).astype(np.float32)
    np.savetxt(folder / "tensors.tsv", embeddings, fmt="%.9g", delimiter="\t")  # %.9g: float32 exactly
    (folder / "metadata.tsv").write_text("\n".join(_rows(trained, held, chances)) + "\n", encoding="utf-8")
    progress.advance(2)
    _sprite(trained, progress).save(folder / "sprite.png", optimize=True)
    name, shape = _tensor_name(trained), embeddings.shape
    (folder / "projector_config.pbtxt").write_text(_projector_config(name, shape, ""), encoding="utf-8")
    # TensorBoard reads projector_config.pbtxt in the log directory itself when it is no run.
    (output / "projector_config.pbtxt").write_text(
        _projector_config(name, shape, f"{PROJECTOR}/"), encoding="utf-8"
    )
    standalone = {
        "embeddings": [
            {
                "tensorName": name,
                "tensorShape": list(shape),
                "tensorPath": "tensors.tsv",
                "metadataPath": "metadata.tsv",
                "sprite": {"imagePath": "sprite.png", "singleImageDim": [TILE, TILE]},
            }
        ]
    }
    (folder / "projector_config.json").write_text(json.dumps(standalone, indent=2) + "\n", encoding="utf-8")


def export_tensorboard(trained: TrainedProject, output: Path, progress: Progress = NO_PROGRESS) -> list[Path]:
    """Writes the TensorBoard log directory of a trained project file into `output` (an empty
    folder that exists) and returns the files written. A file without a trained model or without
    its training history raises TrainedFileError."""
    output = Path(output)
    head = _head(trained)
    epochs = _history(trained)
    matrix = _confusion(trained)
    picture = render_confusion(head.class_names, matrix) if matrix is not None else None
    _write_events(output, epochs, picture, progress)
    if picture is not None:
        picture.save(output / "confusion_matrix.png", optimize=True)
    if trained.samples:
        _write_projector(trained, output, progress)
    return sorted(path for path in output.rglob("*") if path.is_file())
