"""The predict.py an export writes: each format's script with the shared module put in place of its
import, one file that runs on its own (here: its --help, which needs no model runtime), and its
--explain, first through the shared module with a stub model whose evidence is known, then on a
real Keras export of a trained project."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from builder.export.formats import SHARED_SCRIPT, write_script

from .support.files import unwritable

SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "builder" / "export" / "scripts"

SCRIPTS = ("predict_keras.py", "predict_savedmodel.py", "predict_tflite.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_predict_py_is_one_file_that_runs_alone(script, tmp_path):
    path = write_script(tmp_path, script)
    text = path.read_text(encoding="utf-8")
    assert "import predict_images" not in text and "from predict_images" not in text
    assert f"# From {SHARED_SCRIPT}:" in text and "def load_pixels(" in text
    assert [p.name for p in tmp_path.iterdir()] == ["predict.py"]
    ran = subprocess.run(
        [sys.executable, str(path), "--help"], cwd=Path("/"), capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert "Classify images with the exported model." in ran.stdout and "--json" in ran.stdout


@pytest.fixture
def shared(monkeypatch):
    """predict_images.py as the module every predict.py inlines."""
    spec = importlib.util.spec_from_file_location("predict_images", SCRIPTS_DIR / SHARED_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "predict_images", module)  # its dataclass looks itself up
    spec.loader.exec_module(module)
    return module


def left_evidence(pixels: np.ndarray) -> np.ndarray:
    """A stub two-class model whose evidence for class 0 is the brightness of the image's left half
    alone: softmax of [(mean of the left half − 128) / 32, 0]."""
    half = pixels.shape[2] // 2
    logit = (pixels[:, :, :half].mean(axis=(1, 2, 3)) - 128) / 32
    exp = np.exp(np.stack([logit, np.zeros_like(logit)], axis=1))
    return exp / exp.sum(axis=1, keepdims=True)


def bright_left(size: int = 224) -> np.ndarray:
    pixels = np.random.default_rng(0).uniform(0, 255, (size, size, 3)).astype(np.float32)
    pixels[:, : size // 2] = 250
    return pixels


def test_explain_finds_the_half_that_holds_the_evidence(shared):
    values = shared.explain(left_evidence, bright_left(), 0, batch=20)
    assert values.shape == (7, 7)
    # Cells up to two columns right of the seam still hide part of the left half (3×3 patches).
    assert values[:, :3].min() > 1e-3 and np.abs(values[:, 5:]).max() < 1e-9
    assert values[:, :3].mean() > 10 * values[:, 4:].mean()
    # Hiding the other class's evidence where there is none changes nothing for it either.
    assert np.all(shared.explain(left_evidence, bright_left(), 1) <= 1e-9)


def test_the_patches_are_the_pages(shared):
    """Grey 128, the cell and its neighbours, edges round(i·size/7): at 200 px, 28 or 29 px cells."""
    patches = shared.occluded(np.zeros((200, 200, 3), np.float32))
    grey = patches[..., 0] == 128
    assert grey.shape == (49, 200, 200)
    assert [shared.cell_edge(i, 7, 200) for i in range(8)] == [0, 29, 57, 86, 114, 143, 171, 200]
    corner = np.argwhere(grey[0])
    assert corner.min(axis=0).tolist() == [0, 0] and corner.max(axis=0).tolist() == [56, 56]
    middle = np.argwhere(grey[24])
    assert middle.min(axis=0).tolist() == [57, 57] and middle.max(axis=0).tolist() == [142, 142]


def stub_run(shared, tmp_path, monkeypatch, *args: str) -> tuple[int, str, str]:
    """predict.py's command line on the stub model, with labels.txt "Left, Other" beside it."""
    import contextlib
    import io

    (tmp_path / "labels.txt").write_text("Left\nOther\n", encoding="utf-8")
    monkeypatch.setattr(shared, "HERE", tmp_path)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = shared.run(lambda: shared.Model(224, left_evidence, batch=16), list(args))
    return code, out.getvalue(), err.getvalue()


def test_explain_writes_one_png_per_image_over_the_crop(shared, tmp_path, monkeypatch):
    photo = tmp_path / "wide.png"
    wide = np.zeros((300, 400, 3), np.uint8)  # the centre square is columns 50–350
    wide[:, 50:200] = 250
    wide[:, 200:350] = np.random.default_rng(1).integers(0, 255, (300, 150, 3))
    Image.fromarray(wide).save(photo)
    plain = stub_run(shared, tmp_path, monkeypatch, "--json", str(photo))
    code, out, err = stub_run(
        shared, tmp_path, monkeypatch, "--json", "--explain", str(tmp_path / "maps"), str(photo)
    )
    assert code == 0 and out == plain[1], err
    assert json.loads(out)["label"] == "Left"
    written = tmp_path / "maps" / "wide.explain.png"
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{written}: where the evidence for Left was"), err
    with Image.open(written) as image:
        assert image.size == (224, 224) and image.mode == "RGB"
        heat = np.asarray(image, dtype=float)
    # The inferno ramp over the crop: the left (evidence) half bright yellow-orange, the right dark.
    assert heat[:, :64].mean() > heat[:, -64:].mean() + 50

    code, _, err = stub_run(
        shared,
        tmp_path,
        monkeypatch,
        "--explain",
        str(tmp_path / "maps"),
        "--explain-class",
        "Other",
        str(photo),
    )
    assert code == 0 and "evidence for Other" in err


def test_explain_refuses_an_unknown_class_and_an_unwritable_folder(shared, tmp_path, monkeypatch):
    photo = tmp_path / "p.png"
    Image.fromarray(np.zeros((50, 50, 3), np.uint8)).save(photo)
    code, out, err = stub_run(
        shared, tmp_path, monkeypatch, "--explain", str(tmp_path), "--explain-class", "Cat", str(photo)
    )
    assert (code, out) == (1, "")
    assert err == "--explain-class: the model has no class 'Cat' (its classes: Left, Other).\n"
    locked = tmp_path / "locked"
    locked.mkdir()
    with unwritable(locked):
        code, out, err = stub_run(
            shared, tmp_path, monkeypatch, "--explain", str(locked / "maps"), str(photo)
        )
    assert (code, out) == (1, "")
    assert err.startswith(f"--explain: cannot write in {locked / 'maps'} (") and err.count("\n") == 1, err


def test_a_keras_export_explains_a_composite(python_trained, tmp_path):
    """The Python-trained dense project exported as Keras; its predict.py --explain on two
    composites (left half one texture, right half another, held-out photos) writes one PNG each, of
    the model's input size, and leaves the --json answers as they were."""
    from .test_export import teachkit

    trained = python_trained("dense")
    folder = tmp_path / "keras"
    result = teachkit("export", trained.project_file, "--format", "keras", "-o", folder)
    assert result.returncode == 0, result.stderr
    photos = []
    for name, (left, right) in {"brick-grass": ("brick", "grass"), "grass-brick": ("grass", "brick")}.items():
        a = np.asarray(Image.open(held_out(trained, left)).convert("RGB"))
        b = np.asarray(Image.open(held_out(trained, right)).convert("RGB"))
        half = a.shape[1] // 2
        photos.append(tmp_path / f"{name}.png")
        Image.fromarray(np.concatenate([a[:, :half], b[:, half:]], axis=1)).save(photos[-1])

    def predict(*args: object) -> subprocess.CompletedProcess:
        ran = subprocess.run(
            [sys.executable, str(folder / "predict.py"), "--json", *map(str, args), *map(str, photos)],
            cwd=Path("/"),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert ran.returncode == 0, ran.stderr
        return ran

    plain = predict()
    maps = tmp_path / "maps"
    explained = predict("--explain", maps, "--explain-class", "Brick")
    assert explained.stdout == plain.stdout
    print("\n" + explained.stderr)
    for photo in photos:
        written = maps / f"{photo.stem}.explain.png"
        assert f"{written}: where the evidence for Brick was" in explained.stderr
        with Image.open(written) as image:
            assert image.size == (224, 224)


def held_out(trained, texture: str) -> Path:
    """A held-out photo of `texture` from the trained project's predictions (never trained on)."""
    return next(photo for photo, _, _ in trained.predictions if photo.name.startswith(f"{texture}-held-out"))
