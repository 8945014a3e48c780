"""The export formats: each writes into a fresh folder and returns the files it wrote.

Model formats write the rebuilt classifier (pixels 0–255 → probabilities), `labels.txt` (one class
name per line, in the order of the outputs) and a `predict.py` that classifies image files with
nothing but that format's own runtime, numpy and Pillow. The data format writes the samples'
embeddings, for any head.
"""

from __future__ import annotations

import csv
import logging
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from ..progress import Progress
from ..trained import TrainedProject
from .network import Classifier
from .rebuild import crop_pixels, spread

log = logging.getLogger(__name__)

# Full-integer quantization is calibrated on the file's own crops, the classes taken in turn; a few
# hundred are plenty for the activation ranges, and more only make the export slower.
MAX_CALIBRATION = 300
CHECK_BATCH = 32
SHARED_SCRIPT = "predict_images.py"
SHARED_IMPORT = "from predict_images import HERE, Model, run\n"
FUTURE_IMPORT = "from __future__ import annotations\n"


@dataclass(frozen=True)
class ModelFiles:
    files: list[Path]
    note: str | None = None  # for the summary, e.g. how int8 was calibrated


def write_labels(output: Path, names: list[str]) -> Path:
    path = output / "labels.txt"
    path.write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    return path


def write_script(output: Path, script: str) -> Path:
    """Writes one of scripts/predict_*.py as output/predict.py, with the module they share
    (predict_images.py) in place of the line that imports it: an author gets one file that runs
    wherever it is copied."""
    scripts = resources.files(__package__) / "scripts"
    shared = (scripts / SHARED_SCRIPT).read_text(encoding="utf-8")
    body = shared.split(FUTURE_IMPORT, 1)[1].strip()
    text = (scripts / script).read_text(encoding="utf-8")
    path = output / "predict.py"
    path.write_text(text.replace(SHARED_IMPORT, f"# From {SHARED_SCRIPT}:\n{body}\n"), encoding="utf-8")
    return path


def export_keras(
    classifier: Classifier, trained: TrainedProject, output: Path, progress: Progress
) -> ModelFiles:
    progress.start("Writing model.keras", 1)
    model = output / "model.keras"
    classifier.keras_model.save(model)
    progress.advance()
    labels = write_labels(output, classifier.class_names)
    return ModelFiles([model, labels, write_script(output, "predict_keras.py")])


def write_saved_model(classifier: Classifier, folder: Path) -> None:
    """A plain TF SavedModel: signature serving_default, pixels → probabilities.

    Not `model.export()`: Keras 3 stores every variable twice in it (once as the Keras variable
    it tracks, once as the tf.Variable the traced function captures; keras-team/keras#23553), which
    made the Lite0 SavedModel 28.6 MB instead of 14. Tracking the tf.Variables themselves on a
    tf.Module stores each once.
    """
    import tensorflow as tf

    model = classifier.keras_model
    size = classifier.input_size
    output = "value" if classifier.regression else "probabilities"
    module = tf.Module()
    module.model_variables = [variable.value for variable in model.variables]

    @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32, name="pixels")])
    def serve(pixels: tf.Tensor) -> dict[str, tf.Tensor]:
        return {output: model(pixels, training=False)}

    module.serve = serve
    tf.saved_model.save(module, str(folder), signatures={"serving_default": serve})


def export_savedmodel(
    classifier: Classifier, trained: TrainedProject, output: Path, progress: Progress
) -> ModelFiles:
    progress.start("Writing the SavedModel", 1)
    folder = output / "saved_model"
    write_saved_model(classifier, folder)
    progress.advance()
    labels = write_labels(output, classifier.class_names)
    return ModelFiles([folder, labels, write_script(output, "predict_savedmodel.py")])


def _converter(classifier: Classifier, scratch: Path) -> object:
    import tensorflow as tf

    write_saved_model(classifier, scratch / "saved_model")
    return tf.lite.TFLiteConverter.from_saved_model(str(scratch / "saved_model"))


def export_tflite(
    classifier: Classifier, trained: TrainedProject, output: Path, progress: Progress
) -> ModelFiles:
    progress.start("Converting to TensorFlow Lite", 2)
    with tempfile.TemporaryDirectory(prefix="teachkit-export-") as scratch:
        converter = _converter(classifier, Path(scratch))
        progress.advance()
        model = output / "model.tflite"
        model.write_bytes(converter.convert())
    progress.advance()
    labels = write_labels(output, classifier.class_names)
    return ModelFiles([model, labels, write_script(output, "predict_tflite.py")])


def export_tflite_int8(
    classifier: Classifier, trained: TrainedProject, output: Path, progress: Progress
) -> ModelFiles:
    """Full-integer TFLite (int8 weights, activations, input and output), its activation ranges
    calibrated on the project file's own stored crops, never on anything downloaded."""
    import tensorflow as tf

    from .output import ExportError

    chosen = spread(trained, MAX_CALIBRATION)
    if not chosen:
        raise ExportError(
            "this file has no stored crops to calibrate int8 quantization on (a model download "
            "carries none: export the project file saved by the page instead)."
        )
    size = classifier.input_size

    def calibration() -> Iterator[list[np.ndarray]]:
        for index in chosen:
            yield [crop_pixels(trained, [index], size)]
            progress.advance()

    progress.start(f"Calibrating int8 on {len(chosen)} stored crops", len(chosen) + 2)
    with tempfile.TemporaryDirectory(prefix="teachkit-export-") as scratch:
        converter = _converter(classifier, Path(scratch))
        progress.advance()
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = calibration
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        model = output / "model.tflite"
        model.write_bytes(converter.convert())
    progress.advance()
    agree = _int8_agreement(classifier, trained, chosen, model, progress)
    labels = write_labels(output, classifier.class_names)
    note = (
        f"int8, calibrated on {len(chosen)} stored crops; top-1 as the float model on "
        f"{agree} of those {len(chosen)}"
    )
    return ModelFiles([model, labels, write_script(output, "predict_tflite.py")], note)


def _int8_agreement(
    classifier: Classifier, trained: TrainedProject, chosen: list[int], model: Path, progress: Progress
) -> int:
    """On how many of the calibration crops the int8 model's top class is the float model's."""
    import tensorflow as tf

    progress.start(f"Checking the int8 model on {len(chosen)} stored crops", len(chosen))
    with warnings.catch_warnings():  # "deprecated … use ai_edge_litert", which teachkit does not ship
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(model))
    interpreter.allocate_tensors()
    (source,) = interpreter.get_input_details()
    (target,) = interpreter.get_output_details()
    scale, zero_point = source["quantization"]
    agree = 0
    for start in range(0, len(chosen), CHECK_BATCH):
        batch = chosen[start : start + CHECK_BATCH]
        pixels = crop_pixels(trained, batch, classifier.input_size)
        expected = np.argmax(classifier.keras_model.predict(pixels, verbose=0), axis=1)
        for row, label in zip(pixels, expected, strict=True):
            quantized = np.clip(np.round(row / scale + zero_point), -128, 127).astype(np.int8)
            interpreter.set_tensor(source["index"], quantized[None])
            interpreter.invoke()
            agree += int(np.argmax(interpreter.get_tensor(target["index"])[0]) == label)
            progress.advance()
    return agree


def export_embeddings(trained: TrainedProject, output: Path, progress: Progress) -> list[Path]:
    """embeddings.npz (embeddings float32 [n, d], labels int32 into class_names, ids, class_names;
    in a regression project also values float64 [n], each sample's number), embeddings.csv (id,
    class, [value,] then the d values) and labels.txt (the class names, in order)."""
    progress.start(f"Writing {len(trained.samples)} embeddings", 2)
    names = list(trained.class_names)
    size = trained.embedding_size
    embeddings = np.zeros((len(trained.samples), size), dtype=np.float32)
    for row, sample in enumerate(trained.samples):
        embeddings[row] = sample.embedding
    archive = output / "embeddings.npz"
    numbers = {"values": np.asarray([s.value for s in trained.samples])} if trained.is_regression else {}
    np.savez(
        archive,
        embeddings=embeddings,
        labels=np.asarray([names.index(s.class_name) for s in trained.samples], dtype=np.int32),
        ids=np.asarray([s.id for s in trained.samples], dtype=str),
        class_names=np.asarray(names, dtype=str),
        **numbers,
    )
    progress.advance()
    table = output / "embeddings.csv"
    with table.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        value_column = ["value"] if trained.is_regression else []
        writer.writerow(["id", "class", *value_column, *(f"e{index}" for index in range(size))])
        for sample, values in zip(trained.samples, embeddings, strict=True):
            number = [repr(sample.value)] if trained.is_regression else []
            # 9 significant digits give back the very float32.
            writer.writerow(
                [sample.id, sample.class_name, *number, *(f"{value:.9g}" for value in values.tolist())]
            )
    progress.advance()
    return [archive, table, write_labels(output, names)]
