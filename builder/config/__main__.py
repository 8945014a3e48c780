"""python -m builder.config [FILE]: regenerate the project-file reference in FILE (the docs' page)."""

import sys
from pathlib import Path

from .reference import update_readme_reference

update_readme_reference(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/project-file.md"))
