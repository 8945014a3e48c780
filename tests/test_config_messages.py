"""The project file's exact error messages: reading the file, the head, training, classes and
title, unknown keys."""

import pytest

from .support.config_cases import TWO, check_malformed, problems

# Each case: project.toml text (str or bytes; None for no file), other files, expected message lines
# (tests/support/config_cases.py check_malformed).
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
    "min_map_fidelity above 1": (
        TWO + "[model]\nmin_map_fidelity = 1.5\n",
        {},
        problems(
            "model.min_map_fidelity: must be more than 0 and at most 1 (got 1.5; expected a number like 0.98)"
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
}


@pytest.mark.parametrize("text, files, expected", list(CASES.values()), ids=list(CASES))
def test_malformed_project_file(tmp_path, text, files, expected):
    check_malformed(tmp_path, text, files, expected)
