"""The one reader of the schema's pydantic annotations: what the schema says at a path of the project
file (`loc`, the keys and list positions leading there), starting from a root model.

Messages read it for `Expect` texts, bounds, valid keys and schema order; the page's settings spec for
`Page` metadata and bounds. Nothing else looks inside an annotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel

Loc = Sequence[str | int]


def node(root: type[BaseModel], loc: Loc) -> tuple[Any, list[Any]]:
    """The annotation and metadata (Expect, Ge, …) of the schema node at `loc`, or (None, [])."""
    annotation: Any = root
    metadata: list[Any] = []
    for part in loc:
        annotation = unwrap_optional(annotation)
        if isinstance(part, str) and _is_table(annotation):
            field = annotation.model_fields.get(part)
            if field is None:
                return None, []
            annotation, metadata = field.annotation, list(field.metadata)
        elif isinstance(part, int) and is_list(annotation):
            annotation, metadata = get_args(annotation)[0], []
        else:
            return None, []
        while get_origin(annotation) is Annotated:
            args = get_args(annotation)
            annotation, metadata = args[0], [*args[1:], *metadata]
    for item in list(metadata):
        metadata.extend(getattr(item, "metadata", []))  # constraints of a nested Field(...)
    return annotation, metadata


def choices(annotation: Any) -> tuple[Any, ...] | None:
    """The values a Literal annotation allows, or None for any other annotation."""
    return get_args(annotation) if get_origin(annotation) is Literal else None


def is_list(annotation: Any) -> bool:
    return get_origin(annotation) is list


def of_type(metadata: list[Any], kind: type) -> list[Any]:
    """The metadata items of one kind, like the `Expect` of a field."""
    return [item for item in metadata if isinstance(item, kind)]


def table_keys(root: type[BaseModel], loc: Loc) -> list[str]:
    """The keys of the table at `loc` (the root itself for `()`), or [] where no table is."""
    annotation = unwrap_optional(node(root, loc)[0] if loc else root)
    return list(annotation.model_fields) if _is_table(annotation) else []


def unwrap_optional(annotation: Any) -> Any:
    args = [arg for arg in get_args(annotation) if arg is not type(None)]
    if type(None) in get_args(annotation) and len(args) == 1:
        return args[0]
    return annotation


def bounds(metadata: list[Any]) -> dict[str, Any]:
    """The numeric constraints (ge, gt, le, lt) among a field's metadata."""
    return {
        name: getattr(item, name)
        for item in metadata
        for name in ("ge", "gt", "le", "lt")
        if hasattr(item, name)
    }


def max_length(metadata: list[Any]) -> int | None:
    return next((item.max_length for item in metadata if hasattr(item, "max_length")), None)


def position(root: type[BaseModel], loc: Loc, data: Any) -> tuple[int, ...]:
    """Position of `loc` in the schema; unknown keys come after a table's known ones, in file order."""
    key: list[int] = []
    model: Any = root
    for part in loc:
        model = unwrap_optional(model)
        if isinstance(part, int):
            key.append(part)
            model = get_args(model)[0] if is_list(model) else None
        elif _is_table(model) and part in model.model_fields:
            key.append(list(model.model_fields).index(part))
            model = model.model_fields[part].annotation
        else:
            in_file = list(data) if isinstance(data, dict) else []
            fields = model.model_fields if _is_table(model) else {}
            key.append(len(fields) + (in_file.index(part) if part in in_file else len(in_file)))
            model = None
        data = _child(data, part)
    return tuple(key)


def _is_table(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _child(data: Any, part: str | int) -> Any:
    if isinstance(data, dict):
        return data.get(part)
    if isinstance(data, list) and isinstance(part, int) and part < len(data):
        return data[part]
    return None
