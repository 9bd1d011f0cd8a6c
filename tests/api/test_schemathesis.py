"""Property tests of the whole API from its own OpenAPI schema (schemathesis).

The schema is loaded from the ASGI app (``create_app``) on a migrated SQLite registry holding a
few synthetic households; every operation is called with generated requests (valid and invalid)
by an administrator's bearer token. No response may be a server error (5xx), use a status code
the schema does not declare, carry a content type it does not declare, or break the declared
body schema. The number of examples per operation is bounded (``MAX_EXAMPLES``) so the module
stays well under a minute on two cores.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from api_fixtures import ADMIN, PASSWORD
from hypothesis import HealthCheck, settings
from schemathesis.checks import (  # type: ignore[attr-defined]
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from dongxi.api.app import create_app
from dongxi.services import accounts
from dongxi.services.imports import import_tables
from dongxi.store.db import make_engine, session_scope, upgrade
from dongxi.synth import generate

MAX_EXAMPLES = 12
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


# The app is built at import (schemathesis parametrizes from its schema at collection), on a
# registry migrated here: starting the app (its lifespan) reads the jobs table. The fixture fills
# it.
_FOLDER = Path(tempfile.mkdtemp(prefix="dongxi-fuzz-"))
_URL = f"sqlite:///{_FOLDER / 'registry.db'}"
upgrade(_URL, load_reference=False)
_ENGINE = make_engine(_URL)
schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(_ENGINE))


@pytest.fixture(scope="module")
def admin_token() -> Iterator[str]:
    """A registry of 40 synthetic households behind the app, and an administrator's token."""
    try:
        data = generate(households=40, seed=3, years=(2020,))
        frames: Any = {k: getattr(data, k) for k in ("helpers", "households", "people", "income")}
        import_tables(principal=ADMIN, frames=frames, source_name="fuzz", engine=_ENGINE)
        with session_scope(_ENGINE) as session:
            accounts.add_user(
                session, ADMIN, username="fuzz-admin", password=PASSWORD, role="admin"
            )
            token = accounts.create_token(session, ADMIN, username="fuzz-admin")
        yield token
    finally:
        _ENGINE.dispose()
        shutil.rmtree(_FOLDER, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_keeps_its_schema(case: Any, admin_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)
