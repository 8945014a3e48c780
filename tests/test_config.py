"""The project file: defaults, paths, the page config and settings spec, schema, reference, theme
contrast. The exact error messages of malformed files: tests/test_config_messages.py,
tests/test_config_model_theme.py and tests/test_config_origins.py."""

import json
import re
from pathlib import Path

import pytest

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

from .support.config_cases import SVG, TWO, image_bytes
from .support.settings_cases import boundary_cases, python_verdict

REPO = Path(__file__).resolve().parent.parent


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
            "min_map_fidelity": 0.98,
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
