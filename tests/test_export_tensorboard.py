"""The tensorboard export of a project file the page trained, read back with TensorBoard's own
readers (EventAccumulator, the projector plugin's proto) and served by the real tensorboard binary.
The page's split and predictions are checked against the page's own code and measurements."""

from __future__ import annotations

import dataclasses
import io
import json
import math
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from google.protobuf import text_format
from PIL import Image
from tensorboard import program
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from tensorboard.util import tensor_util

from builder.errors import TrainedFileError
from builder.export.tensorboard import export_tensorboard, held_back, probabilities, seeded_random
from builder.trained import Sample, TrainedProject, read_project_file

ROOT = Path(__file__).resolve().parent.parent
HEADS = ["dense", "knn"]


@dataclasses.dataclass
class Exported:
    trained: TrainedProject
    folder: Path
    files: list[Path]


@pytest.fixture(scope="module")
def exported(page_trained, tmp_path_factory) -> object:
    """head type → the page-trained project file, exported once per module."""
    made: dict[str, Exported] = {}

    def get(head: str) -> Exported:
        if head not in made:
            trained = read_project_file(page_trained(head).project_file)
            folder = tmp_path_factory.mktemp(f"tensorboard-{head}")
            made[head] = Exported(trained, folder, export_tensorboard(trained, folder))
        return made[head]

    return get


def events(run: Path) -> EventAccumulator:
    accumulator = EventAccumulator(str(run), size_guidance={"tensors": 0})  # 0: keep every event
    accumulator.Reload()
    return accumulator


def series(accumulator: EventAccumulator, tag: str) -> tuple[list[int], list[float]]:
    assert accumulator.SummaryMetadata(tag).plugin_data.plugin_name == "scalars"
    read = accumulator.Tensors(tag)
    return [event.step for event in read], [
        float(tensor_util.make_ndarray(event.tensor_proto)) for event in read
    ]


def f32(values: list[float | None]) -> list[float]:
    return [float(np.float32(value)) for value in values]


def labels(trained: TrainedProject) -> np.ndarray:
    return np.array([trained.head.class_names.index(sample.class_name) for sample in trained.samples])


@pytest.mark.parametrize("head", HEADS)
def test_event_files_hold_the_page_history_in_keras_layout(exported, head):
    result = exported(head)
    history = result.trained.head.history
    assert {path.parent.name for path in result.files if path.name.startswith("events.out.tfevents")} == {
        "train",
        "validation",
    }
    train, validation = events(result.folder / "train"), events(result.folder / "validation")
    steps = list(range(len(history)))
    if head == "dense":
        assert len(history) == 50  # the default epochs, every one of them
        assert series(train, "epoch_loss") == (steps, f32([entry["loss"] for entry in history]))
        assert series(validation, "epoch_loss") == (steps, f32([entry["valLoss"] for entry in history]))
    else:  # one epoch, no loss
        assert len(history) == 1
        assert "epoch_loss" not in train.Tags()["tensors"] + validation.Tags()["tensors"]
    assert series(train, "epoch_accuracy") == (steps, f32([entry["accuracy"] for entry in history]))
    assert series(validation, "epoch_accuracy") == (steps, f32([entry["valAccuracy"] for entry in history]))


@pytest.mark.parametrize("head", HEADS)
def test_confusion_matrix_is_an_image_summary_of_the_held_back_samples(exported, head):
    result = exported(head)
    validation = events(result.folder / "validation")
    assert validation.SummaryMetadata("confusion_matrix").plugin_data.plugin_name == "images"
    (event,) = validation.Tensors("confusion_matrix")
    assert event.step == len(result.trained.head.history) - 1
    width, height, encoded = tensor_util.make_ndarray(event.tensor_proto)
    picture = Image.open(io.BytesIO(encoded))
    assert picture.format == "PNG"
    assert picture.size == (int(width), int(height))
    assert 150 <= picture.width <= 2000 and 150 <= picture.height <= 2000, picture.size
    with Image.open(result.folder / "confusion_matrix.png") as plain:
        assert np.array_equal(np.asarray(plain.convert("RGB")), np.asarray(picture.convert("RGB")))
    # Not a blank picture: ink for the text and the accent colour of the diagonal.
    colours = {tuple(pixel) for pixel in np.asarray(picture.convert("RGB")).reshape(-1, 3)[::7]}
    assert len(colours) > 10


def read_metadata(folder: Path) -> tuple[list[str], list[list[str]]]:
    lines = (folder / "metadata.tsv").read_text(encoding="utf-8").splitlines()
    return lines[0].split("\t"), [line.split("\t") for line in lines[1:]]


@pytest.mark.parametrize("head", HEADS)
def test_projector_files_parse_and_agree_with_the_page(exported, head):
    result = exported(head)
    trained, folder = result.trained, result.folder / "projector"
    count = len(trained.samples)

    tensors = np.loadtxt(folder / "tensors.tsv", delimiter="\t", dtype=np.float32)
    assert tensors.shape == (count, 1280)
    assert np.array_equal(tensors, np.stack([sample.embedding for sample in trained.samples]))

    header, rows = read_metadata(folder)
    assert header == ["class", "split", "predicted", "confidence"]
    assert len(rows) == count and all(len(row) == 4 for row in rows)
    assert [row[0] for row in rows] == [sample.class_name for sample in trained.samples]
    fraction = trained.settings["training"]["validation_fraction"]
    held = Counter(row[0] for row in rows if row[1] == "validation")
    assert set(Counter(row[1] for row in rows)) == {"training", "validation"}
    for name, total in Counter(sample.class_name for sample in trained.samples).items():
        assert held[name] == min(math.floor(total * fraction), total - 1)
    assert trained.head.class_names == trained.class_names  # so the evaluation's count is comparable
    assert sum(held.values()) == trained.head.evaluation["count"]
    training = [row for row in rows if row[1] == "training"]
    agree = sum(row[0] == row[2] for row in training) / len(training)
    assert agree >= 0.9, agree
    assert all(0 < float(row[3]) <= 1 for row in rows)

    grid = math.ceil(math.sqrt(count))
    with Image.open(folder / "sprite.png") as sprite:
        assert sprite.format == "PNG" and sprite.size == (grid * 64, grid * 64)

    for config_path, prefix in (
        (folder / "projector_config.pbtxt", ""),
        (result.folder / "projector_config.pbtxt", "projector/"),
    ):
        config = text_format.Parse(config_path.read_text(), ProjectorConfig())
        (embedding,) = config.embeddings
        assert list(embedding.tensor_shape) == [count, 1280]
        assert embedding.tensor_path == f"{prefix}tensors.tsv"
        assert embedding.metadata_path == f"{prefix}metadata.tsv"
        assert embedding.sprite.image_path == f"{prefix}sprite.png"
        assert list(embedding.sprite.single_image_dim) == [64, 64]
        for path in (embedding.tensor_path, embedding.metadata_path, embedding.sprite.image_path):
            assert (config_path.parent / path).is_file()

    standalone = json.loads((folder / "projector_config.json").read_text())
    (embedding,) = standalone["embeddings"]
    assert embedding["tensorShape"] == [count, 1280]
    assert embedding["tensorName"] == trained.title
    assert [embedding["tensorPath"], embedding["metadataPath"], embedding["sprite"]["imagePath"]] == [
        "tensors.tsv",
        "metadata.tsv",
        "sprite.png",
    ]
    assert embedding["sprite"]["singleImageDim"] == [64, 64]


def log_softmax_loss(trained: TrainedProject, rows: np.ndarray) -> float:
    """The dense head's mean cross-entropy on `rows`, computed in float64 from the logits."""
    output = np.stack([sample.embedding for sample in trained.samples]).astype(np.float64)
    weights = trained.head.weights
    for layer in range(len(weights) // 2):
        output = output @ weights[2 * layer] + weights[2 * layer + 1]
        if layer < len(weights) // 2 - 1:
            output = np.maximum(output, 0)  # the default relu
    shifted = output - output.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_p[np.arange(len(output)), labels(trained)][rows].mean())


@pytest.mark.parametrize("head", HEADS)
def test_split_and_predictions_reproduce_what_the_page_measured(exported, head):
    """The recomputed split and predictions give the confusion matrix the page stored and, for the
    dense head, the last epoch's training and validation loss: a wrong split would not."""
    trained = exported(head).trained
    held = np.array(held_back(trained))
    predicted = probabilities(trained, list(held)).argmax(axis=1)
    actual = labels(trained)
    size = len(trained.head.class_names)
    confusion = np.zeros((size, size), dtype=int)
    np.add.at(confusion, (actual[held], predicted[held]), 1)
    assert confusion.tolist() == trained.head.evaluation["confusion"]
    last = trained.head.history[-1]
    if head == "dense":
        assert trained.head.config["activation"] == "relu"
        assert log_softmax_loss(trained, ~held) == pytest.approx(last["loss"], rel=1e-2)
        assert log_softmax_loss(trained, held) == pytest.approx(last["valLoss"], rel=1e-2)
    else:
        training = ~held
        assert np.mean(predicted[training] == actual[training]) == pytest.approx(last["accuracy"])


def synthetic(sizes: dict[str, int], fraction: float, seed: int) -> TrainedProject:
    samples = [
        Sample(f"{name}-{index}", name, np.zeros(4, np.float32), b"", b"")
        for name, size in sizes.items()
        for index in range(size)
    ]
    # Interleave the classes, as samples recorded in turns are: the split must pick per class.
    samples.sort(key=lambda sample: int(sample.id.rsplit("-", 1)[1]))
    settings = {"training": {"validation_fraction": fraction, "seed": seed}}
    return TrainedProject("t", None, None, 4, list(sizes), samples, settings, None)


def test_split_is_the_one_the_page_code_makes():
    """held_back against templates/app/learning/dataset.js itself, run by Node."""
    node = shutil.which("node")
    assert node, "Node.js is needed: every build bundles the page with it"
    cases = [
        ({"a": 20, "b": 20, "c": 20}, 0.15, 42),
        ({"a": 7, "b": 1, "c": 13, "d": 2}, 0.5, 0),
        ({"x": 31, "y": 5}, 0.25, 2**32 - 1),
        ({"x": 9, "y": 40}, 0.0, 7),
        ({"p": 101, "q": 3}, 0.33, 123456789),
    ]
    projects = [synthetic(*case) for case in cases]
    script = """
    import { readFileSync } from "node:fs";
    import { pathToFileURL } from "node:url";
    const { Dataset, seededRandom } = await import(pathToFileURL(process.argv[1]).href);
    const cases = JSON.parse(readFileSync(0, "utf8"));
    const random = seededRandom(42);
    const numbers = Array.from({ length: 5 }, () => random());
    const splits = cases.map(({ classes, samples, fraction, seed }) => {
      const dataset = new Dataset(classes.map((name) => ({ id: name, name })), samples);
      return dataset.split(fraction, seed).validation.map((sample) => sample.id).sort();
    });
    console.log(JSON.stringify({ numbers, splits }));
    """
    given = [
        {
            "classes": project.class_names,
            "samples": [{"id": sample.id, "classId": sample.class_name} for sample in project.samples],
            "fraction": project.settings["training"]["validation_fraction"],
            "seed": project.settings["training"]["seed"],
        }
        for project in projects
    ]
    run = subprocess.run(
        [node, "--input-type=module", "-e", script, str(ROOT / "templates/app/learning/dataset.js")],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    page = json.loads(run.stdout)
    random = seeded_random(42)
    assert [random() for _ in range(5)] == page["numbers"]
    for project, expected in zip(projects, page["splits"], strict=True):
        ours = sorted(
            sample.id for sample, held in zip(project.samples, held_back(project), strict=True) if held
        )
        assert ours == expected


def test_a_file_without_a_trained_model_or_history_is_refused(exported, tmp_path):
    trained = exported("dense").trained
    with pytest.raises(TrainedFileError, match="no trained model.*\nHint: press Train"):
        export_tensorboard(dataclasses.replace(trained, head=None), tmp_path)
    no_history = dataclasses.replace(trained, head=dataclasses.replace(trained.head, history=[]))
    with pytest.raises(TrainedFileError, match="no training history"):
        export_tensorboard(no_history, tmp_path)
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


def get(url: str) -> bytes:
    # A fresh opener without proxies: urllib's global one keeps whatever proxy it first saw.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as response:
        return response.read()


def test_tensorboard_shows_the_runs_the_image_and_the_projector(exported, tmp_path):
    result = exported("dense")
    # TensorBoard's own server, in this process: TensorFlow is loaded here already, where a fresh
    # `tensorboard` process spent minutes importing it on a busy CI machine. It runs on a daemon
    # thread that ends with the test session.
    board = program.TensorBoard()
    board.configure(
        argv=[
            None,
            "--logdir",
            str(result.folder),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--load_fast=false",  # the Python loader, not the experimental Rust data server
            "--reload_interval=0",  # read the logs once
        ]
    )
    base = board.launch().rstrip("/")
    runs = json.loads(get(f"{base}/data/runs"))
    assert sorted(runs) == ["train", "validation"]
    tags = json.loads(get(f"{base}/data/plugin/scalars/tags"))
    assert {run: sorted(tags[run]) for run in tags} == {
        "train": ["epoch_accuracy", "epoch_loss"],
        "validation": ["epoch_accuracy", "epoch_loss"],
    }
    points = json.loads(get(f"{base}/data/plugin/scalars/scalars?run=validation&tag=epoch_loss"))
    assert [step for _, step, _ in points] == list(range(50))
    assert list(json.loads(get(f"{base}/data/plugin/images/tags"))["validation"]) == ["confusion_matrix"]
    # The projector: listed for the log directory itself, its tensor served as float32.
    assert json.loads(get(f"{base}/data/plugin/projector/runs")) == ["."]
    info = json.loads(get(f"{base}/data/plugin/projector/info?run=."))
    (embedding,) = info["embeddings"]
    name = urllib.parse.quote(embedding["tensorName"])
    tensor = get(f"{base}/data/plugin/projector/tensor?run=.&name={name}")
    assert len(tensor) == len(result.trained.samples) * 1280 * 4
    sprite = get(f"{base}/data/plugin/projector/sprite_image?run=.&name={name}")
    assert Image.open(io.BytesIO(sprite)).format == "PNG"
