"""The project file: exact error messages for malformed files, defaults, paths, schema, reference."""

import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from builder.cli import main
from builder.config import (
    REFERENCE_END,
    REFERENCE_START,
    Project,
    load_project,
    project_json_schema,
    readme_reference,
    reference_markdown,
    settings_spec,
    update_readme_reference,
)
from builder.contrast import (
    BUTTON_TEXT,
    contrast_ratio,
    passing_shade,
    relative_luminance,
    theme_contrast_warnings,
)
from builder.errors import ConfigError
from builder.scaffold import templates_dir, write_example_project

from .support.settings_cases import boundary_cases, python_verdict

REPO = Path(__file__).resolve().parent.parent
TWO = 'classes = ["cats", "dogs"]\n'


def image_bytes(format: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 4), (200, 40, 40)).save(buffer, format=format)
    return buffer.getvalue()


SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="4"><rect width="8" height="4"/></svg>'


def problems(*lines: str) -> list[str]:
    """The expected message of a ConfigError listing `lines` (FILE stands for the project file)."""
    count = f"{len(lines)} problem" + ("" if len(lines) == 1 else "s")
    return [f"FILE: {count} in the project file:", *("  " + line for line in lines)]


# Each case: project.toml text (str or bytes; None for no file), other files, expected message lines.
# FILE is replaced by the project file's path, DIR by the resolved project folder.
CASES = {
    "toml syntax error": (
        'classes = ["cats", "dogs"]\ntitle = \n',
        {},
        ["FILE: TOML syntax error at line 2, column 9: Invalid value"],
    ),
    "toml syntax error in a string": (
        'classes = ["cats", "dogs"]\ntitle = "unterminated\n',
        {},
        ["FILE: TOML syntax error at line 2, column 22: Illegal character '\\n'"],
    ),
    "toml syntax error at the end": (
        'classes = ["cats", "dogs"\n',
        {},
        ["FILE: TOML syntax error at the end of the file: Unclosed array"],
    ),
    "missing file": (
        None,
        {},
        ["FILE: file not found (expected a teachkit project file; create one with: teachkit init DIR)"],
    ),
    "byte order mark is fine, errors still found": (
        b"\xef\xbb\xbf" + TWO.encode() + b"[capture]\nfps = 60\n",
        {},
        problems("capture.fps: must be from 1 to 30 (got 60; expected a whole number like 10)"),
    ),
    "not utf-8": (
        b'title = "caf\xe9"\n' + TWO.encode(),
        {},
        [
            "FILE: not a text file (got a byte that is not UTF-8 at position 12; "
            "expected a project file saved as UTF-8 text)"
        ],
    ),
    "regression with classes": (
        TWO + '[head]\ntype = "regression"\n',
        {},
        problems(
            'classes: not used with head.type = "regression", which predicts a number (got ["cats", '
            '"dogs"]; expected no classes: [regression] label names the number)'
        ),
    ),
    "a regression table without a regression head": (
        TWO + "[regression]\nmin = 0\n",
        {},
        problems(
            'regression: only used with head.type = "regression" (got a table; expected head.type = '
            '"regression", or no [regression] table)'
        ),
    ),
    "regression range upside down, label empty": (
        '[head]\ntype = "regression"\n[regression]\nlabel = " "\nmin = 5\nmax = 5\n',
        {},
        problems(
            'regression.label: must not be empty (got " "; expected a short name like '
            '"How open the hand is")',
            "regression.max: must be above min (got 5; expected a number above 5)",
        ),
    ),
    "no classes for a classifier": (
        'title = "x"\n[head]\ntype = "knn"\n',
        {},
        problems('classes: required (got nothing; expected a list like ["cats", "dogs"])'),
    ),
    "wrong type": (
        TWO + '[training]\nepochs = "many"\n',
        {},
        problems('training.epochs: must be a whole number (got "many"; expected a whole number like 50)'),
    ),
    "number in quotes": (
        TWO + '[head]\ndropout = "0.2"\n',
        {},
        problems('head.dropout: must be a number, without quotes (got "0.2"; expected a number like 0.2)'),
    ),
    "number out of range": (
        TWO + "[training]\nepochs = 0\n",
        {},
        problems("training.epochs: must be from 1 to 1000 (got 0; expected a whole number like 50)"),
    ),
    "dropout out of range": (
        TWO + "[head]\ndropout = 1.5\n",
        {},
        problems("head.dropout: must be from 0 to 0.9 (got 1.5; expected a number like 0.2)"),
    ),
    "dropout just above its bound": (
        TWO + "[head]\ndropout = 0.95\n",
        {},
        problems("head.dropout: must be from 0 to 0.9 (got 0.95; expected a number like 0.2)"),
    ),
    "hidden unit not positive": (
        TWO + "[head]\nhidden_units = [64, 0]\n",
        {},
        problems(
            "head.hidden_units[1]: must be from 1 to 4096 (got 0; expected a whole number of neurons "
            "like 100)"
        ),
    ),
    "hidden layer too large": (
        TWO + "[head]\nhidden_units = [8192]\n",
        {},
        problems(
            "head.hidden_units[0]: must be from 1 to 4096 (got 8192; expected a whole number of neurons like "
            "100)"
        ),
    ),
    "too many hidden layers": (
        TWO + "[head]\nhidden_units = [64, 64, 32, 32, 16]\n",
        {},
        problems(
            "head.hidden_units: has too many entries, at most 4 (got 5; expected a list of whole numbers "
            "like [100] or [])"
        ),
    ),
    "k out of range": (
        TWO + '[head]\ntype = "knn"\nk = 150\n',
        {},
        problems("head.k: must be from 1 to 100 (got 150; expected a whole number like 3)"),
    ),
    "seed beyond 32 bits": (
        TWO + "[training]\nseed = 4294967296\n",
        {},
        problems(
            "training.seed: must be from 0 to 4294967295 (got 4294967296; expected a whole number like 42)"
        ),
    ),
    "validation_fraction out of range": (
        TWO + "[training]\nvalidation_fraction = 0.7\n",
        {},
        problems(
            "training.validation_fraction: must be from 0 to 0.5 (got 0.7; expected a number like 0.15)"
        ),
    ),
    "unknown top-level key": (
        TWO + 'titel = "Leaves"\n',
        {},
        problems('titel: unknown key (did you mean "title"?)'),
    ),
    "unknown table": (
        TWO + '[modle]\nbase = "mobilenet_v2"\n',
        {},
        problems('modle: unknown key (did you mean "model"?)'),
    ),
    "unknown nested key with suggestion": (
        TWO + "[training]\nlearnig_rate = 0.01\n",
        {},
        problems('training.learnig_rate: unknown key (did you mean "learning_rate"?)'),
    ),
    "unknown nested key without suggestion": (
        TWO + "[capture]\nwebcam = true\n",
        {},
        problems('capture.webcam: unknown key (expected one of "fps")'),
    ),
    "table given as a value": (
        TWO + 'model = "mobilenet_v2"\n',
        {},
        problems('model: must be a table (got "mobilenet_v2"; expected a [model] table)'),
    ),
    "duplicate class": (
        'classes = ["cat", "dog", "Cat"]\n',
        {},
        problems('classes[2]: duplicate class name (got "Cat"; expected every name to be different)'),
    ),
    "only one class": (
        'classes = ["cats"]\n',
        {},
        problems('classes: needs at least 2 classes (got 1; expected a list like ["cats", "dogs"])'),
    ),
    "too many classes": (
        "classes = [" + ", ".join(f'"c{i}"' for i in range(21)) + "]\n",
        {},
        problems('classes: has too many classes, at most 20 (got 21; expected a list like ["cats", "dogs"])'),
    ),
    "empty class name": (
        'classes = ["cats", "  ", "dogs"]\n',
        {},
        problems('classes[1]: must not be empty (got "  "; expected a short name like "cats")'),
    ),
    "class name too long": (
        'classes = ["cats", "' + "x" * 41 + '"]\n',
        {},
        problems(
            "classes[1]: too long, at most 40 characters (got 41 characters; expected a short name "
            'like "cats")'
        ),
    ),
    "classes not a list": (
        'classes = "cats, dogs"\n',
        {},
        problems(
            'classes: must be a list in square brackets (got "cats, dogs"; expected a list like '
            '["cats", "dogs"])'
        ),
    ),
    "missing classes": (
        'title = "Leaves"\n',
        {},
        problems('classes: required (got nothing; expected a list like ["cats", "dogs"])'),
    ),
    "empty title": (
        'title = ""\n' + TWO,
        {},
        problems('title: must not be empty (got ""; expected a short title like "Leaves of Kew")'),
    ),
    "missing logo file": (
        TWO + '[theme]\nlogo = "img/logo.png"\n',
        {},
        problems(
            "theme.logo: file not found: DIR/img/logo.png (got "
            '"img/logo.png"; expected an image file, like "logo.png"; paths are relative to the project file)'
        ),
    ),
    "logo is not an image": (
        TWO + '[theme]\nlogo = "notes.txt"\n',
        {"notes.txt": "hello"},
        problems(
            'theme.logo: not an image file (got "notes.txt"; expected a .png, .jpg, .jpeg, .gif, '
            ".webp or .svg file)"
        ),
    ),
    "logo is a text file named .png": (
        TWO + '[theme]\nlogo = "logo.png"\n',
        {"logo.png": "hello"},
        problems(
            'theme.logo: not a readable PNG image (got "logo.png"; expected a PNG image file; export the '
            "logo again from an image editor)"
        ),
    ),
    "logo is a cut-off PNG": (
        TWO + '[theme]\nlogo = "logo.png"\n',
        {"logo.png": image_bytes("PNG")[:40]},
        problems(
            'theme.logo: not a readable PNG image (got "logo.png"; expected a PNG image file; export the '
            "logo again from an image editor)"
        ),
    ),
    "logo is a JPEG named .png": (
        TWO + '[theme]\nlogo = "logo.png"\n',
        {"logo.png": image_bytes("JPEG")},
        problems(
            'theme.logo: a JPEG image named like a PNG one (got "logo.png"; expected a name ending in .jpg '
            "or .jpeg)"
        ),
    ),
    "logo is a GIF named .webp": (
        TWO + '[theme]\nlogo = "logo.webp"\n',
        {"logo.webp": image_bytes("GIF")},
        problems(
            'theme.logo: a GIF image named like a WEBP one (got "logo.webp"; expected a name ending in .gif)'
        ),
    ),
    "svg logo is not XML": (
        TWO + '[theme]\nlogo = "logo.svg"\n',
        {"logo.svg": "hello"},
        problems(
            'theme.logo: not a readable SVG image: syntax error: line 1, column 0 (got "logo.svg"; expected '
            "an SVG file: XML with an <svg> root element)"
        ),
    ),
    "svg logo is an HTML page": (
        TWO + '[theme]\nlogo = "logo.svg"\n',
        {"logo.svg": "<html><body/></html>"},
        problems(
            'theme.logo: not an SVG image: its root element is <html> (got "logo.svg"; expected an SVG '
            "file: XML with an <svg> root element)"
        ),
    ),
    "svg logo without the SVG namespace": (
        TWO + '[theme]\nlogo = "logo.svg"\n',
        {"logo.svg": "<svg><rect/></svg>"},
        problems(
            "theme.logo: not an SVG image browsers draw: its <svg> root element lacks "
            'xmlns="http://www.w3.org/2000/svg" (got "logo.svg"; expected '
            '<svg xmlns="http://www.w3.org/2000/svg" …>)'
        ),
    ),
    "unreadable logo reported with the other problems": (
        TWO + '[theme]\nprimary_color = "gold"\nlogo = "logo.png"\n[capture]\nfps = 60\n',
        {"logo.png": "hello"},
        problems(
            "capture.fps: must be from 1 to 30 (got 60; expected a whole number like 10)",
            'theme.primary_color: not a CSS hex colour (got "gold"; expected a CSS hex colour like '
            '"#1f6feb" or "#fff")',
            'theme.logo: not a readable PNG image (got "logo.png"; expected a PNG image file; export the '
            "logo again from an image editor)",
        ),
    ),
    "bad colour": (
        TWO + '[theme]\nprimary_color = "blue"\n',
        {},
        problems(
            'theme.primary_color: not a CSS hex colour (got "blue"; expected a CSS hex colour like '
            '"#1f6feb" or "#fff")'
        ),
    ),
    "bad quantization": (
        TWO + '[model]\nquantization = "int4"\n',
        {},
        problems(
            'model.quantization: not one of the allowed values (got "int4"; '
            'expected one of "auto", "none", "float16", "uint16", "uint8")'
        ),
    ),
    "unknown base model": (
        TWO + '[model]\nbase = "resnet50"\n',
        {},
        problems(
            'model.base: not one of the allowed values (got "resnet50"; expected one of '
            '"efficientnet_lite0", '
            '"mobilenet_v1", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0")'
        ),
    ),
    "path without cut_layer": (
        TWO + '[model]\npath = "my_model.keras"\n',
        {"my_model.keras": "model"},
        problems(
            "model.cut_layer: required when model.path is set (got nothing; "
            "expected the name of the layer whose output is the embedding)"
        ),
    ),
    "path and base together": (
        TWO + '[model]\nbase = "mobilenet_v2"\npath = "my_model.h5"\ncut_layer = "pool"\n',
        {"my_model.h5": "model"},
        problems(
            'model.base: cannot be used together with model.path (got "mobilenet_v2"; '
            "expected either a base model or your own model in model.path, not both)"
        ),
    ),
    "missing model.path file": (
        TWO + '[model]\npath = "models/mine.keras"\ncut_layer = "pool"\n',
        {},
        problems(
            'model.path: file not found: DIR/models/mine.keras (got "models/mine.keras"; expected your Keras '
            "model: a .keras or .h5 file or a SavedModel folder; paths are relative to the project file)"
        ),
    ),
    "model.path not a model file": (
        TWO + '[model]\npath = "mine.pt"\ncut_layer = "pool"\n',
        {"mine.pt": "torch"},
        problems(
            'model.path: not a Keras model file (got "mine.pt"; expected a .keras or .h5 file or a '
            "SavedModel folder)"
        ),
    ),
    "cut_layer without path": (
        TWO + '[model]\ncut_layer = "pool"\n',
        {},
        problems(
            'model.cut_layer: only used with your own model in model.path (got "pool"; '
            "expected no cut_layer for a base model)"
        ),
    ),
    "settings of a base model with own model": (
        TWO + '[model]\npath = "mine.keras"\ncut_layer = "pool"\nalpha = 0.5\nweights = "w.h5"\n',
        {"mine.keras": "model", "w.h5": "weights"},
        problems(
            "model.alpha: only used with a base model (got 0.5; expected no alpha with model.path)",
            'model.weights: not used with model.path (got "w.h5"; '
            "expected no weights key: your own model file holds its weights)",
        ),
    ),
    "input_range without own model": (
        TWO + '[model]\ninput_range = "0-255"\n',
        {},
        problems(
            'model.input_range: only used with your own model in model.path (got "0-255"; '
            "expected no input_range for a base model)"
        ),
    ),
    "alpha for a base without alpha": (
        TWO + '[model]\nbase = "efficientnet_b0"\nalpha = 0.5\n',
        {},
        problems(
            "model.alpha: efficientnet_b0 has no alpha setting (got 0.5; expected no alpha, or a base that "
            "has one: mobilenet_v1, mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large)"
        ),
    ),
    "alpha for the default base": (
        TWO + "[model]\nalpha = 0.5\n",
        {},
        problems(
            "model.alpha: efficientnet_lite0 has no alpha setting (got 0.5; expected no alpha, or a "
            "base that "
            "has one: mobilenet_v1, mobilenet_v2, mobilenet_v3_small, mobilenet_v3_large)"
        ),
    ),
    "alpha value not offered": (
        TWO + '[model]\nbase = "mobilenet_v2"\nalpha = 0.6\n',
        {},
        problems(
            "model.alpha: not offered for mobilenet_v2 (got 0.6; expected one of 0.35, 0.5, 0.75, "
            "1.0, 1.3, 1.4)"
        ),
    ),
    "input_size not offered": (
        TWO + '[model]\nbase = "mobilenet_v1"\ninput_size = 200\n',
        {},
        problems(
            "model.input_size: not offered for mobilenet_v1 (got 200; expected one of 128, 160, 192, 224)"
        ),
    ),
    "input_size for a base with one size": (
        TWO + '[model]\nbase = "mobilenet_v3_small"\ninput_size = 128\n',
        {},
        problems("model.input_size: not offered for mobilenet_v3_small (got 128; expected 224)"),
    ),
    "weights for efficientnet_lite0": (
        TWO + '[model]\nweights = "w.h5"\n',
        {"w.h5": "weights"},
        problems(
            'model.weights: efficientnet_lite0 comes with its own weights (got "w.h5"; '
            'expected "imagenet" or no weights key, or a Keras base model)'
        ),
    ),
    "missing weights file": (
        TWO + '[model]\nbase = "mobilenet_v2"\nweights = "w.h5"\n',
        {},
        problems(
            'model.weights: file not found: DIR/w.h5 (got "w.h5"; expected "imagenet" or the path of a Keras '
            "weights file; paths are relative to the project file)"
        ),
    ),
    "several problems at once": (
        'titel = "Leaves"\nclasses = ["Oak", "oak", ""]\n'
        '[model]\nbase = "mobilenet_v1"\nalpha = 0.6\nquantization = "int4"\n'
        '[training]\nepochs = "many"\nlearnig_rate = 0.01\n'
        '[theme]\nbackground_color = "white"\nlogo = "logo.gif"\n',
        {},
        problems(
            'classes[1]: duplicate class name (got "oak"; expected every name to be different)',
            'classes[2]: must not be empty (got ""; expected a short name like "cats")',
            "model.alpha: not offered for mobilenet_v1 (got 0.6; expected one of 0.25, 0.5, 0.75, 1.0)",
            'model.quantization: not one of the allowed values (got "int4"; '
            'expected one of "auto", "none", "float16", "uint16", "uint8")',
            'training.epochs: must be a whole number (got "many"; expected a whole number like 50)',
            'training.learnig_rate: unknown key (did you mean "learning_rate"?)',
            'theme.background_color: not a CSS hex colour (got "white"; expected a CSS hex colour '
            'like "#1f6feb" '
            'or "#fff")',
            'theme.logo: file not found: DIR/logo.gif (got "logo.gif"; expected an image file, like '
            '"logo.png"; '
            "paths are relative to the project file)",
            'titel: unknown key (did you mean "title"?)',
        ),
    ),
}


def origin_case(origins: str, *lines: str) -> tuple[str, dict, list[str]]:
    """A case of `[embed] allowed_origins = <origins>` (TOML text) and the expected problems."""
    return (TWO + f"[embed]\nallowed_origins = {origins}\n", {}, problems(*lines))


ORIGIN = '"https://socr.ucla.edu"'
CASES.update(
    {
        "origin with a trailing slash": origin_case(
            f'[{ORIGIN}, "https://socr.ucla.edu/"]',
            'embed.allowed_origins[1]: must not end with "/": drop the slash, an origin has no path '
            '(got "https://socr.ucla.edu/"; expected "https://socr.ucla.edu")',
        ),
        "origin with a path": origin_case(
            '["https://socr.ucla.edu/teachkit/index.html"]',
            "embed.allowed_origins[0]: must not contain a path: an origin is only the scheme, host and port "
            '(got "https://socr.ucla.edu/teachkit/index.html"; expected "https://socr.ucla.edu")',
        ),
        "origin is a wildcard": origin_case(
            '["*"]',
            "embed.allowed_origins[0]: wildcards are not allowed: list each host page's origin "
            '(got "*"; expected exact origins like "https://socr.ucla.edu")',
        ),
        "origin with a wildcard host": origin_case(
            '["https://*.ucla.edu"]',
            "embed.allowed_origins[0]: wildcards are not allowed: list each host page's origin "
            '(got "https://*.ucla.edu"; expected exact origins like "https://socr.ucla.edu")',
        ),
        "origin with a query": origin_case(
            '["https://socr.ucla.edu?course=stats"]',
            'embed.allowed_origins[0]: must not contain a query or fragment: drop everything from the "?" '
            'or "#" (got "https://socr.ucla.edu?course=stats"; expected "https://socr.ucla.edu")',
        ),
        "origin with a fragment": origin_case(
            '["https://socr.ucla.edu#demo"]',
            'embed.allowed_origins[0]: must not contain a query or fragment: drop everything from the "?" '
            'or "#" (got "https://socr.ucla.edu#demo"; expected "https://socr.ucla.edu")',
        ),
        "origin with user and password": origin_case(
            '["https://ann:secret@socr.ucla.edu"]',
            "embed.allowed_origins[0]: must not contain a user name or password "
            '(got "https://ann:secret@socr.ucla.edu"; expected "https://socr.ucla.edu")',
        ),
        "origin with another scheme": origin_case(
            '["ftp://socr.ucla.edu"]',
            "embed.allowed_origins[0]: ftp: is not allowed, only http: and https: "
            '(got "ftp://socr.ucla.edu"; expected an origin like "https://socr.ucla.edu")',
        ),
        "origin of a file": origin_case(
            '["file:///home/ann/course.html"]',
            "embed.allowed_origins[0]: a page opened from a file has no origin: the browser reports it as "
            '"null" (got "file:///home/ann/course.html"; expected "null" for a host page opened from a '
            'file, or an origin like "https://socr.ucla.edu")',
        ),
        "origin without a scheme": origin_case(
            '["socr.ucla.edu"]',
            "embed.allowed_origins[0]: must start with https:// or http:// (got "
            '"socr.ucla.edu"; expected an origin like "https://socr.ucla.edu" or "http://localhost:8080")',
        ),
        "origin with uppercase scheme": origin_case(
            '["HTTPS://socr.ucla.edu"]',
            "embed.allowed_origins[0]: must be lowercase: the browser reports the scheme and host in "
            'lowercase (got "HTTPS://socr.ucla.edu"; expected "https://socr.ucla.edu")',
        ),
        "origin with uppercase host": origin_case(
            '["https://SOCR.ucla.edu:8443"]',
            "embed.allowed_origins[0]: must be lowercase: the browser reports the scheme and host in "
            'lowercase (got "https://SOCR.ucla.edu:8443"; expected "https://socr.ucla.edu:8443")',
        ),
        "origin with the default https port": origin_case(
            '["https://socr.ucla.edu:443"]',
            "embed.allowed_origins[0]: must leave out the default port :443: the browser reports the "
            'origin without it (got "https://socr.ucla.edu:443"; expected "https://socr.ucla.edu")',
        ),
        "origin with the default http port": origin_case(
            '["http://localhost:80"]',
            "embed.allowed_origins[0]: must leave out the default port :80: the browser reports the "
            'origin without it (got "http://localhost:80"; expected "http://localhost")',
        ),
        "origin with a port out of range": origin_case(
            '["http://localhost:80800"]',
            "embed.allowed_origins[0]: the port must be a number from 1 to 65535 "
            '(got "http://localhost:80800"; expected an origin like "https://socr.ucla.edu")',
        ),
        "origin without a host": origin_case(
            '["https://"]',
            'embed.allowed_origins[0]: has no host name (got "https://"; expected an origin like '
            '"https://socr.ucla.edu")',
        ),
        "origin with spaces": origin_case(
            '[" https://socr.ucla.edu"]',
            'embed.allowed_origins[0]: must not contain spaces (got " https://socr.ucla.edu"; expected '
            '"https://socr.ucla.edu")',
        ),
        "empty origin": origin_case(
            f'[{ORIGIN}, ""]',
            'embed.allowed_origins[1]: must not be empty (got ""; expected an origin like '
            '"https://socr.ucla.edu")',
        ),
        "null not written exactly": origin_case(
            '["NULL"]',
            'embed.allowed_origins[0]: must be written exactly as "null" (got "NULL"; expected "null")',
        ),
        "duplicate origin": origin_case(
            f'[{ORIGIN}, "http://localhost:8080", {ORIGIN}]',
            'embed.allowed_origins[2]: duplicate origin (got "https://socr.ucla.edu"; expected every '
            "origin to be different)",
        ),
        "origins not a list": origin_case(
            ORIGIN,
            'embed.allowed_origins: must be a list in square brackets (got "https://socr.ucla.edu"; '
            'expected a list of origins like ["https://socr.ucla.edu", "http://localhost:8080"])',
        ),
        "origin not text": origin_case(
            "[8080]",
            "embed.allowed_origins[0]: must be text in quotes (got 8080; expected an origin like "
            '"https://socr.ucla.edu")',
        ),
        "several bad origins, and a duplicate of a bad one is not counted twice": origin_case(
            '["https://socr.ucla.edu/", "https://socr.ucla.edu/", "null", "null"]',
            'embed.allowed_origins[0]: must not end with "/": drop the slash, an origin has no path '
            '(got "https://socr.ucla.edu/"; expected "https://socr.ucla.edu")',
            'embed.allowed_origins[1]: must not end with "/": drop the slash, an origin has no path '
            '(got "https://socr.ucla.edu/"; expected "https://socr.ucla.edu")',
            'embed.allowed_origins[3]: duplicate origin (got "null"; expected every origin to be different)',
        ),
    }
)


def cloud_case(url: str, *lines: str) -> tuple[str, dict, list[str]]:
    """A case of `[cloud] url = <url>` (TOML text) and the expected problems."""
    return (TWO + f"[cloud]\nurl = {url}\n", {}, problems(*lines))


CASES.update(
    {
        "cloud over plain http": cloud_case(
            '"http://models.example.edu/teachkit/"',
            "cloud.url: must use https:// (http:// only for a receiver on this computer, for testing) "
            '(got "http://models.example.edu/teachkit/"; expected "https://models.example.edu/teachkit/")',
        ),
        "cloud without a scheme": cloud_case(
            '"models.example.edu/teachkit/"',
            'cloud.url: must start with https:// (got "models.example.edu/teachkit/"; expected a web '
            'address like "https://models.example.edu/teachkit/")',
        ),
        "cloud with a query": cloud_case(
            '"https://models.example.edu/teachkit/?key=1"',
            'cloud.url: must not contain a query or fragment: drop everything from the "?" or "#" (got '
            '"https://models.example.edu/teachkit/?key=1"; expected a web address like '
            '"https://models.example.edu/teachkit/")',
        ),
        "cloud with a password": cloud_case(
            '"https://ann:secret@models.example.edu/"',
            "cloud.url: must not contain a user name or password "
            '(got "https://ann:secret@models.example.edu/"; expected "https://models.example.edu/")',
        ),
        "cloud with a capital host": cloud_case(
            '"https://Models.example.edu/teachkit/"',
            "cloud.url: must be lowercase: the browser reports the scheme and host in lowercase "
            '(got "https://Models.example.edu/teachkit/"; expected "https://models.example.edu/teachkit/")',
        ),
        "cloud is no text": cloud_case(
            "443",
            "cloud.url: must be text in quotes (got 443; expected a web address like "
            '"https://models.example.edu/teachkit/")',
        ),
    }
)


@pytest.mark.parametrize("text, files, expected", list(CASES.values()), ids=list(CASES))
def test_malformed_project_file(tmp_path, text, files, expected):
    project_file = tmp_path / "project.toml"
    if text is not None:
        project_file.write_bytes(text if isinstance(text, bytes) else text.encode())
    for name, content in files.items():
        if isinstance(content, bytes):
            (tmp_path / name).write_bytes(content)
        else:
            (tmp_path / name).write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_project(project_file)
    substitute = {"FILE": str(project_file), "DIR": str(tmp_path.resolve())}
    wanted = []
    for line in expected:
        for placeholder, value in substitute.items():
            line = line.replace(placeholder, value)
        wanted.append(line)
    assert str(caught.value).splitlines() == wanted

    # The same through the command line: the message, exit code 1, and the previous site untouched.
    output = tmp_path / "site"
    output.mkdir()
    (output / "manifest.json").write_text('{"previous": "build"}')
    result = CliRunner().invoke(main, ["build", str(project_file), "-o", str(output)])
    assert result.exit_code == 1, result.output
    assert result.output == "error: " + "\n".join(wanted) + "\n"
    assert [(f.name, f.read_text()) for f in output.iterdir()] == [("manifest.json", '{"previous": "build"}')]


def test_missing_file_suggests_the_folder_to_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        load_project(Path("leaves/project.toml"))
    assert str(caught.value) == (
        "leaves/project.toml: file not found (expected a teachkit project file; "
        "create one with: teachkit init leaves)"
    )


def test_minimal_file_loads_with_defaults(tmp_path):
    (tmp_path / "project.toml").write_text(TWO)
    project = load_project(tmp_path / "project.toml")
    assert project.project_file == (tmp_path / "project.toml").resolve()
    assert project.project_dir == tmp_path.resolve()
    assert project.model.weights_path is None and not project.model.is_custom
    assert project.model_dump() == {
        "title": "My image classifier",
        "description": "",
        "classes": ["cats", "dogs"],
        "model": {
            "base": "efficientnet_lite0",
            "alpha": None,
            "input_size": None,
            "weights": "imagenet",
            "path": None,
            "cut_layer": None,
            "input_range": "0-1",
            "quantization": "auto",
            "min_fidelity": 0.99,
            "runtime": "auto",
        },
        "head": {"type": "dense", "hidden_units": [100], "activation": "relu", "dropout": 0.0, "k": 3},
        "training": {
            "epochs": 50,
            "batch_size": 16,
            "learning_rate": 0.001,
            "validation_fraction": 0.15,
            "seed": 42,
        },
        "capture": {"fps": 10},
        "theme": {
            "primary_color": "#1f6feb",
            "background_color": "#ffffff",
            "text_color": "#1f2328",
            "logo": None,
            "intro": "",
            "footer": "",
        },
        "page": {"mode": "teach"},
        "embed": {"allowed_origins": []},
        "regression": {"label": "Value", "unit": "", "min": 0.0, "max": 100.0},
        "cloud": {"url": None},
        "output": {"mode": "hosted", "dir": tmp_path.resolve() / "dist"},
    }


def test_valid_choices_load(tmp_path):
    (tmp_path / "w.h5").write_text("weights")
    (tmp_path / "project.toml").write_text(
        'classes = [" Oak ", "Beech"]\n[model]\nbase = "mobilenet_v2"\nalpha = 1\ninput_size = 96\n'
        'weights = "w.h5"\n[head]\ntype = "knn"\nhidden_units = []\n[training]\nlearning_rate = 1\n'
        '[theme]\nprimary_color = "#FFF"\n'
    )
    project = load_project(tmp_path / "project.toml")
    assert project.classes == ["Oak", "Beech"]
    assert project.model.alpha == 1.0
    assert project.model.weights == project.model.weights_path == tmp_path.resolve() / "w.h5"
    assert project.head.hidden_units == []
    assert project.training.learning_rate == 1.0


def test_own_model_loads(tmp_path):
    saved_model = tmp_path / "models" / "mine"
    saved_model.mkdir(parents=True)
    (saved_model / "saved_model.pb").write_bytes(b"")
    (tmp_path / "project.toml").write_text(
        TWO + '[model]\npath = "models/mine"\ncut_layer = "pool"\ninput_range = "-1-1"\n'
    )
    model = load_project(tmp_path / "project.toml").model
    assert model.is_custom and model.path == saved_model.resolve()
    assert (model.cut_layer, model.input_range) == ("pool", "-1-1")


def test_relative_paths_resolve_against_the_project_file_not_the_cwd(tmp_path, monkeypatch):
    project_dir = tmp_path / "leaves"
    (project_dir / "img").mkdir(parents=True)
    (project_dir / "img" / "logo.svg").write_text(SVG)
    (project_dir / "project.toml").write_text(
        TWO + '[theme]\nlogo = "img/logo.svg"\n[output]\ndir = "../site"\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for given in (project_dir / "project.toml", Path("../leaves/project.toml")):
        project = load_project(given)
        assert project.theme.logo == (project_dir / "img" / "logo.svg").resolve()
        assert project.output.dir == (tmp_path / "site").resolve()
        assert project.project_dir == project_dir.resolve()


def test_validating_without_a_project_file_refuses_to_guess_a_folder():
    with pytest.raises(ValueError, match="a relative path needs the folder of the project file"):
        Project.model_validate({"classes": ["a", "b"]})


# The project's tables that reach the page's config; [model] and [output] are the build's only.
PAGE_TABLES = {"regression", "head", "training", "capture", "theme", "page", "embed", "cloud"}


def test_page_config_is_json_without_paths(tmp_path):
    (tmp_path / "logo.png").write_bytes(image_bytes("PNG"))
    (tmp_path / "project.toml").write_text(TWO + '[theme]\nlogo = "logo.png"\nintro = "Hi"\n')
    config = load_project(tmp_path / "project.toml").page_config()
    assert set(config) == {"title", "description", "classes", *PAGE_TABLES, "settings"}
    assert config["page"] == {"mode": "teach"}
    assert config["embed"] == {"allowed_origins": []}
    assert config["cloud"] == {"url": None}
    assert config["settings"] == settings_spec()
    assert config["theme"] == {
        "primary_color": "#1f6feb",
        "background_color": "#ffffff",
        "text_color": "#1f2328",
        "intro": "Hi",
        "footer": "",
    }
    assert str(tmp_path) not in json.dumps(config)


def test_good_embed_table_reaches_the_page(tmp_path):
    origins = ["https://socr.ucla.edu", "http://localhost:8080", "null", "http://[::1]:8000"]
    (tmp_path / "project.toml").write_text(TWO + f"[embed]\nallowed_origins = {json.dumps(origins)}\n")
    project = load_project(tmp_path / "project.toml")
    assert project.embed.allowed_origins == origins
    assert project.page_config()["embed"] == {"allowed_origins": origins}


@pytest.mark.parametrize(
    "url, stored, origin",
    [
        (
            "https://models.example.edu/teachkit/",
            "https://models.example.edu/teachkit/",
            "https://models.example.edu",
        ),
        (
            "https://models.example.edu/teachkit",
            "https://models.example.edu/teachkit/",
            "https://models.example.edu",
        ),
        (
            "https://models.example.edu:8443",
            "https://models.example.edu:8443/",
            "https://models.example.edu:8443",
        ),
        ("http://127.0.0.1:8700/", "http://127.0.0.1:8700/", "http://127.0.0.1:8700"),
        ("http://localhost:8700/models/", "http://localhost:8700/models/", "http://localhost:8700"),
        ("http://[::1]:8700/", "http://[::1]:8700/", "http://[::1]:8700"),
    ],
)
def test_good_cloud_url_reaches_the_page_ending_in_a_slash(tmp_path, url, stored, origin):
    (tmp_path / "project.toml").write_text(TWO + f'[cloud]\nurl = "{url}"\n')
    project = load_project(tmp_path / "project.toml")
    assert project.page_config()["cloud"] == {"url": stored}
    assert project.cloud.origin == origin


def test_without_cloud_the_page_gets_none(tmp_path):
    (tmp_path / "project.toml").write_text(TWO)
    project = load_project(tmp_path / "project.toml")
    assert project.page_config()["cloud"] == {"url": None}
    assert project.cloud.origin is None


SPEC_KEYS = ["section", "key", "label", "kind"]
BOUND_KEYS = ["min", "max", "min_exclusive", "max_exclusive"]
TAIL_KEYS = ["default", "help", "head"]


def test_settings_spec_is_the_schema_of_head_and_training():
    spec = settings_spec()
    json.dumps(spec)
    schema = project_json_schema()
    tables = {name: schema["$defs"][f"{name.title()}Section"]["properties"] for name in ("head", "training")}
    assert [(entry["section"], entry["key"]) for entry in spec] == [
        (name, key) for name, table in tables.items() for key in table
    ]
    labels = {entry["key"]: entry["label"] for entry in spec}
    assert labels == {
        "type": "Classifier",
        "hidden_units": "Hidden layer sizes",
        "activation": "Activation",
        "dropout": "Dropout",
        "k": "Neighbours (k)",
        "epochs": "Epochs",
        "batch_size": "Batch size",
        "learning_rate": "Learning rate",
        "validation_fraction": "Held back for checking",
        "seed": "Random seed",
    }
    defaults = Project.model_validate({"classes": ["a", "b"]}, context={"project_file": "project.toml"})
    for entry in spec:
        prop = tables[entry["section"]][entry["key"]]
        where = f"{entry['section']}.{entry['key']}"
        assert entry["help"] == prop["description"], where
        assert (
            entry["default"] == prop["default"] == getattr(getattr(defaults, entry["section"]), entry["key"])
        )
        assert entry["head"] in ("dense", "knn", None), where
        if entry["kind"] == "choice":
            assert list(entry) == [*SPEC_KEYS, "choices", *TAIL_KEYS], where
            assert [choice["value"] for choice in entry["choices"]] == prop["enum"], where
            assert all(set(choice) == {"value", "label"} for choice in entry["choices"]), where
            continue
        if entry["kind"] == "integer_list":
            assert list(entry) == [*SPEC_KEYS, *BOUND_KEYS, "max_items", "step", *TAIL_KEYS], where
            assert entry["max_items"] == prop["maxItems"], where
            prop = prop["items"]
        else:
            assert list(entry) == [*SPEC_KEYS, *BOUND_KEYS, "step", *TAIL_KEYS], where
        assert entry["kind"] in ("integer", "number", "integer_list"), where
        assert prop["type"] == ("number" if entry["kind"] == "number" else "integer"), where
        # the JSON Schema is pydantic's own reading of the constraints, independent of settings_spec
        assert entry["min"] == prop.get("minimum", prop.get("exclusiveMinimum")), where
        assert entry["max"] == prop.get("maximum", prop.get("exclusiveMaximum")), where
        assert entry["min_exclusive"] == ("exclusiveMinimum" in prop), where
        assert entry["max_exclusive"] == ("exclusiveMaximum" in prop), where
        assert entry["step"] == "any" or entry["step"] > 0, where
    by_key = {entry["key"]: entry for entry in spec}
    assert by_key["type"]["choices"] == [
        {"value": "dense", "label": "small neural network"},
        {"value": "knn", "label": "nearest neighbours"},
        {"value": "regression", "label": "a number"},
    ]
    assert by_key["dropout"] == {
        "section": "head",
        "key": "dropout",
        "label": "Dropout",
        "kind": "number",
        "min": 0,
        "max": 0.9,
        "min_exclusive": False,
        "max_exclusive": False,
        "step": 0.05,
        "default": 0.0,
        "help": "Fraction of hidden neurons switched off at random while training.",
        "head": "dense",
    }
    assert {key: by_key[key]["step"] for key in ("dropout", "validation_fraction", "learning_rate")} == {
        "dropout": 0.05,
        "validation_fraction": 0.05,
        "learning_rate": "any",
    }
    assert {key for key, entry in by_key.items() if entry["head"] == "knn"} == {"k"}
    assert {key for key, entry in by_key.items() if entry["head"] is None} == {
        "type",
        "validation_fraction",
        "seed",
    }


def _spec_verdict(entry, value) -> bool:
    """What a page that follows the spec's bounds to the letter decides for `value`."""
    if entry["kind"] == "choice":
        return value in [choice["value"] for choice in entry["choices"]]
    if entry["kind"] == "integer_list":
        item = {**entry, "kind": "integer"}
        return len(value) <= entry["max_items"] and all(_spec_verdict(item, x) for x in value)
    if entry["kind"] == "integer" and not isinstance(value, int):
        return False
    low, high = entry["min"], entry["max"]
    above = low is None or value > low or (value == low and not entry["min_exclusive"])
    below = high is None or value < high or (value == high and not entry["max_exclusive"])
    return above and below


def test_boundary_cases_agree_with_the_spec():
    spec = {(entry["section"], entry["key"]): entry for entry in settings_spec()}
    cases = boundary_cases()
    assert {case[:2] for case in cases} == set(spec)
    verdicts = {}
    for section, key, value in cases:
        verdict = python_verdict(section, key, value)
        # A project of classes (the verdicts' project) cannot take a regression head; the page
        # of classes does not offer it either (tests/test_settings_agree.py).
        expected = _spec_verdict(spec[section, key], value) and (section, key, value) != (
            "head",
            "type",
            "regression",
        )
        assert verdict == expected, (section, key, value)
        verdicts.setdefault((section, key), set()).add(verdict)
    assert all(seen == {True, False} for seen in verdicts.values()), verdicts
    # spot checks on the edges themselves
    assert python_verdict("head", "dropout", 0.9) and not python_verdict("head", "dropout", 0.9 + 1e-6)
    assert python_verdict("training", "seed", 2**32 - 1) and not python_verdict("training", "seed", 2**32)
    assert not python_verdict("training", "learning_rate", 0)
    assert python_verdict("head", "hidden_units", [4096] * 4)
    assert not python_verdict("head", "hidden_units", [1] * 5)
    assert not python_verdict("head", "k", 2.5)


def test_example_project_loads_and_shows_the_defaults(tmp_path):
    written = write_example_project(tmp_path / "new")
    assert written == tmp_path / "new" / "project.toml"
    example = load_project(written)
    assert example.classes == ["Rock", "Paper", "Scissors"]
    (tmp_path / "project.toml").write_text('classes = ["Rock", "Paper", "Scissors"]\n')
    defaults = load_project(tmp_path / "project.toml")
    for table in ("model", "head", "training", "capture", "embed", "cloud"):
        assert getattr(example, table) == getattr(defaults, table), table
    assert example.theme.model_dump() == defaults.theme.model_dump()
    assert example.output.mode == defaults.output.mode and example.output.dir.name == "dist"
    # every key of every table appears in the example, at least as a comment
    text = written.read_text()
    for line in reference_markdown().splitlines():
        if line.startswith("| `") and "." in line.split("`")[1]:
            key = line.split("`")[1].split(".")[1]
            assert f"\n{key} = " in text or f"\n# {key} = " in text, key


def test_example_project_is_not_overwritten(tmp_path):
    (tmp_path / "project.toml").write_text("mine")
    with pytest.raises(ConfigError) as caught:
        write_example_project(tmp_path)
    assert str(caught.value) == (
        f"{tmp_path / 'project.toml'}: already exists (expected a folder without a project file; "
        "pick another folder, or delete or rename the file first)"
    )
    assert (tmp_path / "project.toml").read_text() == "mine"


def test_templates_dir_holds_the_example():
    assert (templates_dir() / "project" / "project.toml").is_file()


def test_json_schema_describes_every_table_and_key():
    schema = project_json_schema()
    json.dumps(schema)
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    # classes are required unless the head predicts a number: checked by the loader, not the schema
    assert "required" not in schema
    tables = {"model", *PAGE_TABLES, "output"}
    assert tables | {"title", "description", "classes"} == set(schema["properties"])
    for name in tables:
        table = schema["$defs"][schema["properties"][name]["$ref"].rsplit("/", 1)[1]]
        assert table["type"] == "object" and table["additionalProperties"] is False
        for key, prop in table["properties"].items():
            assert prop.get("description"), f"{name}.{key} has no description"
            # (a description may mention the text "null", as embed.allowed_origins does)
            typed = {part: value for part, value in prop.items() if part != "description"}
            assert "null" not in json.dumps(typed), f"{name}.{key}: TOML has no null"
    theme = schema["$defs"]["ThemeSection"]["properties"]
    assert theme["primary_color"]["format"] == "color"
    assert theme["logo"]["format"] == "path"


def test_reference_lists_every_key():
    reference = reference_markdown()
    schema = project_json_schema()
    for name, prop in schema["properties"].items():
        if "$ref" in prop:
            table = schema["$defs"][prop["$ref"].rsplit("/", 1)[1]]
            assert f"### `[{name}]`" in reference
            for key in table["properties"]:
                assert f"| `{name}.{key}` |" in reference
        else:
            assert f"| `{name}` |" in reference


def test_update_readme_reference(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\n{REFERENCE_START}\nold\n{REFERENCE_END}\n\nMore.\n")
    assert update_readme_reference(readme) is True
    assert update_readme_reference(readme) is False
    text = readme.read_text()
    assert readme_reference(text).strip("\n") == reference_markdown().strip("\n")
    assert text.startswith("# Title\n\n") and text.endswith(f"{REFERENCE_END}\n\nMore.\n")


def test_docs_page_holds_the_generated_reference():
    page = "docs/project-file.md"
    markers = f"the markers {REFERENCE_START} and {REFERENCE_END}"
    regenerate = f"regenerate the reference with: python -m builder.config {page}"
    path = REPO / page
    if not path.is_file():
        pytest.fail(f"{page} is missing: write it with {markers}, then {regenerate}")
    current = readme_reference(path.read_text(encoding="utf-8"))
    if current is None:
        pytest.fail(f"{page} has no project-file reference: put {markers} back, then {regenerate}")
    assert current.strip("\n") == reference_markdown().strip("\n"), (
        f"{page}'s project-file reference is out of date; {regenerate}"
    )


# ------------------------------------------------------------------------------------ theme contrast


def theme(**colours: str) -> object:
    return Project.model_validate(
        {"classes": ["a", "b"], "theme": colours}, context={"project_file": "p"}
    ).theme


def test_wcag_formula_on_known_pairs():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#fff", "#ffffff") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.005)  # the lightest AA grey
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.005)
    assert relative_luminance("#808080") == pytest.approx(0.2159, abs=1e-4)
    assert contrast_ratio("#FFD100", "#fff") == contrast_ratio("#fff", "#FFD100")


def test_ucla_gold_buttons_warn_with_the_ratio_and_a_passing_shade():
    assert theme_contrast_warnings(theme(primary_color="#FFD100")) == [
        'theme.primary_color: button text on "#FFD100" has contrast 1.46:1, below 4.5:1 (WCAG AA); '
        'a darker shade of the same hue that passes: "#8E7400"'
    ]
    assert contrast_ratio("#8E7400", BUTTON_TEXT) >= 4.5
    assert theme_contrast_warnings(theme(primary_color="#8E7400")) == []


def test_default_theme_passes():
    assert theme_contrast_warnings(theme()) == []


def test_text_colour_is_checked_against_the_background():
    assert theme_contrast_warnings(theme(text_color="#777777")) == [
        'theme.text_color: text "#777777" on background "#ffffff" has contrast 4.48:1, below 4.5:1 '
        '(WCAG AA); a darker shade of the same hue that passes: "#767676"'
    ]
    # On a dark background the passing shade is lighter.
    assert theme_contrast_warnings(theme(text_color="#444444", background_color="#222222")) == [
        'theme.text_color: text "#444444" on background "#222222" has contrast 1.63:1, below 4.5:1 '
        '(WCAG AA); a lighter shade of the same hue that passes: "#898989"'
    ]


def test_a_ratio_just_under_the_bound_never_reads_as_passing():
    # #088a22 on white is 4.498:1; rounded it would read 4.50:1.
    assert 4.495 <= contrast_ratio("#088a22", "#ffffff") < 4.5
    (warning,) = theme_contrast_warnings(theme(text_color="#088a22"))
    assert "has contrast 4.49:1, below 4.5:1" in warning


def test_passing_shade_keeps_the_hue():
    import colorsys

    from builder.contrast import parse_hex

    for colour in ("#FFD100", "#00ff00", "#ff69b4", "#87ceeb"):
        shade = passing_shade(colour, "#ffffff")
        assert contrast_ratio(shade, "#ffffff") >= 4.5
        hue = colorsys.rgb_to_hls(*parse_hex(colour))[0]
        assert colorsys.rgb_to_hls(*parse_hex(shade))[0] == pytest.approx(hue, abs=0.01)


def test_button_text_colour_is_the_one_the_page_uses():
    """The check assumes the page's primary buttons have white text; if style.css changes that, the
    check must change with it."""
    css = (templates_dir() / "page" / "style.css").read_text()
    rule = re.search(r"(?m)^button, \.button \{(.*?)\}", css, re.S)
    assert rule is not None
    assert "background: var(--primary);" in rule.group(1)
    assert re.search(r"(?m)^\s*color: #fff;", rule.group(1)), rule.group(1)
    assert BUTTON_TEXT == "#ffffff"


def test_a_regression_project_predicts_a_number_with_one_group_of_samples(tmp_path):
    (tmp_path / "project.toml").write_text(
        '[head]\ntype = "regression"\n[regression]\nlabel = "Zoom"\nunit = "×"\nmin = 1\nmax = 4\n'
    )
    project = load_project(tmp_path / "project.toml")
    assert project.is_regression and project.classes == []
    config = project.page_config()
    assert config["classes"] == ["Zoom"]
    assert config["regression"] == {"label": "Zoom", "unit": "×", "min": 1.0, "max": 4.0}
    (tmp_path / "project.toml").write_text(TWO)
    assert load_project(tmp_path / "project.toml").page_config()["regression"] is None


def test_the_example_projects_load():
    for project_file in sorted((REPO / "examples").glob("*/project.toml")):
        load_project(project_file)  # raises ConfigError, naming the file, if one does not
    assert load_project(REPO / "examples" / "regression" / "project.toml").is_regression
