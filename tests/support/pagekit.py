"""Steps a visitor takes on the page, for the browser tests."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import expect

PROJECT = """
title = "Surfaces"
classes = ["Brick", "Grass", "Gravel"]
[model]
base = "efficientnet_lite0"
"""
CLASS_OF = {"brick": "Brick", "grass": "Grass", "gravel": "Gravel"}
# The tables of a page that predicts how far a photo is zoomed in (tests/support/images.py
# zoom_crops): a regression head, its slider from 1 to 4, a quarter held back to measure it.
ZOOM_REGRESSION = """[head]
type = "regression"
[regression]
label = "Zoom"
unit = "×"
min = 1
max = 4
[training]
validation_fraction = 0.25
"""


def card(page, name: str):
    quoted = json.dumps(name, ensure_ascii=False)  # a valid CSS string, quotes escaped
    return page.locator(f'[data-testid="class"][data-class-name={quoted}]')


def wait_ready(page) -> None:
    expect(page.locator('[data-testid="status"]')).to_have_attribute("data-state", "ready", timeout=60_000)


def upload(page, name: str, files: list[Path], expected_count: int) -> None:
    card(page, name).locator('[data-testid="sample-upload"]').set_input_files([str(f) for f in files])
    expect(card(page, name).locator('[data-testid="sample-count"]')).to_have_text(
        str(expected_count), timeout=60_000
    )


def train(page) -> None:
    page.click('[data-testid="train"]')
    expect(page.locator('[data-testid="train-status"]')).to_have_attribute(
        "data-state", "done", timeout=120_000
    )


def predict(page, file: Path) -> tuple[str, float]:
    output = page.locator('[data-testid="prediction"]')
    count = int(output.get_attribute("data-count"))
    page.set_input_files('[data-testid="predict-upload"]', str(file))
    expect(output).to_have_attribute("data-count", str(count + 1), timeout=30_000)
    return output.get_attribute("data-label"), float(output.get_attribute("data-confidence"))


def accuracy(page, texture_files) -> float:
    results = [
        predict(page, file)[0] == CLASS_OF[texture]
        for texture, files in texture_files.items()
        for file in files["held-out"]
    ]
    return sum(results) / len(results)


def collect_and_train(page, texture_files) -> None:
    wait_ready(page)
    for texture, files in texture_files.items():
        upload(page, CLASS_OF[texture], files["train"], 20)
    train(page)


# The bytes of the Blob that `window.teachkit[method]()` resolves to, as base64: a Blob cannot
# cross to the test, a string can. `page.evaluate(API_BLOB_BASE64, "exportProject")`.
API_BLOB_BASE64 = """async (method) => {
  const bytes = new Uint8Array(await (await window.teachkit[method]()).arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000)
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}"""
