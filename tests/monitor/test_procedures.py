"""The procedures as data: every step allowed or refused by role, every deadline boundary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dongxi import vocab
from dongxi.errors import ConflictError, InputError, PermissionDeniedError
from dongxi.monitor.procedures import (
    OVERDUE_COLUMNS,
    allowed_transitions,
    check_transition,
    deadlines,
    default_procedures,
    load_procedures,
    next_deadline,
    overdue,
)

P = default_procedures()
ALL_ROLES = tuple(vocab.USER_ROLES)
V, T, C, A = "village_officer", "township_officer", "county_officer", "admin"

# (procedure, from, to) → the roles that may take the step; written out by hand from the
# policy (村 visits, appraises and posts the notice; 乡镇 reviews; 县 decides and records)
STEPS: dict[tuple[str, str, str], set[str]] = {
    ("identification", "warning", "home_visit"): {V, T, C, A},
    ("identification", "home_visit", "consent"): {V, T, A},
    ("identification", "home_visit", "not_included"): {V, T, A},
    ("identification", "consent", "data_check"): {T, C, A},
    ("identification", "consent", "not_included"): {V, T, A},
    ("identification", "data_check", "village_appraisal"): {V, T, A},
    ("identification", "data_check", "not_included"): {T, C, A},
    ("identification", "village_appraisal", "village_notice"): {V, A},
    ("identification", "village_appraisal", "not_included"): {V, A},
    ("identification", "village_notice", "township_review"): {T, A},
    ("identification", "township_review", "county_decision"): {C, A},
    ("identification", "township_review", "village_appraisal"): {T, A},
    ("identification", "county_decision", "recorded"): {C, A},
    ("identification", "county_decision", "not_included"): {C, A},
    ("risk_removal", "proposed", "home_visit"): {V, T, A},
    ("risk_removal", "home_visit", "village_appraisal"): {V, A},
    ("risk_removal", "home_visit", "kept"): {V, T, A},
    ("risk_removal", "village_appraisal", "village_notice"): {V, A},
    ("risk_removal", "village_appraisal", "kept"): {V, A},
    ("risk_removal", "village_notice", "township_review"): {T, A},
    ("risk_removal", "township_review", "county_decision"): {C, A},
    ("risk_removal", "township_review", "kept"): {T, C, A},
    ("risk_removal", "county_decision", "recorded"): {C, A},
    ("risk_removal", "county_decision", "kept"): {C, A},
    ("exit", "proposed", "household_agreed"): {V, A},
    ("exit", "proposed", "withdrawn"): {V, T, A},
    ("exit", "household_agreed", "village_appraisal"): {V, A},
    ("exit", "village_appraisal", "village_notice"): {V, A},
    ("exit", "village_appraisal", "withdrawn"): {V, A},
    ("exit", "village_notice", "township_review"): {T, A},
    ("exit", "township_review", "county_decision"): {C, A},
    ("exit", "township_review", "withdrawn"): {T, C, A},
    ("exit", "county_decision", "recorded"): {C, A},
    ("exit", "county_decision", "withdrawn"): {C, A},
}


def test_the_file_has_exactly_these_steps() -> None:
    found = {(p.code, f, t) for p in P.procedures.values() for (f, t) in p.transitions}
    assert found == set(STEPS)
    assert set(P.procedures) == set(vocab.CASE_PROCEDURES)


@pytest.mark.parametrize(("step", "role"), [(s, r) for s in STEPS for r in ALL_ROLES])
def test_each_step_allowed_or_refused_by_role(step: tuple[str, str, str], role: str) -> None:
    procedure, frm, to = step
    if role in STEPS[step]:
        check_transition(P, procedure, frm, to, role)
        assert to in allowed_transitions(P, procedure, frm, role)
    else:
        with pytest.raises(PermissionDeniedError):
            check_transition(P, procedure, frm, to, role)
        assert to not in allowed_transitions(P, procedure, frm, role)


@pytest.mark.parametrize("procedure", list(vocab.CASE_PROCEDURES))
def test_a_step_the_procedure_lacks_is_a_conflict(procedure: str) -> None:
    proc = P[procedure]
    states = list(proc.states)
    for frm in states:
        for to in states:
            if (frm, to) not in proc.transitions:
                with pytest.raises(ConflictError):
                    check_transition(P, procedure, frm, to, "admin")


def test_unknown_state_procedure_are_input_errors() -> None:
    with pytest.raises(InputError):
        check_transition(P, "identification", "warning", "nowhere", "admin")
    with pytest.raises(InputError):
        allowed_transitions(P, "no_such_procedure", "warning")


def test_final_states_allow_nothing() -> None:
    for proc in P.procedures.values():
        for state in proc.states.values():
            if state.final:
                assert allowed_transitions(P, proc.code, state.code) == []
                assert state.due_days is None


def _case(state: str, since: dt.date, opened: dt.date, procedure: str = "identification") -> dict:
    return {
        "case_id": 1,
        "household_code": "H1",
        "procedure": procedure,
        "state": state,
        "opened_on": opened,
        "state_since": since,
    }


OPENED = dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("state", "since", "as_of", "step_late", "total_late"),
    [
        # the home visit within 3 days of the warning: due 03-04
        ("warning", OPENED, dt.date(2026, 3, 3), None, None),
        ("warning", OPENED, dt.date(2026, 3, 4), None, None),  # on the deadline: on time
        ("warning", OPENED, dt.date(2026, 3, 5), 1, 0),  # a day after: late
        # the whole procedure within 15 days: due 03-16 (township review entered 03-14, +3)
        ("township_review", dt.date(2026, 3, 14), dt.date(2026, 3, 16), None, None),
        ("township_review", dt.date(2026, 3, 14), dt.date(2026, 3, 17), 0, 1),
        ("township_review", dt.date(2026, 3, 14), dt.date(2026, 3, 18), 1, 2),
        # the notice state: 8 days (7 days of notice and a day to carry it up)
        ("village_notice", dt.date(2026, 3, 5), dt.date(2026, 3, 13), None, None),
        ("village_notice", dt.date(2026, 3, 5), dt.date(2026, 3, 14), 1, 0),
        # final states are never late
        ("recorded", dt.date(2026, 3, 10), dt.date(2027, 1, 1), None, None),
        ("not_included", dt.date(2026, 3, 2), dt.date(2027, 1, 1), None, None),
    ],
)
def test_deadline_boundaries(
    state: str, since: dt.date, as_of: dt.date, step_late: int | None, total_late: int | None
) -> None:
    table = overdue(pd.DataFrame([_case(state, since, OPENED)]), as_of=as_of, procedures=P)
    assert list(table.columns) == list(OVERDUE_COLUMNS)
    if step_late is None:
        assert table.empty
    else:
        row = table.iloc[0]
        assert (row["step_days_late"], row["total_days_late"]) == (step_late, total_late)


def test_deadlines_and_next_deadline() -> None:
    proc = P["identification"]
    due = deadlines(proc, opened_on=OPENED, state="warning", state_since=OPENED)
    assert due.step_due_on == dt.date(2026, 3, 4)
    assert due.final_due_on == dt.date(2026, 3, 16)
    assert due.next == dt.date(2026, 3, 4)
    late = next_deadline(
        P, "identification", opened_on=OPENED, state="village_notice",
        state_since=dt.date(2026, 3, 12),
    )  # fmt: skip
    assert late == dt.date(2026, 3, 16)  # the whole procedure's deadline comes first
    assert (
        next_deadline(P, "identification", opened_on=OPENED, state="recorded", state_since=OPENED)
        is None
    )


@settings(deadline=None, max_examples=60)  # pandas per example: no time limit on a busy machine
@given(
    st.sampled_from(list(vocab.CASE_PROCEDURES)),
    st.dates(dt.date(2021, 1, 1), dt.date(2030, 1, 1)),
    st.integers(0, 60),
    st.integers(0, 60),
)
def test_late_exactly_when_past_a_deadline(
    procedure: str, opened: dt.date, entered_after: int, checked_after: int
) -> None:
    proc = P[procedure]
    since = opened + dt.timedelta(days=entered_after)
    as_of = since + dt.timedelta(days=checked_after)
    states = list(proc.states.values())
    table = pd.DataFrame(
        [{**_case(s.code, since, opened, procedure), "case_id": i} for i, s in enumerate(states)]
    )
    late_ids = set(overdue(table, as_of=as_of, procedures=P)["case_id"])
    for i, state in enumerate(states):
        due = deadlines(proc, opened_on=opened, state=state.code, state_since=since)
        late = not state.final and (
            as_of > due.final_due_on or (due.step_due_on is not None and as_of > due.step_due_on)
        )
        assert (i in late_ids) == late, state.code


def test_an_office_file_replaces_the_deadlines(tmp_path: Path) -> None:
    text = Path(__file__).resolve().parents[2] / "src/dongxi/monitor/data/procedures.toml"
    body = text.read_text(encoding="utf-8").replace("due_days = 3\n", "due_days = 5\n", 1)
    office = tmp_path / "office.toml"
    office.write_text(body, encoding="utf-8")
    mine = load_procedures(office)
    assert mine["identification"].state("warning").due_days == 5
    cases = pd.DataFrame([_case("warning", OPENED, OPENED)])
    assert overdue(cases, as_of=dt.date(2026, 3, 6), procedures=mine).empty
    assert len(overdue(cases, as_of=dt.date(2026, 3, 6), procedures=P)) == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("[procedures.nope]\n", "Unknown procedure"),
        ("not toml = = 1", "not valid TOML"),
        (
            '[procedures.exit]\nzh="x"\nen="x"\ninitial="a"\ntotal_days=5\n'
            '[[procedures.exit.states]]\ncode="a"\nzh="a"\nen="a"\ndue_days=1\n',
            "No step leaves",
        ),
        (
            '[procedures.exit]\nzh="x"\nen="x"\ninitial="a"\ntotal_days=5\n'
            '[[procedures.exit.states]]\ncode="a"\nzh="a"\nen="a"\ndue_days=1\n'
            '[[procedures.exit.states]]\ncode="b"\nzh="b"\nen="b"\nfinal=true\n'
            '[[procedures.exit.transitions]]\nfrom="a"\nto="b"\nroles=["mayor"]\n',
            "Unknown role",
        ),
        (
            '[procedures.exit]\nzh="x"\nen="x"\ninitial="a"\ntotal_days=-1\n'
            '[[procedures.exit.states]]\ncode="a"\nzh="a"\nen="a"\ndue_days=1\n'
            '[[procedures.exit.states]]\ncode="b"\nzh="b"\nen="b"\nfinal=true\n'
            '[[procedures.exit.transitions]]\nfrom="a"\nto="b"\nroles=["admin"]\n',
            "whole number",
        ),
    ],
)
def test_a_bad_office_file_is_refused_with_the_place(tmp_path: Path, body: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_procedures(path)
    assert words in str(caught.value)
    assert "bad.toml" in str(caught.value)
