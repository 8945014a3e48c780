"""What every exported predict.py shares: the command line, reading each image as the page that
trained the model does, printing one answer per image and, with --explain, drawing where in the
image the evidence was. The export writes it into predict.py in
place of the line of predict_*.py that imports it (builder/export/formats.py), so an author gets one
file; labels.txt beside it names the model's outputs."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

HERE = Path(__file__).resolve().parent

# pixels (N×size×size×3 float32, RGB 0–255) → one row of outputs per image
Predict = Callable[[np.ndarray], np.ndarray]

# The page's occlusion test (templates/app/learning/explain.js): a 7 × 7 grid on the model's crop,
# each cell hidden with the 3 × 3 cells around it (cut at the edges) under grey 128, so a map here
# and the page's "Test by hiding parts" measure the same thing.
GRID = 7
SPAN = 3
GREY = 128.0
# Inferno at five even steps, as the page's heatmap (templates/app/ui/explain.js): dark for the
# weakest evidence, bright yellow for the strongest; readable in greyscale and for the common
# colour-vision deficiencies.
STOPS = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9], [252, 255, 164]], dtype=np.float64)


@dataclass(frozen=True)
class Model:
    size: int  # the model's input: size×size pixels
    predict: Predict
    batch: int = 32  # images per call


def load_pixels(path: Path, size: int) -> np.ndarray:
    """The centred square of the image at size×size, float32 RGB 0–255 (as the page's crop)."""
    with Image.open(path) as image:
        image = ImageOps.exif_transpose(image).convert("RGB")
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    square = image.crop((left, top, left + side, top + side))
    return np.asarray(square.resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)


def cell_edge(index: int, count: int, size: int) -> int:
    """Where cell `index` of `count` starts along `size` pixels: round(index·size/count), halves up
    as JavaScript's Math.round, so the cells are the page's to the pixel."""
    return int(np.floor(index * size / count + 0.5))


def occluded(pixels: np.ndarray, grid: int = GRID, span: int = SPAN) -> np.ndarray:
    """grid² copies of one image (size×size×3), each with one cell and its neighbours greyed, row
    by row from the top-left."""
    size = pixels.shape[0]
    before = (span - 1) // 2
    edges = [
        (cell_edge(max(0, i - before), grid, size), cell_edge(min(grid, i - before + span), grid, size))
        for i in range(grid)
    ]
    patches = np.repeat(pixels[np.newaxis], grid * grid, axis=0)
    for row, (top, bottom) in enumerate(edges):
        for col, (left, right) in enumerate(edges):
            patches[row * grid + col, top:bottom, left:right] = GREY
    return patches


def class_score(outputs: np.ndarray, index: int) -> np.ndarray:
    """The score an explanation watches, for each row of the model's outputs. A classifier's export
    ends in its softmax, so the logit the page explains is not there; the log-probability is the
    logit minus a term shared by the classes (log Σ exp), and unlike the probability it does not
    saturate: at 99.9 % hiding a patch barely moves the probability but still moves its log.
    A regression model's one output is the number itself."""
    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.shape[1] == 1:
        return outputs[:, 0]
    return np.log(np.maximum(outputs[:, index], 1e-30))


def explain(predict: Predict, pixels: np.ndarray, index: int, batch: int = 32) -> np.ndarray:
    """The drop of the class's score (class_score) when each cell of a 7 × 7 grid is hidden:
    a GRID×GRID array, row-major from the top-left of the crop, larger = more evidence."""
    base = class_score(predict(pixels[np.newaxis]), index)[0]
    patches = occluded(pixels)
    scores = np.concatenate(
        [class_score(predict(patches[i : i + batch]), index) for i in range(0, len(patches), batch)]
    )
    return (base - scores).reshape(GRID, GRID)


def heatmap_image(pixels: np.ndarray, values: np.ndarray) -> Image.Image:
    """The crop the model saw with the map over it, as the page draws it: each map scaled to its
    own range, inferno colours, weaker cells letting more of the picture through."""
    low, high = float(values.min()), float(values.max())
    share = (values - low) / (high - low) if high > low else np.full(values.shape, 0.5)
    steps = np.linspace(0, 1, len(STOPS))
    colour = np.stack([np.interp(share, steps, STOPS[:, c]) for c in range(3)], axis=-1)
    alpha = 0.35 + 0.4 * share[..., np.newaxis]
    cells = np.concatenate([colour, alpha * 255], axis=-1).round().astype(np.uint8)
    size = pixels.shape[0]
    # NEAREST keeps the cells squares; the map's cell edges then fall on round(i·size/7) as well.
    overlay = Image.fromarray(cells, "RGBA").resize((size, size), Image.Resampling.NEAREST)
    picture = Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8), "RGB").convert("RGBA")
    return Image.alpha_composite(picture, overlay).convert("RGB")


def explain_target(labels: list[str], name: str | None) -> int | None:
    """The index of the class named by --explain-class (None: each image's predicted class)."""
    if name is None or len(labels) == 1:
        return None
    if name not in labels:
        raise ValueError(
            f"--explain-class: the model has no class {name!r} (its classes: {', '.join(labels)})."
        )
    return labels.index(name)


def writable_folder(folder: Path) -> Path:
    """Makes the --explain folder and checks that a file can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".teachkit-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise ValueError(f"--explain: cannot write in {folder} ({error.strerror or error}).") from error
    return folder


def run(load_model: Callable[[], Model], argv: list[str] | None = None) -> int:
    """Parses the command line first (so --help needs no model runtime), then classifies. Exit 1
    when any image could not be read; the others are still answered."""
    parser = argparse.ArgumentParser(description="Classify images with the exported model.")
    parser.add_argument("images", nargs="+", type=Path, help="image files (JPEG, PNG, …)")
    parser.add_argument("--json", action="store_true", help="one JSON line per image, with every class")
    parser.add_argument(
        "--explain",
        metavar="DIR",
        type=Path,
        help="also write DIR/<image>.explain.png: where the evidence was (49 more runs per image)",
    )
    parser.add_argument(
        "--explain-class",
        metavar="NAME",
        help="the class to explain (default: each image's predicted class)",
    )
    args = parser.parse_args(argv)

    labels = (HERE / "labels.txt").read_text(encoding="utf-8").splitlines()
    try:
        target = explain_target(labels, args.explain_class)
        folder = writable_folder(args.explain) if args.explain else None
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    model = load_model()
    failed = 0
    for start in range(0, len(args.images), model.batch):
        batch, paths = [], []
        for path in args.images[start : start + model.batch]:
            try:
                batch.append(load_pixels(path, model.size))
                paths.append(path)
            except OSError as error:
                print(f"{path}: cannot read the image ({error})", file=sys.stderr)
                failed += 1
        if not batch:
            continue
        pixels = np.stack(batch)
        for path, image, row in zip(paths, pixels, model.predict(pixels)):
            row = np.asarray(row, dtype=np.float64)
            report(path, labels, row, args.json)
            if folder is not None:
                write_explanation(model, folder, path, image, labels, row, target)
    return 1 if failed else 0


def write_explanation(
    model: Model,
    folder: Path,
    path: Path,
    pixels: np.ndarray,
    labels: list[str],
    outputs: np.ndarray,
    target: int | None,
) -> None:
    """Writes folder/<stem>.explain.png and says so on stderr (stdout keeps the answers alone, so
    --json stays one JSON line per image)."""
    index = int(np.argmax(outputs)) if target is None else target
    values = explain(model.predict, pixels, index, model.batch)
    out = folder / f"{path.stem}.explain.png"
    heatmap_image(pixels, values).save(out)
    row, col = divmod(int(np.argmax(values)), GRID)
    what = labels[0] if len(labels) == 1 else labels[index]
    print(
        f"{out}: where the evidence for {what} was (strongest: row {row + 1}, column {col + 1} of {GRID})",
        file=sys.stderr,
    )


def report(path: Path, labels: list[str], probabilities: np.ndarray, as_json: bool) -> None:
    if len(probabilities) == 1:  # a regression model: its one output is the number labels.txt names
        value = float(probabilities[0])
        print(
            json.dumps({"file": str(path), labels[0]: value}, ensure_ascii=False)
            if as_json
            else f"{path}: {labels[0]} {value:.4g}"
        )
        return
    best = int(np.argmax(probabilities))
    if as_json:
        line = {
            "file": str(path),
            "label": labels[best],
            "probability": float(probabilities[best]),
            "probabilities": {label: float(p) for label, p in zip(labels, probabilities)},
        }
        print(json.dumps(line, ensure_ascii=False))
    else:
        print(f"{path}: {labels[best]} {probabilities[best]:.3f}")
