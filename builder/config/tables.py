"""The tables of the project file, one pydantic model each: their keys, types, bounds and defaults.

Every field's description is its reference documentation (see `reference`); `Expect` says what a
valid value looks like for messages, `Page` how the page offers it as a control. Checks that combine
several keys are in `rules`, not here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainValidator, StringConstraints

from ..models.catalog import ALPHAS, BASE_MODELS, DEFAULT_BASE, INPUT_SIZES, BaseName
from .fields import Expect, Page
from .types import (
    CLOUD_EXAMPLE,
    Colour,
    FolderPath,
    KerasModelPath,
    LogoPath,
    Origin,
    check_cloud_url,
    check_weights,
)
from .words import one_of


class Table(BaseModel):
    """One table of the project file: unknown keys are errors, TOML types are taken strictly."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ModelSection(Table):
    """The base model that turns an image into an embedding, and how it is shipped."""

    base: Annotated[BaseName, Expect(one_of(BASE_MODELS))] = Field(
        DEFAULT_BASE,
        description="Pretrained base model that turns each image into an embedding; leave it out when "
        "model.path is set.",
    )
    alpha: Annotated[float | None, Expect("a width multiplier like 1.0")] = Field(
        None,
        description="Width multiplier of a MobileNet (smaller is faster, less accurate); offered: "
        + "; ".join(f"{base} {', '.join(map(str, values))}" for base, values in ALPHAS.items())
        + ". Default: 1.0.",
    )
    input_size: Annotated[int | None, Expect("an image size in pixels like 224")] = Field(
        None,
        ge=32,
        le=1024,
        description="Side in pixels of the square image the model sees; offered: "
        + "; ".join(
            f"{base} {', '.join(map(str, sizes))}" for base, sizes in INPUT_SIZES.items() if len(sizes) > 1
        )
        + "; other bases 224. Default: 224, or your own model's size.",
    )
    weights: Annotated[str | Path, PlainValidator(check_weights)] = Field(
        "imagenet",
        description='"imagenet" (downloaded by Keras) or the path of a Keras weights file for the base; '
        "not for efficientnet_lite0 or your own model.",
        json_schema_extra={"type": "string", "examples": ["imagenet", "weights/mobilenet_v2.h5"]},
    )
    path: Annotated[KerasModelPath | None, Expect("a .keras or .h5 file or a SavedModel folder")] = Field(
        None,
        description="Your own Keras model instead of a base: a .keras or .h5 file or a SavedModel folder.",
    )
    cut_layer: Annotated[
        str | None,
        StringConstraints(strip_whitespace=True, min_length=1),
        Expect("the name of the layer whose output is the embedding"),
    ] = Field(None, description="With model.path: the name of the layer whose output is the embedding.")
    input_range: Annotated[Literal["0-255", "0-1", "-1-1"], Expect(one_of(["0-255", "0-1", "-1-1"]))] = Field(
        "0-1", description="With model.path: the pixel value range your model expects."
    )
    quantization: Annotated[
        Literal["auto", "none", "float16", "uint16", "uint8"],
        Expect(one_of(["auto", "none", "float16", "uint16", "uint8"])),
    ] = Field(
        "auto",
        description="How the model's weights are shrunk for the web; auto picks the smallest that keeps "
        "min_fidelity.",
    )
    min_fidelity: Annotated[float, Expect("a number like 0.99")] = Field(
        0.99,
        gt=0,
        le=1,
        description="Lowest cosine similarity allowed between quantized and full-precision embeddings.",
    )
    min_map_fidelity: Annotated[float, Expect("a number like 0.98")] = Field(
        0.98,
        gt=0,
        le=1,
        description="Lowest cosine similarity allowed between quantized and full-precision feature maps "
        "(the 7 × 7 grid Where the model looked draws). A map is not averaged like the embedding, so "
        "it keeps less; 0.99 costs LiteRT.js its int8 model (float16 weights, about 5 times slower).",
    )
    runtime: Annotated[Literal["auto", "litert", "tfjs"], Expect(one_of(["auto", "litert", "tfjs"]))] = Field(
        "auto",
        description="What runs the base model in the page: litert (LiteRT.js, an int8 .tflite, faster, "
        "a larger download), tfjs (TensorFlow.js) or auto: litert for a hosted build when a LiteRT.js "
        "encoding keeps min_fidelity, tfjs otherwise, for a single file and when quantization names "
        "an encoding (TF.js's).",
    )

    @property
    def may_use_litert(self) -> bool:
        """Whether the build makes a .tflite for LiteRT.js: asked for, or left to auto with no TF.js
        encoding named (quantization = "float16" and the like choose TF.js's weights)."""
        return self.runtime == "litert" or (self.runtime == "auto" and self.quantization == "auto")

    @property
    def is_custom(self) -> bool:
        """Whether the author's own Keras model (model.path) is used instead of a base model."""
        return self.path is not None

    @property
    def weights_path(self) -> Path | None:
        """The local Keras weights file for the base, or None for the "imagenet" download."""
        return self.weights if isinstance(self.weights, Path) else None


class HeadSection(Table):
    """The small classifier trained in the browser on top of the embeddings."""

    type: Annotated[
        Literal["dense", "knn", "regression"],
        Expect(one_of(["dense", "knn", "regression"])),
        Page(
            "Classifier",
            choices={"dense": "small neural network", "knn": "nearest neighbours", "regression": "a number"},
        ),
    ] = Field(
        "dense",
        description="dense: a small neural network; knn: nearest neighbours among the samples; regression: "
        "a small neural network that predicts a number instead of a class (see [regression]).",
    )
    # The bounds below keep a visitor's browser from being asked for more than it can train.
    hidden_units: Annotated[
        list[Annotated[int, Field(ge=1, le=4096), Expect("a whole number of neurons like 100")]],
        Expect("a list of whole numbers like [100] or []"),
        Page("Hidden layer sizes", head="dense"),
    ] = Field([100], max_length=4, description="Neurons in each hidden layer of the dense head; [] for none.")
    activation: Annotated[
        Literal["relu", "tanh", "sigmoid", "elu", "selu", "swish"],
        Expect(one_of(["relu", "tanh", "sigmoid", "elu", "selu", "swish"])),
        Page("Activation", head="dense"),
    ] = Field("relu", description="Activation function of the hidden layers.")
    dropout: Annotated[float, Expect("a number like 0.2"), Page("Dropout", step=0.05, head="dense")] = Field(
        0.0, ge=0, le=0.9, description="Fraction of hidden neurons switched off at random while training."
    )
    k: Annotated[int, Expect("a whole number like 3"), Page("Neighbours (k)", head="knn")] = Field(
        3, ge=1, le=100, description="With type knn: how many nearest samples vote."
    )


class RegressionSection(Table):
    """With head.type = "regression": the number each sample is labelled with and the page predicts."""

    label: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
        Expect('a short name like "How open the hand is"'),
    ] = Field("Value", description="What the number is, shown on the slider, the charts and the gauge.")
    unit: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=12), Expect('a short unit like "%" or "cm"')
    ] = Field("", description="The number's unit, shown after it; empty for none.")
    min: Annotated[float, Expect("a number like 0")] = Field(0.0, description="Lowest value of the slider.")
    max: Annotated[float, Expect("a number like 100")] = Field(
        100.0, description="Highest value of the slider."
    )


class TrainingSection(Table):
    """The starting values of the training controls on the page."""

    epochs: Annotated[int, Expect("a whole number like 50"), Page("Epochs", head="dense")] = Field(
        50, ge=1, le=1000, description="How many times training goes through all samples."
    )
    batch_size: Annotated[int, Expect("a whole number like 16"), Page("Batch size", head="dense")] = Field(
        16, ge=1, le=1024, description="Samples per training step."
    )
    learning_rate: Annotated[
        float, Expect("a number like 0.001"), Page("Learning rate", step="any", head="dense")
    ] = Field(0.001, gt=0, le=1, description="Step size of the optimizer.")
    validation_fraction: Annotated[
        float, Expect("a number like 0.15"), Page("Held back for checking", step=0.05)
    ] = Field(0.15, ge=0, le=0.5, description="Share of each class's samples held back to measure accuracy.")
    # The page's random generator takes an unsigned 32-bit seed.
    seed: Annotated[int, Expect("a whole number like 42"), Page("Random seed")] = Field(
        42, ge=0, le=2**32 - 1, description="Random seed, so the same samples give the same split and result."
    )


class CaptureSection(Table):
    """How samples are recorded from the webcam."""

    fps: Annotated[int, Expect("a whole number like 10")] = Field(
        10, ge=1, le=30, description="Frames per second recorded while the record button is held."
    )


class ThemeSection(Table):
    """How the page looks and what it says around the tool."""

    primary_color: Colour = Field("#1f6feb", description="Colour of buttons, bars and highlights.")
    background_color: Colour = Field("#ffffff", description="Page background colour.")
    text_color: Colour = Field("#1f2328", description="Text colour.")
    logo: Annotated[LogoPath | None, Expect('an image file like "logo.png"')] = Field(
        None, description="Image shown next to the title: a png, jpg, gif, webp or svg file."
    )
    intro: Annotated[str, Expect('a text like "Teach the computer to tell leaves apart."')] = Field(
        "", description="Text shown under the title."
    )
    footer: Annotated[str, Expect('a text like "Made for class 7b"')] = Field(
        "", description="Text shown at the bottom of the page."
    )


class PageSection(Table):
    """What the page offers its visitors."""

    mode: Annotated[Literal["teach", "predict"], Expect(one_of(["teach", "predict"]))] = Field(
        "teach",
        description="teach: collect examples, train and predict (starting from the model baked in with "
        "teachkit build --trained, if any); predict: only the prediction panel (camera and upload), "
        "for a finished classifier in a course page; needs teachkit build --trained FILE.",
    )


class EmbedSection(Table):
    """Which web pages may control this page when they show it in an iframe (through embed.js)."""

    allowed_origins: Annotated[
        list[Origin], Expect('a list of origins like ["https://socr.ucla.edu", "http://localhost:8080"]')
    ] = Field(
        [],
        description="Exact origins (scheme, host and port, no path or slash) of the host pages that may "
        'control the page through embed.js, like "https://socr.ucla.edu"; "null", written exactly so, '
        "for a host page opened from a file. Empty: the page works in any iframe but answers no host.",
        json_schema_extra={"uniqueItems": True},
    )


class CloudSection(Table):
    """Where the page keeps copies of trained models in the cloud: a receiver (teachkit receive)."""

    url: Annotated[str | None, AfterValidator(check_cloud_url), Expect(CLOUD_EXAMPLE)] = Field(
        None,
        description='Base web address of the receiver, like "https://models.example.edu/teachkit/": the '
        "page may send the trained model there (never the images, unless the visitor ticks the box) and "
        "open models from there. https only, or http://127.0.0.1 for testing. Leave it out for no cloud.",
    )

    @property
    def origin(self) -> str | None:
        """The one origin the page's Content-Security-Policy lets it connect to for the cloud."""
        if self.url is None:
            return None
        scheme, rest = self.url.split("://", 1)
        return f"{scheme}://{rest.split('/', 1)[0]}"


class OutputSection(Table):
    """What `teachkit build` writes, and where."""

    mode: Annotated[Literal["hosted", "single_file"], Expect(one_of(["hosted", "single_file"]))] = Field(
        "hosted",
        description="hosted: a folder for any web server; single_file: one .html file that works offline.",
    )
    dir: Annotated[FolderPath, Expect('a folder path like "dist"')] = Field(
        Path("dist"), validate_default=True, description="Folder the build is written to."
    )
