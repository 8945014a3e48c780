"""Puts the page's JavaScript, prebuilt, into the wheel (builder/js/), so that an author who installs
teachkit needs neither npm nor esbuild. Made by the same code that a source checkout's build uses
(builder/prebuilt.py), from this checkout's locked npm packages."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class PrebuiltJavaScript(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel" or version == "editable":
            return  # an editable install bundles from node_modules, as a checkout does
        # builder.prebuilt and what it imports need nothing beyond the standard library.
        sys.path.insert(0, self.root)
        from builder.jstools import checkout_toolchain
        from builder.prebuilt import make_prebuilt

        self.made = Path(tempfile.mkdtemp(prefix="teachkit-prebuilt-"))
        make_prebuilt(checkout_toolchain(), self.made)
        build_data["force_include"][str(self.made)] = "builder/js"

    def finalize(self, version: str, build_data: dict, artifact_path: str) -> None:
        if hasattr(self, "made"):
            shutil.rmtree(self.made, ignore_errors=True)
