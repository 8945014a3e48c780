"""Helpers shared by the tests, the benchmarks and docs/screenshots.py, by kind: `site` (building
and serving sites), `browser` (launching browsers, recording a page's traffic), `visitor` (what a
visitor does in the page), `files` (fixture files). tests/conftest.py only declares fixtures."""
