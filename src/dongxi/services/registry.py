"""The registry's upkeep: schema migrations, reference data, the change log's hash chain.

Migrations and reference data are the operator's work on the machine that holds the registry
(like running Alembic), not a user's use case: they take no principal. Checking the change log
reads the audit trail and needs ``audit:read``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dongxi.services._registry import registry

if TYPE_CHECKING:
    from dongxi.services.principal import Principal
    from dongxi.store._changelog import ChainCheck
    from dongxi.store._seal import Anchor

__all__ = [
    "SchemaState",
    "Upgraded",
    "check_change_log",
    "downgrade_registry",
    "load_reference",
    "registry_url",
    "schema_state",
    "upgrade_registry",
    "write_anchor",
]


@dataclass(frozen=True)
class SchemaState:
    """The registry's schema revision and the newest one this version of dongxi ships."""

    current: str | None
    head: str | None

    @property
    def up_to_date(self) -> bool:
        """Whether the registry is at the newest revision."""
        return self.current == self.head


def registry_url(url: str | None = None) -> str:
    """The registry's URL as text, password hidden (the configured one when ``None``)."""
    from dongxi.store.db import normalise_url, public_url

    return public_url(normalise_url(url))


@dataclass(frozen=True)
class Upgraded:
    """The outcome of :func:`upgrade_registry`."""

    revision: str | None
    key_file_created: Path | None  # a new key file with random keys (first set-up)
    key_source: str  # where the ID-number keys came from (never the keys)


def upgrade_registry(
    url: str | None = None, *, revision: str = "head", load_reference: bool = True
) -> Upgraded:
    """Migrate to ``revision``, (re)load the packaged reference data and record the keys.

    On first set-up (no key in the environment, no key file, no ID number in the registry) the
    key file is created with random keys (mode 0600); at head the keys' check values are recorded.
    """
    from dongxi.pii.protect import get_protector
    from dongxi.settings import get_settings
    from dongxi.store._keys import ensure_keys, record_keys
    from dongxi.store.db import head_revision, make_engine, upgrade

    settings = get_settings()
    engine = make_engine(url)
    try:
        created = ensure_keys(engine, settings)
        result = upgrade(engine, revision, load_reference=load_reference)
        if result == head_revision():
            record_keys(engine, get_protector(settings))
    finally:
        engine.dispose()
    return Upgraded(revision=result, key_file_created=created, key_source=settings.id_keys().source)


def downgrade_registry(url: str | None = None, *, revision: str) -> str | None:
    """Migrate down to ``revision`` (``base`` drops every registry table); the new revision."""
    from dongxi.store.db import downgrade

    return downgrade(url, revision)


def schema_state(url: str | None = None) -> SchemaState:
    """The registry's current and newest revisions (a missing SQLite file is not created)."""
    from dongxi.store.db import current_revision, head_revision, registry_exists

    current = current_revision(url) if registry_exists(url) else None
    return SchemaState(current=current, head=head_revision())


def load_reference(url: str | None = None) -> dict[str, bool | int]:
    """(Re)load regions, code changes, pairings and policy parameters; table → changed."""
    from dongxi.store._reference import load_reference_data

    with registry(url, at_head=False) as engine:
        return load_reference_data(engine)


def check_change_log(
    *, principal: Principal, url: str | None = None, anchors: Sequence[Path] = ()
) -> ChainCheck:
    """Check the change log: hashes, keyed seals, the heads recorded with snapshots and the
    heads of the given anchor files (or snapshot manifests)."""
    principal.require("audit:read")
    from dongxi.store._changelog import verify_chain
    from dongxi.store._seal import load_anchor

    loaded = [load_anchor(path) for path in anchors]
    with registry(url, at_head=False) as engine:
        return verify_chain(engine, anchors=loaded)


def write_anchor(*, principal: Principal, out: Path, url: str | None = None) -> Anchor:
    """Write the change log's signed head (seq, position, hash, seal) to a new file ``out``, to
    be kept outside the database; ``verify-log --anchor`` checks the chain still holds it."""
    principal.require("audit:read")
    import datetime as dt
    import json

    from dongxi.errors import InputError
    from dongxi.store._changelog import anchor_of
    from dongxi.store.db import public_url

    if out.exists():
        raise InputError(
            "The anchor file exists already.",
            file=str(out),
            rule="anchor_file",
            fix="Give a new file name (anchors are never overwritten).",
        )
    with registry(url, at_head=False) as engine:
        head = anchor_of(engine)
        where = public_url(engine.url)
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
    return head
