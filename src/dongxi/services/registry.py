"""The registry's upkeep: schema migrations, reference data, the change log's hash chain.

Migrations and reference data are the operator's work on the machine that holds the registry
(like running Alembic), not a user's use case: they take no principal. Checking the change log
reads the audit trail and needs ``audit:read``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dongxi.services._registry import registry

if TYPE_CHECKING:
    from dongxi.services.principal import Principal
    from dongxi.store._changelog import ChainCheck

__all__ = [
    "SchemaState",
    "check_change_log",
    "downgrade_registry",
    "load_reference",
    "registry_url",
    "schema_state",
    "upgrade_registry",
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


def upgrade_registry(
    url: str | None = None, *, revision: str = "head", load_reference: bool = True
) -> str | None:
    """Migrate to ``revision`` and (re)load the packaged reference data; the new revision."""
    from dongxi.store.db import upgrade

    return upgrade(url, revision, load_reference=load_reference)


def downgrade_registry(url: str | None = None, *, revision: str) -> str | None:
    """Migrate down to ``revision`` (``base`` drops every registry table); the new revision."""
    from dongxi.store.db import downgrade

    return downgrade(url, revision)


def schema_state(url: str | None = None) -> SchemaState:
    """The registry's current and newest revisions."""
    from dongxi.store.db import current_revision, head_revision

    return SchemaState(current=current_revision(url), head=head_revision())


def load_reference(url: str | None = None) -> dict[str, bool | int]:
    """(Re)load regions, code changes, pairings and policy parameters; table → changed."""
    from dongxi.store._reference import load_reference_data

    with registry(url, at_head=False) as engine:
        return load_reference_data(engine)


def check_change_log(*, principal: Principal, url: str | None = None) -> ChainCheck:
    """Recompute the hash chain of the change log."""
    principal.require("audit:read")
    from dongxi.store._changelog import verify_chain

    with registry(url, at_head=False) as engine:
        return verify_chain(engine)
