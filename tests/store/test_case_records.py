"""Recording a case changes the registry, on SQLite and PostgreSQL: identification sets the
household's monitoring category, risk removal clears it (风险消除), exit sets 'escaped' (脱贫) —
each with a status-history entry dated by the county decision and a change-log entry, in the
same transaction as the step; a household that moved or changed meanwhile is a conflict and
nothing is recorded."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from store_factories import household

from dongxi.errors import ConflictError, InputError
from dongxi.services import cases, notices
from dongxi.services.principal import Principal
from dongxi.store import create_household, session_scope, update_household
from dongxi.store.scope import Scope

ADMIN = Principal(name="clerk", role="admin", scope=Scope.everything())
TODAY = cases.today()
OTHER_VILLAGE = "450123100201"


def _day(back: int) -> dt.date:
    return TODAY - dt.timedelta(days=back)


def _household(engine: Engine, **data: object) -> str:
    code = f"R{uuid.uuid4().hex[:10]}"
    with session_scope(engine) as session:
        create_household(
            session,
            actor="clerk",
            data=household(code, **data),
            effective_date=dt.date(2019, 12, 1),
        )
    return code


_STEPS = {
    "identification": [
        "home_visit",
        "consent",
        "data_check",
        "village_appraisal",
        "village_notice",
    ],
    "risk_removal": ["home_visit", "village_appraisal", "village_notice"],
    "exit": ["household_agreed", "village_appraisal", "village_notice"],
}


def _to_decision(engine: Engine, code: str, procedure: str, **kwargs: object) -> int:
    """Open a case 14 days ago and take it to the county decision (made 2 days ago)."""
    with session_scope(engine) as session:
        case = cases.open_case(
            session, ADMIN, household_code=code, procedure=procedure, channel="cadre_sweep",
            opened_on=_day(14), **kwargs,  # type: ignore[arg-type]
        )  # fmt: skip
        for to in _STEPS[procedure]:
            cases.advance(session, ADMIN, case_id=case.id, to=to, on_date=_day(12))
        notice_id = cases.case_detail(session, ADMIN, case_id=case.id).case.notice_id
    with session_scope(engine) as session:
        assert notice_id is not None
        notices.close_notice(session, ADMIN, notice_id=notice_id)
        cases.advance(session, ADMIN, case_id=case.id, to="township_review", on_date=_day(3))
        cases.advance(session, ADMIN, case_id=case.id, to="county_decision", on_date=_day(2))
    return case.id


def _state(engine: Engine, code: str) -> tuple[str, str | None, int | None, int]:
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "SELECT status, monitoring_category, year_exited, row_version FROM households "
                "WHERE household_code = :c"
            ),
            {"c": code},
        ).one()
    return (row[0], row[1], row[2], row[3])


def _history(engine: Engine, code: str) -> list[tuple[str, str | None, dt.date]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT status, monitoring_category, effective_date FROM household_status "
                "WHERE household_code = :c ORDER BY id"
            ),
            {"c": code},
        ).all()
    return [
        (r[0], r[1], r[2] if isinstance(r[2], dt.date) else dt.date.fromisoformat(r[2]))
        for r in rows
    ]


def _household_log(engine: Engine, code: str) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.scalars(
                sa.text(
                    "SELECT action FROM change_log WHERE entity = 'households' "
                    "AND entity_key = :c ORDER BY seq"
                ),
                {"c": code},
            )
        )


def test_identification_then_risk_removal_change_the_registry(registry: Engine) -> None:
    code = _household(registry, status="escaped", year_exited=2019)
    case_id = _to_decision(registry, code, "identification")  # opened without a category
    with pytest.raises(InputError, match="category"), session_scope(registry) as session:
        cases.advance(session, ADMIN, case_id=case_id, to="recorded")
    assert _state(registry, code)[:2] == ("escaped", None)
    with session_scope(registry) as session:
        done = cases.advance(
            session, ADMIN, case_id=case_id, to="recorded", category="unstable_escaped"
        )
        assert (done.state, done.category) == ("recorded", "unstable_escaped")
    assert _state(registry, code)[:2] == ("monitored", "unstable_escaped")
    assert _history(registry, code)[-1] == ("monitored", "unstable_escaped", _day(2))
    assert _household_log(registry, code) == ["create", "update"]
    # a second identification of a household in monitoring cannot be recorded
    second = _to_decision(registry, code, "identification", category="marginal")
    with pytest.raises(ConflictError, match="already"), session_scope(registry) as session:
        cases.advance(session, ADMIN, case_id=second, to="recorded")
    with session_scope(registry) as session:
        cases.advance(session, ADMIN, case_id=second, to="not_included")

    removal = _to_decision(registry, code, "risk_removal")
    with session_scope(registry) as session:
        cases.advance(session, ADMIN, case_id=removal, to="recorded")
    # back to the status it had before monitoring, category cleared (风险消除)
    assert _state(registry, code)[:2] == ("escaped", None)
    assert _history(registry, code)[-1] == ("escaped", None, _day(2))
    assert _household_log(registry, code) == ["create", "update", "update"]


def test_exit_sets_the_status_and_the_year(registry: Engine) -> None:
    code = _household(registry)  # registered_poor
    case_id = _to_decision(registry, code, "exit")
    with session_scope(registry) as session:
        cases.advance(session, ADMIN, case_id=case_id, to="recorded")
    status, category, year_exited, _ = _state(registry, code)
    assert (status, category, year_exited) == ("escaped", None, _day(2).year)
    assert _history(registry, code)[-1] == ("escaped", None, _day(2))


def test_risk_removal_of_a_household_not_monitored_is_a_conflict(registry: Engine) -> None:
    code = _household(registry, status="escaped", year_exited=2019)
    case_id = _to_decision(registry, code, "risk_removal")
    with (
        pytest.raises(ConflictError, match="not in monitoring"),
        session_scope(registry) as session,
    ):
        cases.advance(session, ADMIN, case_id=case_id, to="recorded")
    detail = _case_state(registry, case_id)
    assert detail == "county_decision"  # the step was not recorded either


def _case_state(engine: Engine, case_id: int) -> str:
    with session_scope(engine) as session:
        return cases.case_detail(session, ADMIN, case_id=case_id).case.state


def test_a_household_that_moved_or_changed_meanwhile_is_a_conflict(registry: Engine) -> None:
    moved = _household(registry, status="never", year_registered=None)
    case_id = _to_decision(registry, moved, "identification", category="marginal")
    with session_scope(registry) as session:
        update_household(
            session, actor="clerk", household_code=moved, changes={"village_code": OTHER_VILLAGE}
        )
    with pytest.raises(ConflictError, match="moved"), session_scope(registry) as session:
        cases.advance(session, ADMIN, case_id=case_id, to="recorded")
    assert _case_state(registry, case_id) == "county_decision"
    assert _state(registry, moved)[:2] == ("never", None)

    edited = _household(registry, status="never", year_registered=None)
    case_id = _to_decision(registry, edited, "identification", category="marginal")
    seen = _state(registry, edited)[3]
    with session_scope(registry) as session:
        update_household(
            session, actor="clerk", household_code=edited, changes={"housing_grade": "C"}
        )
    with pytest.raises(ConflictError, match="changed"), session_scope(registry) as session:
        cases.advance(session, ADMIN, case_id=case_id, to="recorded", household_version=seen)
    assert _case_state(registry, case_id) == "county_decision"
    assert _state(registry, edited)[:2] == ("never", None)
    with session_scope(registry) as session:
        cases.advance(
            session, ADMIN, case_id=case_id, to="recorded",
            household_version=_state(registry, edited)[3],
        )  # fmt: skip
    assert _state(registry, edited)[:2] == ("monitored", "marginal")
