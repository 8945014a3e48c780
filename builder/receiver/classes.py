"""Classes on the receiver: a teacher makes one (`teachkit class create`), students hand in their
models with its code, and the teacher lists them with the teacher token.

Layout, in the same store as the models (see store.py):

    classes/<CODE>/class.json                  {code, title, created, closed, token_sha256}
    classes/<CODE>/submissions/<KEY>.json      {id, name, created}: the index entry of one name

KEY is the sha256 of the normalised name, so each name is its own object: two students handing in
at once write two objects and never overwrite each other's entry. A name's first entry is written
only where none is (Backend.put_new): of two first hand-ins under one name, one is refused. The
submission itself is a model (`models/<ID>.json` and its blobs) whose record also holds "class",
"name" and "metrics"; GET models never lists it.

The teacher token is `secrets.token_urlsafe(32)`, shown once; only its sha256 is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..errors import TeachkitError
from .errors import ApiError, bad_upload
from .middleware import now_iso
from .store import ModelStore

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud and copied from a board
CODE_LENGTH = 7
NAME_MAX = 60
TITLE_MAX = 200
METRICS_MAX = 64 * 1024
READERS = 8  # store reads at once when listing a class
JSON_TYPES = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false"}
# Besides the Cc controls: the line and paragraph separators and the bidirectional overrides,
# which make a name read differently from what it is in the teacher's list.
INVISIBLE = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class ClassError(TeachkitError):
    """A class command cannot do what it was asked: no class with that code in the store."""


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(text: str) -> str | None:
    """The code as stored (upper case, no spaces or dashes), or None if it cannot be one."""
    code = "".join(text.split()).replace("-", "").upper()
    if len(code) == CODE_LENGTH and all(char in ALPHABET for char in code):
        return code
    return None


def name_key(name: str) -> str:
    """Names that differ only in case and spacing are the same student: trimmed, inner runs of
    whitespace as one space, casefolded (NFC first, so é typed either way is one letter)."""
    normalized = " ".join(unicodedata.normalize("NFC", name).split()).casefold()
    return hashlib.sha256(normalized.encode()).hexdigest()


def check_name(text: str | None) -> str:
    """The name as it is kept (trimmed), or ApiError 400 saying what is wrong with it."""
    if text is None:
        raise bad_upload("the hand-in has no name; send the text field name (the name your teacher knows).")
    name = text.strip()
    if not any(unicodedata.category(char)[0] not in "ZC" for char in name):  # nothing visible
        raise bad_upload("the name is empty; type the name your teacher knows you by.")
    if len(name) > NAME_MAX:
        raise bad_upload(f"the name has {len(name)} characters; at most {NAME_MAX} are kept. Shorten it.")
    if any(unicodedata.category(char) == "Cc" or char in INVISIBLE for char in name):
        raise bad_upload(
            "the name holds control characters (a line break, a tab or the like); type it again."
        )
    return name


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def check_metrics(text: str | None) -> dict[str, Any]:
    """The training metrics the page sends, a JSON object (empty when not sent). NaN and Infinity
    are refused: the teacher's list must be JSON that browsers read."""
    if text is None:
        return {}
    if len(text.encode()) > METRICS_MAX:
        raise bad_upload(f"the field metrics is over {METRICS_MAX // 1024} KB; send the page's numbers only.")
    try:
        metrics = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise bad_upload(
            "the field metrics is not JSON (NaN and Infinity are not either); send the page's training "
            "numbers as a JSON object."
        ) from None
    if not isinstance(metrics, dict):
        raise bad_upload(
            f"the field metrics must be a JSON object ({{...}}), not {JSON_TYPES.get(type(metrics), 'that')}."
        )
    return metrics


def token_matches(token: str, token_sha256: str) -> bool:
    return hmac.compare_digest(sha256(token), token_sha256)


def unknown_class(code: str) -> ApiError:
    return ApiError(
        404,
        "unknown_class_code",
        f"There is no class with the code {code} here; check the code your teacher gave you.",
    )


def class_closed(code: str) -> ApiError:
    return ApiError(409, "class_closed", f"The class {code} no longer takes hand-ins; ask your teacher.")


def _class_key(code: str) -> str:
    return f"classes/{code}/class.json"


def _entries_prefix(code: str) -> str:
    return f"classes/{code}/submissions/"


@dataclass(frozen=True)
class Created:
    record: dict[str, Any]
    teacher_token: str


class ClassStore:
    """The classes and their submissions' index, over a model store's backend."""

    def __init__(self, store: ModelStore):
        self.store = store
        self.backend = store.backend

    def _read(self, key: str) -> dict[str, Any] | None:
        data = self.backend.get(key)
        return json.loads(data) if data is not None else None

    def _write(self, key: str, value: dict[str, Any]) -> None:
        self.backend.put(key, json.dumps(value, indent=1).encode())

    def create(self, title: str) -> Created:
        title = title.strip()
        if not title or len(title) > TITLE_MAX:
            raise ClassError(
                f"the class needs a title of 1 to {TITLE_MAX} characters (got {len(title)}), e.g. "
                "teachkit class create '7b biology'."
            )
        while True:
            code = new_code()
            if not self.backend.exists(_class_key(code)):
                break
        token = secrets.token_urlsafe(32)
        record = {
            "code": code,
            "title": title,
            "created": now_iso(),
            "closed": False,
            "token_sha256": sha256(token),
        }
        self._write(_class_key(code), record)
        return Created(record, token)

    def get(self, code: str) -> dict[str, Any] | None:
        normalized = normalize_code(code)
        return self._read(_class_key(normalized)) if normalized else None

    def require(self, code: str) -> dict[str, Any]:
        """The class, or ClassError (for the command line)."""
        record = self.get(code)
        if record is None:
            raise ClassError(
                f"there is no class {code} in {self.store.description}; teachkit class list shows them."
            )
        return record

    def all(self) -> list[dict[str, Any]]:
        found = []
        for item in self.backend.list("classes/"):
            parts = item.key.split("/")
            if len(parts) == 3 and parts[2] == "class.json":
                record = self._read(item.key)
                if record is not None:
                    found.append(record)
        return sorted(found, key=lambda record: record["created"])

    def close(self, code: str) -> dict[str, Any]:
        record = self.require(code)
        record["closed"] = True
        self._write(_class_key(record["code"]), record)
        return record

    def delete(self, code: str) -> int:
        """Deletes the class, its index and its submissions' models (closed first, so that no hand-in
        lands while it goes); returns how many models were deleted."""
        record = self.close(code)
        deleted = 0
        for model in self.store.records():
            if model.get("class") == record["code"]:
                self.store.delete(model["id"], model)
                deleted += 1
        for item in self.backend.list(_entries_prefix(record["code"])):
            self.backend.delete(item.key)
        self.backend.delete(_class_key(record["code"]))
        return deleted

    # The index of submissions: one object per name.

    def entry(self, code: str, key: str) -> dict[str, Any] | None:
        return self._read(f"{_entries_prefix(code)}{key}.json")

    def put_entry(self, code: str, key: str, entry: dict[str, Any]) -> None:
        self._write(f"{_entries_prefix(code)}{key}.json", entry)

    def put_new_entry(self, code: str, key: str, entry: dict[str, Any]) -> bool:
        """The entry of a name nobody has handed in under; False if someone just did."""
        return self.backend.put_new(
            f"{_entries_prefix(code)}{key}.json", json.dumps(entry, indent=1).encode()
        )

    def delete_entry(self, code: str, key: str) -> None:
        self.backend.delete(f"{_entries_prefix(code)}{key}.json")

    def entries(self, code: str) -> list[dict[str, Any]]:
        found = []
        for item in self.backend.list(_entries_prefix(code)):
            entry = self._read(item.key)
            if entry is not None:
                found.append(entry)
        return found

    def submissions(self, code: str) -> list[dict[str, Any]]:
        """Each listed submission's entry with its model's record (an entry whose model is gone is
        left out), sorted by name. The reads run a few at a time: a bucket answers each in tens of
        milliseconds, and a class has thirty names."""

        def read(key: str) -> dict[str, Any] | None:
            entry = self._read(key)
            model = self.store.record(entry["id"]) if entry is not None else None
            return {"entry": entry, "model": model} if model is not None else None

        keys = [item.key for item in self.backend.list(_entries_prefix(code))]
        with ThreadPoolExecutor(max_workers=READERS) as pool:
            found = [item for item in pool.map(read, keys) if item is not None]
        return sorted(found, key=lambda item: (item["entry"]["name"].casefold(), item["entry"]["created"]))
