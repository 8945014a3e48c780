"""The page settings spec: the head and training settings the page offers as controls.

Declared once, in the schema (a field's `Page` metadata and its own bounds); the page checks a
visitor's input against exactly this, so the project file and the page never disagree.
"""

from __future__ import annotations

from typing import Any

from .fields import Page
from .reader import bounds, choices, is_list, max_length, node, of_type
from .tables import HeadSection, Table, TrainingSection

# The tables whose settings the page offers, under their keys in the project file.
SECTIONS: dict[str, type[Table]] = {"head": HeadSection, "training": TrainingSection}


def settings_spec() -> list[dict[str, Any]]:
    """The settings the page offers as controls, with the schema's own bounds."""
    spec = []
    for section, table in SECTIONS.items():
        for key in table.model_fields:
            if of_type(node(table, (key,))[1], Page):
                spec.append(_setting(section, table, key))
    return spec


def _setting(section: str, table: type[Table], key: str) -> dict[str, Any]:
    annotation, metadata = node(table, (key,))
    page = of_type(metadata, Page)[0]
    entry: dict[str, Any] = {"section": section, "key": key, "label": page.label}
    values = choices(annotation)
    if values is not None:
        labels = page.choices or {}
        entry["kind"] = "choice"
        entry["choices"] = [{"value": value, "label": labels.get(value, value)} for value in values]
    else:
        listed = is_list(annotation)
        item, bounded = node(table, (key, 0)) if listed else (annotation, metadata)
        kind = {(True, int): "integer_list", (False, int): "integer", (False, float): "number"}.get(
            (listed, item)
        )
        if kind is None:
            raise TypeError(f"{section}.{key}: the page has no control for {annotation}")
        limits = bounds(bounded)
        entry["kind"] = kind
        entry["min"] = limits.get("ge", limits.get("gt"))
        entry["max"] = limits.get("le", limits.get("lt"))
        entry["min_exclusive"] = "gt" in limits
        entry["max_exclusive"] = "lt" in limits
        if kind == "integer_list":
            entry["max_items"] = max_length(metadata)
        entry["step"] = page.step
    field = table.model_fields[key]
    entry["default"] = list(field.default) if isinstance(field.default, list) else field.default
    entry["help"] = field.description
    entry["head"] = page.head
    return entry
