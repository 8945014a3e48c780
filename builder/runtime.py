"""Which runtime runs the base model in the page: LiteRT.js (an int8 .tflite) or TF.js (the graph
model). TF.js always trains and runs the head."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import BuildError, ConversionError
from .model_cache import PreparedModel


@dataclass(frozen=True)
class Runtime:
    name: str  # "litert" or "tfjs"
    reason: str  # for the build summary

    @property
    def label(self) -> str:
        return "LiteRT.js" if self.name == "litert" else "TF.js"


def choose_runtime(requested: str, mode: str, model: PreparedModel, quantization: str = "auto") -> Runtime:
    """`auto` takes LiteRT.js for a hosted build when one of its encodings keeps min_fidelity and no
    TF.js encoding is named (`quantization`, when not "auto", is one of TF.js's weight encodings). A
    single file keeps TF.js: LiteRT.js's two WebAssembly builds would add about 25 MB of base64 to
    it (9.4 MB each), past the 12 MB a single file may weigh."""
    chosen = model.litert.chosen if model.litert is not None else None
    if requested == "tfjs":
        return Runtime("tfjs", "as model.runtime asks")
    if requested == "auto" and quantization != "auto":
        return Runtime("tfjs", f'model.quantization = "{quantization}" names TF.js\'s weights')
    if mode == "single_file":
        if requested == "litert":
            raise BuildError(
                'model.runtime = "litert" is not available for a single file yet: LiteRT.js\'s '
                "WebAssembly builds would add about 25 MB to it.\n"
                'Hint: build the hosted site, or use runtime = "auto" (TF.js in a single file).'
            )
        return Runtime("tfjs", "a single file keeps TF.js: LiteRT.js would add about 25 MB")
    if chosen is None:
        tried = "\n".join(f"  {m.describe()}" for m in model.litert.tried) if model.litert else ""
        if requested == "litert":
            raise ConversionError(
                "no LiteRT.js encoding keeps the model faithful to the float model:\n"
                f'{tried}\nHint: use model.runtime = "auto" or "tfjs".'
            )
        return Runtime("tfjs", "no LiteRT.js encoding kept model.min_fidelity")
    if requested == "litert":
        return Runtime("litert", "as model.runtime asks")
    return Runtime("litert", "an int8 .tflite keeps model.min_fidelity")
