"""Makes the tensorflowjs package importable wherever teachkit installs.

Importing any part of tensorflowjs imports its SavedModel converter, which imports two packages that
teachkit's conversions never call: tensorflow_hub (for TF Hub modules) and tensorflow_decision_forests
(for decision-forest ops). tensorflow_hub 0.16.1, the newest, imports pkg_resources for one
version check, and setuptools 81 and newer no longer ship pkg_resources. teachkit asks for
setuptools < 81 (which still has it, and warns on importing it), but an author's venv may hold a
newer one. tensorflow_decision_forests prints a welcome banner that imports IPython whenever stdout
is captured."""

from __future__ import annotations

import importlib.util
import os
import sys
import types
import warnings

from packaging.version import parse


def prepare_tensorflowjs_import() -> None:
    """Call before importing tensorflowjs."""
    os.environ.setdefault("TFDF_DISABLE_WELCOME_MESSAGE", "1")
    # Said to whoever imports pkg_resources (tensorflow_hub), not to the author of a project.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    if "pkg_resources" not in sys.modules and importlib.util.find_spec("pkg_resources") is None:
        # The one name tensorflow_hub takes from it; packaging's parse is what it always wrapped.
        shim = types.ModuleType("pkg_resources")
        shim.parse_version = parse
        sys.modules["pkg_resources"] = shim
