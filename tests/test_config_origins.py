"""The project file's [embed] allowed origins and [cloud] url: exact error messages for bad ones, and
what good ones give the page."""

import json

import pytest

from builder.config import load_project

from .support.config_cases import TWO, check_malformed, problems

CASES: dict = {}


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
    check_malformed(tmp_path, text, files, expected)


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
