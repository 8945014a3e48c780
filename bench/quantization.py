"""Measures every weight encoding of a base model against its float Keras model: size, embedding
cosine on the probe photos, ImageNet top-1 agreement, and which one `auto` picks.

Usage: python bench/quantization.py [--base efficientnet_lite0] [--out bench/results]
Writes quantization.json and quantization.md into --out and prints the table.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from builder.config import project_from_data  # noqa: E402
from builder.convert import (
    Encoding,
    EncodingSearch,
    FidelityFloors,
    Probes,
    convert_saved_model,
    export_saved_model,
    tfjs_embedder,
)  # noqa: E402,E501
from builder.models import build_embedding_model  # noqa: E402
from builder.prebuilt import prebuilt_js  # noqa: E402
from builder.probes import probe_pixels  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="efficientnet_lite0")
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as work_text:
        work = Path(work_text)
        project = project_from_data(
            {"classes": ["a", "b"], "model": {"base": args.base}}, work / "project.toml"
        )
        model = build_embedding_model(project.model)
        _, pixels = probe_pixels(model.input_size)
        probes = Probes(pixels, model.keras_model.predict(pixels, verbose=0), model.classifier)
        export_saved_model(model.keras_model, work / "saved_model")
        convert_saved_model(work / "saved_model", work / "float")
        embed = tfjs_embedder(prebuilt_js())
        search = EncodingSearch(work / "float", probes, embed, FidelityFloors.of(project.model))
        rows = [search.measure(Encoding.uniform(dtype)) for dtype in ("none", "uint16", "float16", "uint8")]
        chosen = search.auto()

    table = [
        "| encoding | size (MB) | min cosine | mean cosine | top-1 agreement |",
        "| --- | --- | --- | --- | --- |",
    ]
    for measured in [*rows, chosen]:
        f = measured.fidelity
        top1 = "–" if f.top1_agreement is None else f"{f.top1_agreement:.0%}"
        label = f"auto → {measured.encoding}" if measured is chosen else measured.encoding
        size = f"{measured.size_bytes / 1e6:.2f}"
        table.append(f"| {label} | {size} | {f.min_cosine:.4f} | {f.mean_cosine:.4f} | {top1} |")
    text = "\n".join(table)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "quantization.md").write_text(text + "\n")
    result = {
        "base": args.base,
        "uniform": [asdict(m) for m in rows],
        "auto": asdict(chosen),
        "probes": int(len(pixels)),
        "numpy": np.__version__,
    }
    (args.out / "quantization.json").write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
