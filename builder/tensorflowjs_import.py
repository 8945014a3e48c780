"""Makes the tensorflowjs package importable wherever teachkit installs.

Importing any part of tensorflowjs imports its SavedModel converter, which imports two packages that
teachkit's conversions never call: tensorflow_hub (for TF Hub modules) and tensorflow_decision_forests
(for decision-forest ops). tensorflow_hub 0.16.1, the newest, imports pkg_resources for one
version check, and setuptools 81 and newer no longer ship pkg_resources: in a fresh venv, where pip
brings the newest setuptools, the import fails. tensorflow_decision_forests prints a welcome banner
that imports IPython whenever stdout is captured."""

from __future__ import annotations

import importlib.util
import os
import sys
import types

from packaging.version import parse


def prepare_tensorflowjs_import() -> None:
    """Call before importing tensorflowjs."""
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is None:
        # The one name tensorflow_hub takes from it; packaging's parse is what it always wrapped.
        shim = types.ModuleType("pkg_resources")
        shim.parse_version = parse
        sys.modules["pkg_resources"] = shim
