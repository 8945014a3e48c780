"""A TF.js model.json and its weights file, checked against each other: the weights manifest names
the stored file, and the file holds exactly the bytes the manifest's specs describe."""

from __future__ import annotations

import json
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import bad_upload

# Bytes per value as stored: a quantized weight is stored in its quantization's dtype.
DTYPE_BYTES = {"float32": 4, "int32": 4, "bool": 1, "uint8": 1}
QUANTIZED_BYTES = {"uint8": 1, "uint16": 2, "float16": 2}
MAX_SPECS = 100_000


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow")


class Quantization(_Loose):
    dtype: Literal["uint8", "uint16", "float16"]
    """What the values are stored as."""


class WeightSpec(_Loose):
    name: str
    """The variable's name in the topology."""
    shape: list[int] = Field(max_length=16)
    """Its dimensions (each ≥ 0)."""
    dtype: Literal["float32", "int32", "bool", "uint8"]
    """Its type once loaded."""
    quantization: Quantization | None = None
    """When set, how it is stored."""

    def stored_bytes(self) -> int:
        if any(size < 0 for size in self.shape):
            raise ValueError(f"{self.name} has a negative dimension")
        per_value = QUANTIZED_BYTES[self.quantization.dtype] if self.quantization else DTYPE_BYTES[self.dtype]
        return math.prod(self.shape) * per_value


class WeightGroup(_Loose):
    paths: list[str] = Field(min_length=1)
    """The files holding the group's weights, relative to model.json."""
    weights: list[WeightSpec] = Field(max_length=MAX_SPECS)


class ModelJson(_Loose):
    modelTopology: dict[str, Any]
    """The layers (or graph) the weights belong to."""
    weightsManifest: list[WeightGroup] = Field(min_length=1)


def problems(error: ValidationError, limit: int = 4) -> str:
    listed = [
        f"{'.'.join(str(part) for part in problem['loc']) or 'the file'}: {problem['msg']}"
        for problem in error.errors()[:limit]
    ]
    more = len(error.errors()) - limit
    return "; ".join(listed) + (f"; and {more} more" if more > 0 else "")


def check_model_json(text: bytes, weights: bytes, weights_name: str, where: str) -> dict[str, Any]:
    """The parsed model.json, after checking it describes `weights` (stored as `weights_name`,
    next to it) exactly; `where` names it in messages, e.g. "the uploaded package's base/model.json".
    Raises ApiError (400 bad_upload)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise bad_upload(f"{where} is not JSON ({error}).") from None
    try:
        model = ModelJson.model_validate(data)
    except ValidationError as error:
        raise bad_upload(f"{where} is not a TF.js model.json ({problems(error)}).") from None
    paths = [path.removeprefix("./") for group in model.weightsManifest for path in group.paths]
    if paths != [weights_name]:
        raise bad_upload(
            f"{where}: its weightsManifest names the weights file(s) {json.dumps(paths)}, but they are "
            f'stored as "{weights_name}"; save the model again so that its weights are in one file.'
        )
    specs = [spec for group in model.weightsManifest for spec in group.weights]
    if len(specs) > MAX_SPECS:
        raise bad_upload(f"{where} describes more than {MAX_SPECS} weights.")
    try:
        expected = sum(spec.stored_bytes() for spec in specs)
    except ValueError as error:
        raise bad_upload(f"{where}: {error}.") from None
    if expected != len(weights):
        raise bad_upload(
            f"{where} describes {expected} bytes of weights but {weights_name} holds {len(weights)}; "
            "the two files do not belong together, or one is incomplete. Save the model again."
        )
    return data


def with_one_weights_file(data: dict[str, Any], weights_name: str) -> dict[str, Any]:
    """The model.json with every weight spec in one group whose one path is `weights_name`, so that
    tf.loadLayersModel finds the weights next to it."""
    specs = [spec for group in data["weightsManifest"] for spec in group["weights"]]
    return {**data, "weightsManifest": [{"paths": [weights_name], "weights": specs}]}
