"""`teachkit class create|list|close|delete`: a teacher's classes in a receiver's store. The group is
made by `class_group` with the CLI's own decorators (builder/cli.py registers it), so errors are
reported once, at the edge, like every other command's."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

STORE_HELP = (
    "The store teachkit receive --store serves: a folder or s3://BUCKET/PREFIX (credentials, "
    "AWS_ENDPOINT_URL and region the standard AWS way)."
)
Decorator = Callable[[Any], Any]


def _classes(store: str) -> Any:
    from .receiver.classes import ClassStore
    from .receiver.store import open_store

    return ClassStore(open_store(store))


def class_group(reports_errors: Decorator, verbosity_options: Decorator) -> click.Group:
    """The `class` group, its commands wrapped in the CLI's error reporting and -v/-q."""

    def common(command: Any) -> Any:
        command = reports_errors(command)
        command = verbosity_options(command)
        return click.option("--store", required=True, metavar="STORE", help=STORE_HELP)(command)

    @click.group(name="class")
    @verbosity_options
    def group() -> None:
        """A class whose students hand in their models to a receiver (teachkit receive over the same
        store), and whose teacher lists them with the teacher token."""

    @group.command()
    @click.argument("title")
    @click.option(
        "--json", "as_json", is_flag=True, help="Print {code, title, created, teacher_token} as JSON."
    )
    @common
    def create(title: str, store: str, as_json: bool) -> None:
        """Make a class called TITLE; print its code (for students) and its teacher token (shown only
        now: the store keeps its hash)."""
        created = _classes(store).create(title)
        record = created.record
        if as_json:
            shown = {key: record[key] for key in ("code", "title", "created")}
            click.echo(json.dumps(shown | {"teacher_token": created.teacher_token}))
            return
        click.echo(
            f"Made the class {record['title']} with the code {record['code']}: students hand in with it.\n"
            f"Teacher token (keep it; it is shown only now): {created.teacher_token}"
        )

    @group.command(name="list")
    @click.option(
        "--json",
        "as_json",
        is_flag=True,
        help="Print [{code, title, created, closed, submissions}] as JSON.",
    )
    @common
    def list_classes(store: str, as_json: bool) -> None:
        """Every class in the store: code, title, created, open or closed, number of submissions."""
        classes = _classes(store)
        rows = [
            {key: record[key] for key in ("code", "title", "created", "closed")}
            | {"submissions": len(classes.entries(record["code"]))}
            for record in classes.all()
        ]
        if as_json:
            click.echo(json.dumps(rows))
            return
        if not rows:
            click.echo(f"No classes in {classes.store.description}; make one with teachkit class create.")
        for row in rows:
            state = "closed" if row["closed"] else "open"
            count = row["submissions"]
            click.echo(
                f"{row['code']}  {row['created']}  {state:6}  {count} submission{'s' * (count != 1)}  "
                f"{row['title']}"
            )

    @group.command()
    @click.argument("code")
    @common
    def close(code: str, store: str) -> None:
        """Stop the class CODE taking hand-ins; its teacher still lists what was handed in."""
        record = _classes(store).close(code)
        click.echo(f"Closed the class {record['code']} ({record['title']}): it takes no more hand-ins.")

    @group.command()
    @click.argument("code")
    @click.confirmation_option(
        "--yes", prompt="Delete the class and every model handed in to it?", help="Delete without asking."
    )
    @common
    def delete(code: str, store: str) -> None:
        """Delete the class CODE and every model handed in to it."""
        classes = _classes(store)
        record = classes.require(code)
        deleted = classes.delete(record["code"])
        click.echo(
            f"Deleted the class {record['code']} ({record['title']}) and its {deleted} "
            f"submission{'s' * (deleted != 1)}."
        )

    return group
