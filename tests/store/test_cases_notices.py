"""Monitoring cases and public notices on SQLite and PostgreSQL: the identification procedure
from the warning to the record, the notice it puts the household on, an objection that blocks the
notice's closing, scoping, the append-only history and the change log."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from store_factories import VILLAGE, household, id_number, person

from dongxi.errors import (
    BackendError,
    ConflictError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from dongxi.services import cases, notices
from dongxi.services.principal import Principal
from dongxi.store import create_household, create_person, session_scope
from dongxi.store.scope import Scope

ADMIN = Principal(name="clerk", role="admin", scope=Scope.everything())
OTHER_VILLAGE = "450123100201"
TODAY = cases.today()


def _day(back: int) -> dt.date:
    return TODAY - dt.timedelta(days=back)


def _household(engine: Engine, *, village: str = VILLAGE, seq: int = 1) -> str:
    code = f"C{uuid.uuid4().hex[:10]}"
    with session_scope(engine) as session:
        create_household(session, actor="clerk", data=household(code, village_code=village))
        # ID numbers unique in the shared registry: the sequence and the birth date both drawn
        # from the code (a sequence alone, 800 values, collided now and then)
        born = dt.date(1950, 1, 1) + dt.timedelta(days=int(code[7:11], 16) % 18000)
        create_person(
            session, actor="clerk",
            id_number=id_number(100 + (seq + int(code[1:7], 16)) % 800, birth=born),
            data=person(code, 1, name="韦某某"),
        )  # fmt: skip
    return code


def _walk(
    session: object, principal: Principal, case_id: int, steps: list[tuple[str, int]]
) -> None:
    for to, back in steps:
        cases.advance(session, principal, case_id=case_id, to=to, on_date=_day(back))  # type: ignore[arg-type]


def test_identification_with_notice_and_objection(registry: Engine) -> None:
    code = _household(registry)
    with session_scope(registry) as session:
        case = cases.open_case(
            session, ADMIN, household_code=code, procedure="identification",
            channel="cadre_sweep", category="marginal", opened_on=_day(14),
        )  # fmt: skip
        assert (case.state, case.step_due_on) == ("warning", _day(11))
        assert case.final_due_on == _day(14) + dt.timedelta(days=15)
        with pytest.raises(ConflictError):  # one open case per household
            cases.open_case(
                session, ADMIN, household_code=code, procedure="exit", channel="cadre_sweep"
            )
        _walk(session, ADMIN, case.id, [
            ("home_visit", 13), ("consent", 13), ("data_check", 12), ("village_appraisal", 11),
            ("village_notice", 10),
        ])  # fmt: skip
        detail = cases.case_detail(session, ADMIN, case_id=case.id)
        assert detail.case.notice_id is not None and detail.waiting_for_notice
        assert detail.allowed == []
        assert [h.to_state for h in detail.history][:2] == ["warning", "home_visit"]
        with pytest.raises(ConflictError):  # the notice is still open
            cases.advance(session, ADMIN, case_id=case.id, to="township_review")
        notice_id = detail.case.notice_id
    with session_scope(registry) as session:
        shown = notices.notice_detail(session, ADMIN, notice_id=notice_id)
        assert [(h.household_code, h.head_name) for h in shown.households] == [(code, "韦某某")]
        assert shown.notice.ends_on == _day(3) and shown.can_close
        objection = notices.object_to(
            session, ADMIN, notice_id=notice_id, raised_by="三组村民", text="收入情况有出入",
            household_code=code,
        )  # fmt: skip
        with pytest.raises(ConflictError, match="open objection"):
            notices.close_notice(session, ADMIN, notice_id=notice_id)
        assert notices.notice_detail(session, ADMIN, notice_id=notice_id).close_blocker == (
            "open_objection"
        )
        notices.resolve_objection(
            session, ADMIN, notice_id=notice_id, objection_id=objection.id,
            resolution="入户复核，收入属实",
        )  # fmt: skip
        closed = notices.close_notice(session, ADMIN, notice_id=notice_id)
        assert (closed.state, closed.closed_on) == ("closed", TODAY)
        with pytest.raises(ConflictError):
            notices.object_to(session, ADMIN, notice_id=notice_id, raised_by="x", text="y")
    with session_scope(registry) as session:
        _walk(session, ADMIN, case.id, [("township_review", 0), ("county_decision", 0)])
        done = cases.advance(session, ADMIN, case_id=case.id, to="recorded")
        assert (done.state, done.closed_on, done.step_due_on) == ("recorded", TODAY, None)
        with pytest.raises(ConflictError):
            cases.advance(session, ADMIN, case_id=case.id, to="warning")
    with registry.connect() as conn:
        actions = conn.execute(
            sa.text(
                "SELECT entity, action FROM change_log WHERE "
                "(entity = 'monitoring_cases' AND entity_key = :c) "
                "OR (entity = 'notices' AND entity_key = :n) ORDER BY seq"
            ),
            {"c": str(case.id), "n": str(notice_id)},
        ).all()
    kinds = [tuple(a) for a in actions]
    assert kinds.count(("monitoring_cases", "step")) == 8
    assert ("monitoring_cases", "open") in kinds
    for action in ("create", "add_household", "object", "resolve", "close", "read"):
        assert ("notices", action) in kinds


def test_a_notice_closes_only_after_its_window(registry: Engine) -> None:
    code = _household(registry)
    with session_scope(registry) as session:
        made = notices.create_notice(
            session, ADMIN, kind="exit", household_codes=[code], starts_on=_day(2)
        )
        assert made.ends_on == _day(2) + dt.timedelta(days=7)
        with pytest.raises(ConflictError, match="open for objections"):
            notices.close_notice(session, ADMIN, notice_id=made.id)
        assert notices.notice_detail(session, ADMIN, notice_id=made.id).close_blocker == "window"
        with pytest.raises(InputError):  # a notice is never dated in the future
            notices.create_notice(
                session, ADMIN, kind="exit", household_codes=[code], starts_on=_day(-1)
            )


def test_objections_never_hold_id_numbers(registry: Engine) -> None:
    code = _household(registry)
    with session_scope(registry) as session:
        made = notices.create_notice(session, ADMIN, kind="exit", household_codes=[code])
        with pytest.raises(InputError, match="ID number"):
            notices.object_to(
                session, ADMIN, notice_id=made.id, raised_by=id_number(555), text="不同意"
            )
        with pytest.raises(InputError, match="ID number"):
            notices.object_to(
                session, ADMIN, notice_id=made.id, raised_by="村民",
                text=f"身份证 {id_number(556)} 的人不符合",
            )  # fmt: skip


def test_a_village_cadre_sees_only_its_village(registry: Engine) -> None:
    home = _household(registry)
    away = _household(registry, village=OTHER_VILLAGE, seq=2)
    with session_scope(registry) as session:
        far = cases.open_case(
            session, ADMIN, household_code=away, procedure="identification", channel="risk_score"
        )
        near = cases.open_case(
            session, ADMIN, household_code=home, procedure="identification", channel="risk_score"
        )
        away_notice = notices.create_notice(session, ADMIN, kind="exit", household_codes=[away])
    cadre = Principal(name="cadre", role="village_officer", scope=Scope.region(VILLAGE))
    with session_scope(registry) as session:
        with pytest.raises(NotFoundError):
            cases.case_detail(session, cadre, case_id=far.id)
        with pytest.raises(NotFoundError):
            cases.advance(session, cadre, case_id=far.id, to="home_visit")
        with pytest.raises(NotFoundError):
            notices.notice_detail(session, cadre, notice_id=away_notice.id)
        with pytest.raises(NotFoundError):
            notices.create_notice(session, cadre, kind="exit", household_codes=[away])
        seen = {c.id for c in cases.list_cases(session, cadre)}
        assert near.id in seen and far.id not in seen
        assert away_notice.id not in {n.id for n in notices.list_notices(session, cadre)}
        # the role decides the step: a village cadre visits, but does not decide for the county
        cases.advance(session, cadre, case_id=near.id, to="home_visit")
        assert [s.code for s in cases.case_detail(session, cadre, case_id=near.id).allowed] == [
            "consent", "not_included",
        ]  # fmt: skip
    partner = Principal(name="p", role="east_partner", scope=Scope(partner_code="P1"))
    with session_scope(registry) as session, pytest.raises(PermissionDeniedError):
        cases.list_cases(session, partner)


def test_case_history_is_append_only(registry: Engine) -> None:
    code = _household(registry)
    with session_scope(registry) as session:
        cases.open_case(
            session, ADMIN, household_code=code, procedure="exit", channel="self_declaration"
        )
    with (
        pytest.raises((BackendError, InputError), match="append-only"),
        session_scope(registry) as session,
    ):
        session.execute(sa.text("UPDATE case_transitions SET comment = 'x'"))
    with (
        pytest.raises((BackendError, InputError), match="append-only"),
        session_scope(registry) as session,
    ):
        session.execute(sa.text("DELETE FROM case_transitions"))


def test_what_waits_overdue_steps_and_notices_in_scope(registry: Engine) -> None:
    """The overview's "waiting for me": overdue case steps and the notices with an open
    objection or a window that ends soon, only inside the caller's scope."""
    home = [_household(registry, seq=i) for i in range(1, 5)]
    away = _household(registry, village=OTHER_VILLAGE, seq=9)
    with session_scope(registry) as session:
        late = cases.open_case(  # the warning step (3 days) is long over
            session, ADMIN, household_code=home[0], procedure="identification",
            channel="risk_score", opened_on=_day(6),
        )  # fmt: skip
        fresh = cases.open_case(
            session, ADMIN, household_code=home[1], procedure="identification",
            channel="risk_score",
        )  # fmt: skip
        far_late = cases.open_case(
            session, ADMIN, household_code=away, procedure="identification",
            channel="risk_score", opened_on=_day(6),
        )  # fmt: skip
        ending = notices.create_notice(  # 7-day window ends in 2 days
            session, ADMIN, kind="exit", household_codes=[home[2]], starts_on=_day(5)
        )
        quiet = notices.create_notice(  # ends in 7 days, no objection: not waiting
            session, ADMIN, kind="exit", household_codes=[home[3]]
        )
        objected = notices.create_notice(
            session, ADMIN, kind="identification", household_codes=[home[1]]
        )
        notices.object_to(session, ADMIN, notice_id=objected.id, raised_by="村民", text="不符")
        resolved = notices.object_to(
            session, ADMIN, notice_id=quiet.id, raised_by="村民", text="核实"
        )
        notices.resolve_objection(
            session, ADMIN, notice_id=quiet.id, objection_id=resolved.id, resolution="属实"
        )
        far_notice = notices.create_notice(
            session, ADMIN, kind="exit", household_codes=[away], starts_on=_day(7)
        )
    cadre = Principal(name="cadre", role="village_officer", scope=Scope.region(VILLAGE))
    with session_scope(registry) as session:
        mine = {ending.id, quiet.id, objected.id, far_notice.id}  # notices
        my_cases = {late.id, fresh.id, far_late.id}
        # (the registry holds other tests' cases and notices: look at this test's only)
        assert [c.id for c in cases.overdue_cases(session, cadre) if c.id in my_cases] == [late.id]
        assert fresh.id not in {c.id for c in cases.overdue_cases(session, ADMIN)}
        assert far_late.id in {c.id for c in cases.overdue_cases(session, ADMIN)}
        waiting = [w for w in notices.waiting_notices(session, cadre) if w.notice.id in mine]
        assert [(w.notice.id, w.days_left, w.open_objections) for w in waiting] == [
            (ending.id, 2, 0), (objected.id, 7, 1),
        ]  # fmt: skip
        soon = notices.waiting_notices(session, cadre, within_days=7)
        assert [w.notice.id for w in soon if w.notice.id in mine] == [
            ending.id, quiet.id, objected.id,
        ]  # fmt: skip
        assert far_notice.id in {w.notice.id for w in notices.waiting_notices(session, ADMIN)}
        notices.close_notice(session, ADMIN, notice_id=far_notice.id)
    with session_scope(registry) as session:  # a closed notice waits no more
        assert far_notice.id not in {w.notice.id for w in notices.waiting_notices(session, ADMIN)}
        with pytest.raises(InputError):
            notices.waiting_notices(session, cadre, within_days=99)
    partner = Principal(name="p", role="east_partner", scope=Scope(partner_code="P1"))
    with session_scope(registry) as session:
        with pytest.raises(PermissionDeniedError):
            cases.overdue_cases(session, partner)
        with pytest.raises(PermissionDeniedError):
            notices.waiting_notices(session, partner)
