"""Constants and helpers shared by the service tests (imported by name; conftest modules are
not)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dongxi.services.principal import Principal

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from dongxi.synth import SynthData

PASSWORD = "correct horse battery staple"
ADMIN = Principal(name="test-admin", role="admin")


def import_synth(
    engine: Engine, *, households: int, seed: int, measures: bool = False
) -> SynthData:
    """A synthetic registry of 2019 (``households`` households from ``seed``) imported by
    :data:`ADMIN`: helpers, partners, households, people, income (and measures). The data, to
    read the expected values from."""
    from dongxi.services.imports import import_tables
    from dongxi.synth import generate

    data = generate(households=households, seed=seed, years=(2019,))
    state = data.rounds[2019]
    frames = {
        "helpers": data.helpers,
        "partners": data.partners,
        "households": state.households,
        "people": state.people,
        "income": state.income,
    }
    if measures:
        frames["measures"] = data.measures
    results = import_tables(principal=ADMIN, engine=engine, frames=frames, source_name="synth")
    assert all(r.ok for r in results.values()), {k: r.errors[:2] for k, r in results.items()}
    return data
