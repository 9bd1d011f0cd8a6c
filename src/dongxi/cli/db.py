"""CLI commands ``dongxi db …`` (schema, reference data, change log) and ``dongxi snapshot``.

Every command takes ``--url`` (default: the configured registry, ``DONGXI_DATABASE_URL`` or the
SQLite file in ``DONGXI_DATA_DIR``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

__all__ = ["register"]

console = Console()

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
    from dongxi.pii.protect import get_protector
    from dongxi.settings import get_settings
    from dongxi.store._keys import ensure_keys, record_keys
    from dongxi.store.db import head_revision, make_engine, public_url, upgrade

    settings = get_settings()
    engine = make_engine(url)
    try:
        created = ensure_keys(engine, settings)
        result = upgrade(engine, revision, load_reference=not no_reference)
        if result == head_revision():
            record_keys(engine, get_protector(settings))
    finally:
        engine.dispose()
    where = public_url(_url(url))
    console.print(f"registry {where} at revision [bold]{result}[/]")
    if created is not None:
        console.print(
            f"[bold]created the key file {created}[/] (new random ID-number keys, mode 0600): "
            "keep it secret and apart from the database, and back it up — without it the "
            "stored ID numbers can never be read again.",
            soft_wrap=True,
        )
    else:
        console.print(f"ID-number keys from {settings.id_keys().source}", soft_wrap=True)


@db_app.command("downgrade")
def downgrade_command(
    revision: Annotated[str, typer.Argument(help="Target revision ('base' drops everything).")],
    url: UrlOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm dropping tables.")] = False,
) -> None:
    """Migrate the registry down (destructive: needs --yes)."""
    from dongxi.errors import InputError
    from dongxi.store.db import downgrade

    if not yes:
        raise InputError(
            "A downgrade drops tables and their data.",
            fix="Add --yes if you really mean it (take a snapshot first).",
        )
    result = downgrade(url, revision)
    console.print(f"registry at revision [bold]{result or 'base (empty)'}[/]")


@db_app.command("current")
def current_command(url: UrlOption = None) -> None:
    """Show the registry's schema revision and the newest one available."""
    from dongxi.store.db import current_revision, head_revision

    current = current_revision(url)
    head = head_revision()
    state = "up to date" if current == head else "run 'dongxi db upgrade'"
    console.print(f"current: [bold]{current or 'none (empty)'}[/]  head: {head}  ({state})")


@db_app.command("load-regions")
def load_regions_command(url: UrlOption = None) -> None:
    """(Re)load the packaged regions, code changes, pairings and policy parameters."""
    from dongxi.store._reference import load_reference_data
    from dongxi.store.db import make_engine

    engine = make_engine(url)
    try:
        result = load_reference_data(engine)
    finally:
        engine.dispose()
    for table, changed in result.items():
        console.print(f"{table}: {'loaded' if changed else 'already up to date'}")


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
    from dongxi.store._changelog import verify_chain
    from dongxi.store._seal import load_anchor
    from dongxi.store.db import make_engine

    anchors = [load_anchor(path) for path in anchor or []]
    engine = make_engine(url)
    try:
        check = verify_chain(engine, anchors=anchors)
    finally:
        engine.dispose()
    if check.ok:
        console.print(
            f"change log intact: {check.entries} entries, {check.seals} seals, "
            f"{check.anchors} recorded heads checked"
        )
        return
    console.print(
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
    import json

    from dongxi.errors import InputError
    from dongxi.store._changelog import anchor_of
    from dongxi.store.db import make_engine, public_url

    if out.exists():
        raise InputError(
            "The anchor file exists already.",
            file=str(out),
            rule="anchor_file",
            fix="Give a new file name (anchors are never overwritten).",
        )
    engine = make_engine(url)
    try:
        head = anchor_of(engine)
        where = public_url(engine.url)
    finally:
        engine.dispose()
    if head is None:
        raise InputError(
            "The change log is empty: there is no head to anchor.",
            rule="anchor_file",
            fix="Anchor the log once something has been written.",
        )
    document = {
        "change_log_head": head.as_dict(),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "registry_url": where,
    }
    out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    console.print(f"anchor of entry {head.seq} (position {head.position}) written to {out}")


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

    from dongxi.cli.imports import _actor
    from dongxi.errors import ConfigError
    from dongxi.store._rekey import rotate_encryption_key
    from dongxi.store.db import make_engine

    old_key = os.environ.get(old_key_env)
    if old_key is None:
        raise ConfigError(
            f"The environment variable {old_key_env} is not set.",
            fix=f"Export the old encryption key as {old_key_env}, or name another variable.",
        )
    engine = make_engine(url)
    try:
        result = rotate_encryption_key(engine, old_key=old_key, actor=_actor(actor))
    finally:
        engine.dispose()
    console.print(
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
    from dongxi.store._snapshot import verify_snapshot
    from dongxi.store.db import make_engine

    engine = None if no_registry else make_engine(url)
    try:
        manifest = verify_snapshot(folder, engine=engine)
    finally:
        if engine is not None:
            engine.dispose()
    against = "manifest only" if no_registry else "manifest and registry record"
    console.print(
        f"snapshot {manifest['snapshot_id']} intact ({len(manifest['tables'])} files; {against})"
    )


def _url(url: str | None) -> str:
    from dongxi.store.db import normalise_url

    return normalise_url(url).render_as_string(hide_password=True)


def snapshot_command(
    out: Annotated[Path, typer.Option("--out", help="New or empty folder to write into.")],
    url: UrlOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Freeze the registry as of this date (ISO).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A label, e.g. 'assessment 2019'.")] = None,
) -> None:
    """Freeze the registry into Parquet files plus manifest.json (SHA-256 per file)."""
    from dongxi.errors import InputError
    from dongxi.store._snapshot import create_snapshot
    from dongxi.store.db import make_engine

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
    engine = make_engine(url)
    try:
        info = create_snapshot(engine, folder=out, as_of=day, label=label, actor="cli")
    finally:
        engine.dispose()
    table = Table(title=f"snapshot {info.snapshot_id}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    table.add_column("sha256")
    for name, entry in info.manifest["tables"].items():
        table.add_row(name, str(entry["rows"]), entry["sha256"][:16] + "…")
    console.print(table)
    console.print(f"written to {info.folder}")


def register(app: typer.Typer) -> None:
    """Add ``dongxi db …`` and ``dongxi snapshot`` to the dongxi app."""
    app.add_typer(db_app)
    app.command("snapshot")(snapshot_command)
