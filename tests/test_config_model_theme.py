"""The project file's exact error messages: the theme (logo, colours) and the base model."""

import pytest

from .support.config_cases import TWO, check_malformed, image_bytes, problems

# Each case: project.toml text (str or bytes; None for no file), other files, expected message lines
# (tests/support/config_cases.py check_malformed).
CASES = {
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


@pytest.mark.parametrize("text, files, expected", list(CASES.values()), ids=list(CASES))
def test_malformed_project_file(tmp_path, text, files, expected):
    check_malformed(tmp_path, text, files, expected)
