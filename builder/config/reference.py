"""The reference of the project file, generated from the schema: its JSON Schema (for editors) and a
Markdown table of every key, kept between markers in the docs' `project-file.md`.

`python -m builder.config [FILE]` rewrites the reference in FILE; the docs build and
`tests/test_config.py` fail while it is stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from ..errors import ConfigError
from .project import Project


class _TomlJsonSchema(GenerateJsonSchema):
    """TOML has no null: an optional key is simply left out, so drop `null` from the schema."""

    def nullable_schema(self, schema: Any) -> Any:
        return self.generate_inner(schema["schema"])

    def default_schema(self, schema: Any) -> Any:
        result = super().default_schema(schema)
        if result.get("default", ...) is None:
            del result["default"]
        return result


def project_json_schema() -> dict[str, Any]:
    """The JSON Schema of the project file, e.g. for completion in an editor's TOML plugin."""
    schema = Project.model_json_schema(schema_generator=_TomlJsonSchema)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "teachkit project file",
    }


def reference_markdown() -> str:
    """A Markdown reference of every key of the project file, generated from the JSON Schema."""
    schema = project_json_schema()
    defs = schema.get("$defs", {})
    top: list[str] = []
    tables: list[tuple[str, str, dict[str, Any]]] = []
    for name, prop in schema["properties"].items():
        ref = prop.get("$ref") or next(
            (item["$ref"] for item in prop.get("allOf", []) if "$ref" in item), None
        )
        if ref:
            tables.append((name, prop.get("description", ""), defs[ref.rsplit("/", 1)[-1]]))
        else:
            top.append(_reference_row(name, prop, name in schema.get("required", [])))
    header = ["| Key | Type | Default | Allowed values | Description |", "| --- | --- | --- | --- | --- |"]
    out = ["### Top level", "", *header, *top]
    for name, description, table in tables:
        out += ["", f"### `[{name}]`", "", _cell(table.get("description", description)), "", *header]
        out += [_reference_row(f"{name}.{key}", prop, False) for key, prop in table["properties"].items()]
    return "\n".join(out) + "\n"


def _reference_row(key: str, prop: dict[str, Any], required: bool) -> str:
    default = "required" if required else f"`{_toml(prop['default'])}`" if "default" in prop else "not set"
    cells = [f"`{key}`", _type_words(prop), default, _allowed_words(prop), prop.get("description", "")]
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _type_words(prop: dict[str, Any]) -> str:
    if "enum" in prop or "const" in prop:
        return "text"
    kind = prop.get("type")
    if prop.get("format") == "path":
        return "path"
    if prop.get("format") == "color":
        return "colour"
    if kind == "array":
        return "list of " + {"string": "text", "integer": "whole numbers", "number": "numbers"}.get(
            prop.get("items", {}).get("type", ""), "values"
        )
    return {"string": "text", "integer": "whole number", "number": "number", "boolean": "true/false"}.get(
        kind, "text"
    )


def _allowed_words(prop: dict[str, Any]) -> str:
    if "enum" in prop:
        return ", ".join(f"`{_toml(value)}`" for value in prop["enum"])
    if prop.get("format") == "color":
        return 'CSS hex colour, like `"#1f6feb"` or `"#fff"`'
    parts: list[str] = []
    lower = (
        f"≥ {prop['minimum']}"
        if "minimum" in prop
        else f"> {prop['exclusiveMinimum']}"
        if "exclusiveMinimum" in prop
        else ""
    )
    upper = (
        f"≤ {prop['maximum']}"
        if "maximum" in prop
        else f"< {prop['exclusiveMaximum']}"
        if "exclusiveMaximum" in prop
        else ""
    )
    if "minimum" in prop and "maximum" in prop:
        parts.append(f"{prop['minimum']} to {prop['maximum']}")
    elif lower or upper:
        parts.append(" and ".join(part for part in (lower, upper) if part))
    if "minLength" in prop or "maxLength" in prop:
        parts.append(
            f"{prop.get('minLength', 0)}–{prop['maxLength']} characters"
            if "maxLength" in prop
            else "not empty"
        )
    if "minItems" in prop or "maxItems" in prop:
        parts.append(f"{prop.get('minItems', 0)}–{prop.get('maxItems', '…')} entries")
    items = prop.get("items", {})
    if items:
        item_words = _allowed_words(items)
        if item_words:
            parts.append(f"each {item_words}")
    if prop.get("uniqueItems"):
        parts.append("all different")
    if not parts and "examples" in prop:
        parts.append("e.g. " + ", ".join(f"`{_toml(value)}`" for value in prop["examples"]))
    return "; ".join(parts)


REFERENCE_START = "<!-- reference:start -->"
REFERENCE_END = "<!-- reference:end -->"


def readme_reference(text: str) -> str | None:
    """The text between the reference markers of a README, or None when the markers are missing."""
    start, end = text.find(REFERENCE_START), text.find(REFERENCE_END)
    if start < 0 or end < start:
        return None
    return text[start + len(REFERENCE_START) : end]


def update_readme_reference(readme: Path) -> bool:
    """Rewrite the generated reference between the README's markers; True if the file changed."""
    text = readme.read_text(encoding="utf-8")
    current = readme_reference(text)
    if current is None:
        raise ConfigError(
            f"{readme}: no {REFERENCE_START} … {REFERENCE_END} markers to put the reference between"
        )
    block = "\n\n" + reference_markdown() + "\n"
    if current == block:
        return False
    start = text.find(REFERENCE_START) + len(REFERENCE_START)
    readme.write_text(text[:start] + block + text[text.find(REFERENCE_END) :], encoding="utf-8")
    return True
