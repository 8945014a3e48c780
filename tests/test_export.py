"""teachkit export: a trained project file, as files other tools read. Each model format is
exported once per module by the command as an author runs it, loaded by its real consumer in a
fresh Python, and its own predict.py classifies the held-out photos as the reference did. Bad
inputs fail with exit code 1, a clear message, and nothing written.

The project file is written in Python (tests/support/trained_project.py: the page's format, the
real photos embedded by the float base model, a head of the page's kind trained in Keras), so no
browser trains anything here; its reference labels and probabilities are the Python model's own.
One parity test exports a file the real page trained and saved, and checks its predict.py against
the page's own labels, so that the format the page writes stays covered end to end."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from builder.export import FORMATS, available_formats
from builder.export.output import MARKER
from builder.trained import MANIFEST, read_project_file

from .support.files import unwritable
from .support.site import run_cli

REPO = Path(__file__).resolve().parent.parent
NATIVE_NOISE = re.compile(r"[EWI]0000|cuda|cudnn|cublas|absl::InitializeLog", re.IGNORECASE)
MODEL_FORMATS = ("keras", "savedmodel", "tflite", "tflite-int8")
MIN_AGREEMENT = 0.97  # float formats, of the reference labels on the 36 held-out photos
MIN_INT8_AGREEMENT = 0.80


@dataclass
class Exported:
    folder: Path
    stdout: str
    stderr: str


def teachkit(*args: object) -> subprocess.CompletedProcess:
    """The command in its own process, as an author runs it (so that TensorFlow's C++ log, written
    to file descriptor 2 directly, would show in stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "builder.cli", *(str(arg) for arg in args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )


def fresh_python(script: str, *args: object) -> subprocess.CompletedProcess:
    """A script in a new interpreter that imports nothing of teachkit: a consumer of the export."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), *(str(arg) for arg in args)],
        cwd="/",
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def dense(python_trained):
    """The dense project file written in Python, and the Python model's predictions (the reference)."""
    return python_trained("dense")


@pytest.fixture(scope="module")
def exported(dense, tmp_path_factory):
    """format → its export of the dense project file, made once per module."""
    made: dict[str, Exported] = {}

    def get(format_name: str) -> Exported:
        if format_name not in made:
            folder = tmp_path_factory.mktemp(f"export-{format_name}") / "out"
            result = teachkit("export", dense.project_file, "--format", format_name, "-o", folder)
            assert result.returncode == 0, result.stderr
            made[format_name] = Exported(folder, result.stdout, result.stderr)
        return made[format_name]

    return get


def run_predict(folder: Path, photos: list[Path]) -> dict[str, dict]:
    """The export's own predict.py on every photo at once, in a fresh process: file → its line."""
    result = subprocess.run(
        [sys.executable, str(folder / "predict.py"), "--json", *(str(p) for p in photos)],
        cwd="/",
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["file"] for line in lines] == [str(p) for p in photos]
    return {line["file"]: line for line in lines}


def compare_with_page(dense, predicted: dict[str, dict]) -> tuple[float, float]:
    """(share of photos with the reference label, largest difference of any class's probability);
    the reference is what made the file: the Python model, or the page in the parity test."""
    agree, largest = 0, 0.0
    for photo, label, confidences in dense.predictions:
        line = predicted[str(photo)]
        agree += line["label"] == label
        assert set(line["probabilities"]) == set(confidences)
        largest = max(largest, *(abs(line["probabilities"][k] - v) for k, v in confidences.items()))
    return agree / len(dense.predictions), largest


def photos_of(dense) -> list[Path]:
    return [photo for photo, _, _ in dense.predictions]


def test_the_table_offers_every_format_on_the_command_line():
    assert set(MODEL_FORMATS) | {"embeddings"} <= set(available_formats())
    assert all(FORMATS[name].kind == "model" for name in MODEL_FORMATS)
    result = run_cli("export", "--help")
    assert result.exit_code == 0
    for name in available_formats():
        assert name in result.output, result.output


def test_unknown_format_is_a_usage_error(tmp_path):
    result = run_cli("export", tmp_path / "x.teachkit.zip", "--format", "onnx", "-o", tmp_path / "out")
    assert result.exit_code == 2  # click's Choice: a wrong command line, as everywhere in teachkit
    assert "Invalid value for '--format'" in result.output and "keras" in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("format_name", MODEL_FORMATS)
def test_summary_and_progress_without_tensorflow_noise(exported, format_name):
    export = exported(format_name)
    model = {"keras": "model.keras", "savedmodel": "saved_model/"}.get(format_name, "model.tflite")
    assert re.fullmatch(
        rf"Exported {format_name} to {re.escape(str(export.folder))} in \d+\.\d s: "
        rf"{re.escape(model)} \d+\.\d MB( \(.*\))?, labels\.txt, predict\.py\.\n",
        export.stdout,
    ), export.stdout
    assert not NATIVE_NOISE.search(export.stderr), export.stderr
    lines = export.stderr.splitlines()
    assert lines[0] == "Rebuilding the base model (efficientnet_lite0)", export.stderr
    agreement = re.fullmatch(
        r"The rebuilt base model agrees with the page: cosine min (\S+) on 16 stored crops\.", lines[1]
    )
    assert agreement and float(agreement[1]) > 0.95, export.stderr
    marker = json.loads((export.folder / MARKER).read_text())
    assert marker["format"] == format_name
    assert (export.folder / "labels.txt").read_text() == "Brick\nGrass\nGravel\n"


def test_keras_file_loads_in_a_fresh_python_without_custom_objects(exported, dense):
    folder = exported("keras").folder
    result = fresh_python(
        """
        import json, sys
        import keras
        model = keras.saving.load_model(sys.argv[1])  # safe mode, no custom objects
        modules = sorted({type(layer).__module__.split(".")[0] for layer in model._flatten_layers()})
        print(json.dumps({"input": list(model.input_shape), "output": list(model.output_shape),
                          "modules": modules, "last": model.layers[-1].get_config()["activation"]}))
        """,
        folder / "model.keras",
    )
    shape = json.loads(result.stdout.splitlines()[-1])
    assert shape == {
        "input": [None, 224, 224, 3],
        "output": [None, 3],
        "modules": ["keras"],
        "last": "softmax",
    }
    agreement, largest = compare_with_page(dense, run_predict(folder, photos_of(dense)))
    print(f"\nkeras: {agreement:.1%} as the reference, max probability difference {largest:.4f}")
    assert agreement >= MIN_AGREEMENT


def test_savedmodel_loads_with_tf_saved_model_load(exported, dense):
    folder = exported("savedmodel").folder
    result = fresh_python(
        """
        import json, sys
        import numpy as np
        import tensorflow as tf
        serve = tf.saved_model.load(sys.argv[1]).signatures["serving_default"]
        inputs = {name: spec.shape.as_list() for name, spec in serve.structured_input_signature[1].items()}
        outputs = serve(pixels=tf.constant(np.full((2, 224, 224, 3), 128, np.float32)))
        sums = {key: value.numpy().sum(axis=1).tolist() for key, value in outputs.items()}
        print(json.dumps({"inputs": inputs, "outputs": sums}))
        """,
        folder / "saved_model",
    )
    found = json.loads(result.stdout.splitlines()[-1])
    assert found["inputs"] == {"pixels": [None, 224, 224, 3]}
    assert list(found["outputs"]) == ["probabilities"]
    assert np.allclose(found["outputs"]["probabilities"], 1.0, atol=1e-5)
    # Keras's own export stores every variable twice (keras-team/keras#23553); this one does not.
    size = sum(p.stat().st_size for p in (folder / "saved_model").rglob("*") if p.is_file())
    assert size < 1.2 * (exported("keras").folder / "model.keras").stat().st_size
    agreement, largest = compare_with_page(dense, run_predict(folder, photos_of(dense)))
    print(f"\nsavedmodel: {agreement:.1%} as the reference, max probability difference {largest:.4f}")
    assert agreement >= MIN_AGREEMENT


def test_parity_a_file_the_page_trained_exports_and_predicts_as_the_page(page_trained, tmp_path):
    """The one export of a file the real page trained and saved (every other test here starts from
    a file written in Python): the page's format and embeddings rebuild, and the export's predict.py
    gives the page's own labels."""
    page = page_trained("dense")
    folder = tmp_path / "out"
    result = teachkit("export", page.project_file, "--format", "keras", "-o", folder)
    assert result.returncode == 0, result.stderr
    assert not NATIVE_NOISE.search(result.stderr), result.stderr
    agreement = re.search(
        r"The rebuilt base model agrees with the page: cosine min (\S+) on 16 stored crops\.", result.stderr
    )
    assert agreement and float(agreement[1]) > 0.95, result.stderr
    agreement, largest = compare_with_page(page, run_predict(folder, photos_of(page)))
    print(f"\nparity: agreement with the page {agreement:.1%}, max probability difference {largest:.4f}")
    assert agreement >= MIN_AGREEMENT


TFLITE_DETAILS = """
import json, sys, warnings
warnings.simplefilter("ignore")
import tensorflow as tf
interpreter = tf.lite.Interpreter(model_path=sys.argv[1])
interpreter.allocate_tensors()
def detail(d):
    quantization = list(d["quantization"])
    return {"shape": d["shape"].tolist(), "dtype": d["dtype"].__name__, "quantization": quantization}
print(json.dumps({"input": [detail(d) for d in interpreter.get_input_details()],
                  "output": [detail(d) for d in interpreter.get_output_details()]}))
"""


def test_tflite_float_runs_in_the_tflite_interpreter(exported, dense):
    folder = exported("tflite").folder
    details = json.loads(fresh_python(TFLITE_DETAILS, folder / "model.tflite").stdout.splitlines()[-1])
    assert details["input"] == [{"shape": [1, 224, 224, 3], "dtype": "float32", "quantization": [0.0, 0]}]
    assert [(d["shape"], d["dtype"]) for d in details["output"]] == [([1, 3], "float32")]
    agreement, largest = compare_with_page(dense, run_predict(folder, photos_of(dense)))
    print(f"\ntflite: {agreement:.1%} as the reference, max probability difference {largest:.4f}")
    assert agreement >= MIN_AGREEMENT


def test_tflite_int8_is_calibrated_on_the_files_own_crops(exported, dense):
    export = exported("tflite-int8")
    samples = len(read_project_file(dense.project_file).samples)
    assert f"(int8, calibrated on {samples} stored crops; top-1 as the float model on " in export.stdout
    assert f"Calibrating int8 on {samples} stored crops" in export.stderr
    details = json.loads(fresh_python(TFLITE_DETAILS, export.folder / "model.tflite").stdout.splitlines()[-1])
    (source,), (target,) = details["input"], details["output"]
    assert source["dtype"] == "int8" and target["dtype"] == "int8"
    assert source["quantization"][0] > 0 and target["quantization"][0] > 0
    size = (export.folder / "model.tflite").stat().st_size
    assert size < 0.4 * (exported("tflite").folder / "model.tflite").stat().st_size
    agreement, largest = compare_with_page(dense, run_predict(export.folder, photos_of(dense)))
    print(f"\ntflite-int8: {agreement:.1%} as the reference, max probability difference {largest:.4f}")
    assert agreement >= MIN_INT8_AGREEMENT


def test_embeddings_are_the_files_own(exported, dense):
    export = exported("embeddings")
    trained = read_project_file(dense.project_file)
    assert re.fullmatch(
        rf"Exported embeddings to {re.escape(str(export.folder))} in \d+\.\d s: "
        r"embeddings\.npz \S+ [kM]B, embeddings\.csv \S+ [kM]B, labels\.txt\.\n",
        export.stdout,
    ), export.stdout
    assert "TensorFlow" not in export.stderr
    with np.load(export.folder / "embeddings.npz", allow_pickle=False) as data:
        embeddings, labels, ids, names = (data[k] for k in ("embeddings", "labels", "ids", "class_names"))
    assert embeddings.dtype == np.float32
    assert embeddings.shape == (len(trained.samples), trained.embedding_size) == (60, 1280)
    assert np.array_equal(embeddings, np.stack([s.embedding for s in trained.samples]))
    assert names.tolist() == trained.class_names
    assert [names[i] for i in labels] == [s.class_name for s in trained.samples]
    assert ids.tolist() == [s.id for s in trained.samples]
    with (export.folder / "embeddings.csv").open(newline="", encoding="utf-8") as stream:
        rows = list(csv.reader(stream))
    assert rows[0][:3] == ["id", "class", "e0"] and len(rows[0]) == 2 + 1280
    assert [row[:2] for row in rows[1:]] == [[s.id, s.class_name] for s in trained.samples]
    assert np.array_equal(np.asarray([row[2:] for row in rows[1:]], dtype=np.float32), embeddings)
    assert (export.folder / "labels.txt").read_text().splitlines() == trained.class_names


# --- Refusals: exit code 1, a message that says what to do, and nothing written ------------------


def rewritten(source: Path, target: Path, change) -> Path:
    """A copy of a project file whose manifest `change(manifest)` edited."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info.filename)
            if info.filename == MANIFEST:
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
            new.writestr(info.filename, data)
    return target


def refused(tmp_path: Path, source: Path, format_name: str, *extra: object) -> str:
    """Runs an export that must fail; returns its message after checking nothing was left."""
    before = sorted(p.name for p in tmp_path.iterdir())
    output = tmp_path / "out" / "export"
    result = run_cli("export", source, "--format", format_name, "-o", output, *extra)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("error: ") and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()  # neither the folder nor a parent it would have made
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    return result.output


def test_damaged_file(tmp_path, dense):
    damaged = tmp_path / "damaged.teachkit.zip"
    damaged.write_bytes(dense.project_file.read_bytes()[:-5000])
    message = refused(tmp_path, damaged, "keras")
    assert f"error: {damaged}: not a teachkit project file, or it is damaged" in message


def test_foreign_zip(tmp_path):
    foreign = tmp_path / "holiday.zip"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("notes.txt", "not a project")
        archive.writestr("photos/beach.jpg", b"\xff\xd8")
    message = refused(tmp_path, foreign, "embeddings")
    assert f"{foreign}: this zip file was not saved by a teachkit page" in message
    assert '"notes.txt"' in message and "Save project file" in message


def test_missing_file(tmp_path):
    assert f"{tmp_path / 'nope.zip'}: file not found" in refused(tmp_path, tmp_path / "nope.zip", "keras")


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        (None, "made by an older page, which did not record its base model"),
        ({"weights": "0" * 64}, "weights is sha256 000000000000… in the file but sha256 "),
        ({"base": "resnet50"}, 'the page\'s base model is "resnet50", which this teachkit cannot build'),
        (
            {"custom": "a" * 64, "cut_layer": "pool", "input_range": "0-1"},
            "Hint: pass that model file with --base-model PATH",
        ),
    ],
    ids=["no-base", "other-weights", "unknown-base", "own-model"],
)
def test_another_base_model_is_refused_naming_both(tmp_path, dense, base, expected):
    def change(manifest):
        if base is None:
            del manifest["base"]
        elif "custom" in base:
            manifest["base"] = {k: v for k, v in manifest["base"].items() if k not in ("base", "weights")}
            manifest["base"].update(base)
        else:
            manifest["base"].update(base)

    copy = rewritten(dense.project_file, tmp_path / "other.teachkit.zip", change)
    message = refused(tmp_path, copy, "tflite")
    assert expected in message, message
    if base is None:
        assert "open it in the page and save it again" in message
    if base == {"base": "resnet50"}:
        assert "it builds efficientnet_lite0, mobilenet_v1" in message
    # The embeddings need no base model.
    assert run_cli("export", copy, "--format", "embeddings", "-o", tmp_path / "e").exit_code == 0


def test_own_model_with_another_file_is_refused(tmp_path, dense):
    other = tmp_path / "mine.keras"
    other.write_bytes(b"not the model the page was built from")

    def change(manifest):
        manifest["base"] = {**manifest["base"], "custom": "a" * 64, "cut_layer": "pool", "input_range": "0-1"}
        del manifest["base"]["base"], manifest["base"]["weights"]

    copy = rewritten(dense.project_file, tmp_path / "own.teachkit.zip", change)
    message = refused(tmp_path, copy, "keras", "--base-model", other)
    assert "custom is sha256 aaaaaaaaaaaa… in the file but sha256 " in message
    assert "here (your own model mine.keras cut at pool)" in message


def test_knn_head_is_refused_for_model_formats_and_offered_embeddings(tmp_path, python_trained):
    knn = python_trained("knn").project_file
    message = refused(tmp_path, knn, "keras")
    assert "the trained head is k-nearest neighbours (k = 3), which cannot be exported as keras" in message
    assert "not a network of layers" in message and "--format embeddings" in message
    result = run_cli("export", knn, "--format", "embeddings", "-o", tmp_path / "e")
    assert result.exit_code == 0, result.output
    with np.load(tmp_path / "e" / "embeddings.npz") as data:
        assert data["embeddings"].shape == (60, 1280)


def test_untrained_file_is_refused_for_model_formats_but_exports_embeddings(tmp_path, dense):
    untrained = rewritten(dense.project_file, tmp_path / "untrained.teachkit.zip", lambda m: m.pop("head"))
    message = refused(tmp_path, untrained, "tflite")
    assert "nothing is trained in this project file" in message and "train it in the page first" in message
    result = run_cli("export", untrained, "--format", "embeddings", "-o", tmp_path / "e")
    assert result.exit_code == 0, result.output


def test_output_locations(tmp_path, dense):
    source = dense.project_file
    # A folder with someone else's files is refused and kept.
    foreign = tmp_path / "thesis"
    foreign.mkdir()
    (foreign / "chapter1.docx").write_text("years of work")
    result = run_cli("export", source, "--format", "embeddings", "-o", foreign)
    assert result.exit_code == 1
    assert f"the output directory {foreign} holds files that teachkit export did not write" in result.output
    assert [p.name for p in foreign.iterdir()] == ["chapter1.docx"]
    # The folder holding the project file itself.
    beside = tmp_path / "beside"
    beside.mkdir()
    (beside / source.name).write_bytes(source.read_bytes())
    result = run_cli("export", beside / source.name, "--format", "embeddings", "-o", beside)
    assert result.exit_code == 1 and "contains the project file" in result.output
    # An earlier export is replaced, with the usual permissions.
    again = tmp_path / "again"
    assert run_cli("export", source, "--format", "embeddings", "-o", again).exit_code == 0
    (again / "embeddings.csv").write_text("stale")
    assert run_cli("export", source, "--format", "embeddings", "-o", again).exit_code == 0
    assert (again / "embeddings.csv").read_text().startswith("id,class,e0")
    assert oct(again.stat().st_mode & 0o777) == oct(0o777 & ~current_umask())
    # A location that cannot be written.
    locked = tmp_path / "locked"
    locked.mkdir()
    with unwritable(locked):
        result = run_cli("export", source, "--format", "embeddings", "-o", locked / "out")
    assert result.exit_code == 1
    assert f"error: cannot write the output directory {locked / 'out'}" in result.output
    assert list(locked.iterdir()) == []


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_a_failure_while_writing_leaves_nothing(tmp_path, dense, monkeypatch):
    from builder.errors import TeachkitError
    from builder.export import formats

    def half_written(trained, output, progress):
        (output / "embeddings.npz").write_bytes(b"half")
        raise TeachkitError("the disk is full")

    monkeypatch.setattr(formats, "export_embeddings", half_written)
    result = run_cli("export", dense.project_file, "--format", "embeddings", "-o", tmp_path / "a" / "b")
    assert result.exit_code == 1 and result.output == "error: the disk is full\n"
    assert list(tmp_path.iterdir()) == []


def test_project_file_reader_tells_kinds_apart_before_unpacking(tmp_path):
    from builder.errors import TrainedFileError
    from builder.trained import read_trained

    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w"):
        pass
    with pytest.raises(TrainedFileError, match="holds nothing"):
        read_trained(empty)
    with pytest.raises(TrainedFileError, match="is a folder"):
        read_trained(tmp_path)
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(TrainedFileError, match="damaged"):
        read_trained(broken)
