"""What a visitor does in the page, through `window.teachkit` and `data-testid` attributes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class PageTrained:
    """A project file saved by the page after a visitor trained it, and what the page then
    predicted for each held-out photo: (photo, label, {class name: probability})."""

    project_file: Path
    predictions: list[tuple[Path, str, dict[str, float]]]


PREDICT_BYTES = """async (base64) => {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const result = await window.teachkit.predict(new Blob([bytes], { type: "image/png" }));
  return { label: result.label, confidences: result.confidences };
}"""
