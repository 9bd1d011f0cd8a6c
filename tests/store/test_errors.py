"""Foreign (SQLAlchemy/driver) exceptions never reach the caller raw."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from store_factories import BACKENDS

from dongxi.errors import BackendError, ConfigError, InputError
from dongxi.store import get_household, make_engine, session_scope, verify_chain
from dongxi.store.scope import Scope

EVERYTHING = Scope.everything()


@pytest.mark.parametrize("empty_url", BACKENDS, indirect=True)
def test_registry_without_schema_gives_backend_error(empty_url: str) -> None:
    engine = make_engine(empty_url)
    try:
        with pytest.raises(BackendError, match="dongxi db upgrade"), session_scope(engine) as s:
            get_household(s, scope=EVERYTHING, household_code="H1")
        with pytest.raises(BackendError):
            verify_chain(engine)
    finally:
        engine.dispose()


def test_missing_sqlite_folder_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        make_engine(f"sqlite:///{tmp_path / 'nowhere' / 'x.db'}")


def test_unparsable_url_refused() -> None:
    with pytest.raises(ConfigError):
        make_engine("not a url")


def test_check_constraint_is_an_input_error(registry: Engine) -> None:
    from store_factories import household

    from dongxi.store import create_household

    with pytest.raises(InputError) as info, session_scope(registry) as session:
        create_household(
            session, actor="t", data=household("E1", status="monitored", monitoring_category=None)
        )
    assert info.value.rule == "integrity"
