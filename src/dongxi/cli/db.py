"""CLI commands ``dongxi db …`` (schema, reference data, change log) and ``dongxi snapshot``.

Every command takes ``--url`` (default: the configured registry, ``DONGXI_DATABASE_URL`` or the
SQLite file in ``DONGXI_DATA_DIR``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from dongxi.cli._present import console, new_table, operator

__all__ = ["register"]

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Registry URL (default: DONGXI_DATABASE_URL or ./dongxi.db)."),
]

db_app = typer.Typer(
    name="db",
    help="The registry database: migrations, reference data, change log.",
    no_args_is_help=True,
)


@db_app.command("upgrade")
def upgrade_command(
    url: UrlOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
    no_reference: Annotated[
        bool, typer.Option("--no-reference", help="Do not load regions and pairings.")
    ] = False,
) -> None:
    """Bring the registry to the current schema, with regions and pairings loaded.

    On first set-up (no key in the environment, no key file, no ID number in the registry) it
    creates the key file with random keys (mode 0600); it records the keys' check values."""
    from dongxi.services.registry import registry_url, upgrade_registry

    result = upgrade_registry(url, revision=revision, load_reference=not no_reference)
    out = console()
    out.print(f"registry {registry_url(url)} at revision [bold]{result.revision}[/]")
    if result.key_file_created is not None:
        out.print(
            f"[bold]created the key file {result.key_file_created}[/] (new random ID-number "
            "keys, mode 0600): keep it secret and apart from the database, and back it up — "
            "without it the stored ID numbers can never be read again.",
            soft_wrap=True,
        )
    else:
        out.print(f"ID-number keys from {result.key_source}", soft_wrap=True)


@db_app.command("downgrade")
def downgrade_command(
    revision: Annotated[str, typer.Argument(help="Target revision ('base' drops everything).")],
    url: UrlOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm dropping tables.")] = False,
) -> None:
    """Migrate the registry down (destructive: needs --yes)."""
    from dongxi.errors import InputError
    from dongxi.services.registry import downgrade_registry

    if not yes:
        raise InputError(
            "A downgrade drops tables and their data.",
            fix="Add --yes if you really mean it (take a snapshot first).",
        )
    result = downgrade_registry(url, revision=revision)
    console().print(f"registry at revision [bold]{result or 'base (empty)'}[/]")


@db_app.command("current")
def current_command(url: UrlOption = None) -> None:
    """Show the registry's schema revision and the newest one available."""
    from dongxi.services.registry import schema_state

    schema = schema_state(url)
    state = "up to date" if schema.up_to_date else "run 'dongxi db upgrade'"
    console().print(
        f"current: [bold]{schema.current or 'none (empty)'}[/]  head: {schema.head}  ({state})"
    )


@db_app.command("load-regions")
def load_regions_command(url: UrlOption = None) -> None:
    """(Re)load the packaged regions, code changes, pairings and policy parameters."""
    from dongxi.services.registry import load_reference

    result = load_reference(url)
    for table, changed in result.items():
        console().print(f"{table}: {'loaded' if changed else 'already up to date'}")


@db_app.command("verify-log")
def verify_log_command(
    url: UrlOption = None,
    anchor: Annotated[
        list[Path] | None,
        typer.Option(
            "--anchor",
            help="An anchor file ('dongxi db anchor --out') or a snapshot's manifest.json: the "
            "chain must still hold its signed head at its position (repeatable).",
        ),
    ] = None,
) -> None:
    """Check the change log: hashes, keyed seals, snapshot heads, anchors (exit 1 when broken)."""
    from dongxi.services.registry import check_change_log

    check = check_change_log(principal=operator(), url=url, anchors=anchor or [])
    if check.ok:
        console().print(
            f"change log intact: {check.entries} entries, {check.seals} seals, "
            f"{check.anchors} recorded heads checked"
        )
        return
    console().print(
        f"[bold red]change log broken[/] at entry {check.broken_at} "
        f"(position {check.position}): {check.reason}"
    )
    raise typer.Exit(1)


@db_app.command("anchor")
def anchor_command(
    out: Annotated[Path, typer.Option("--out", help="File to write (must not exist).")],
    url: UrlOption = None,
) -> None:
    """Write the change log's signed head to a file to keep outside the database."""
    from dongxi.services.registry import write_anchor

    head = write_anchor(principal=operator(), out=out, url=url)
    console().print(f"anchor of entry {head.seq} (position {head.position}) written to {out}")


@db_app.command("rotate-key")
def rotate_key_command(
    old_key_env: Annotated[
        str,
        typer.Option(
            "--old-key-env",
            help="Name of the environment variable holding the OLD encryption key (the key "
            "itself never goes on the command line). The new key is DONGXI_ENCRYPTION_KEY.",
        ),
    ],
    actor: Annotated[
        str | None, typer.Option("--actor", help="Who rotates (default: the OS user).")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Re-encrypt every stored ID number with the new encryption key (one transaction)."""
    import os

    from dongxi.errors import ConfigError
    from dongxi.services.keys import rotate_key

    old_key = os.environ.get(old_key_env)
    if old_key is None:
        raise ConfigError(
            f"The environment variable {old_key_env} is not set.",
            fix=f"Export the old encryption key as {old_key_env}, or name another variable.",
        )
    result = rotate_key(principal=operator(actor), old_key=old_key, url=url)
    console().print(
        f"ID numbers re-encrypted: {result.rotated} of {result.rows} "
        f"({result.already} already under the new key)"
    )


@db_app.command("verify-snapshot")
def verify_snapshot_command(
    folder: Annotated[Path, typer.Argument(help="Folder written by 'dongxi snapshot'.")],
    url: UrlOption = None,
    no_registry: Annotated[
        bool,
        typer.Option(
            "--no-registry",
            help="Check the files against the manifest only, not the manifest against the "
            "registry's record (for a snapshot away from its registry).",
        ),
    ] = False,
) -> None:
    """Recheck a snapshot: its manifest against the registry's record, every file's SHA-256
    and row count against the manifest."""
    from dongxi.services.snapshots import check_snapshot

    manifest = check_snapshot(folder, url=url, against_registry=not no_registry)
    against = "manifest only" if no_registry else "manifest and registry record"
    console().print(
        f"snapshot {manifest['snapshot_id']} intact ({len(manifest['tables'])} files; {against})"
    )


def snapshot_command(
    out: Annotated[Path, typer.Option("--out", help="New or empty folder to write into.")],
    url: UrlOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Freeze the registry as of this date (ISO).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A label, e.g. 'assessment 2019'.")] = None,
) -> None:
    """Freeze the registry into Parquet files plus manifest.json (SHA-256 per file), verified."""
    from dongxi.errors import InputError
    from dongxi.localtime import local_time
    from dongxi.services.snapshots import take_snapshot

    day = None
    if as_of is not None:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError as exc:
            raise InputError(
                "The --as-of date is not an ISO date.",
                column="--as-of",
                value=as_of,
                fix="Write it as YYYY-MM-DD.",
            ) from exc
    info = take_snapshot(principal=operator(), folder=out, as_of=day, label=label, url=url)
    table = new_table(f"snapshot {info.snapshot_id}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("sha256")
    for name, entry in info.manifest["tables"].items():
        table.add_row(name, str(entry["rows"]), entry["sha256"][:16] + "…")
    console().print(table)
    taken = info.manifest.get("created_at")
    when = f"taken at {local_time(taken)}; " if taken else ""
    console().print(f"{when}written to {info.folder}")


def register(app: typer.Typer) -> None:
    """Add ``dongxi db …`` and ``dongxi snapshot`` to the dongxi app."""
    app.add_typer(db_app)
    app.command("snapshot")(snapshot_command)
