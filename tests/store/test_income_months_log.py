"""The change log of ``income_months``: one entry per household and year holding its months
(``LogGroup``), on SQLite and PostgreSQL — every value logged, a change to one month visible in
that month's history, the chain verifiable."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from test_import import households, write_csv
from test_income_months import months_file

from dongxi.intake.columns import TABLE_KINDS
from dongxi.store import change_history, verify_chain
from dongxi.store._changelog import Change, canonical_json, group_changes, prepare_grouped
from dongxi.store.importer import import_file, import_frame

KIND = TABLE_KINDS["income_months"]
MONTHS = ["2021-11", "2021-12", "2022-01"]


def _head(registry: Engine) -> int:
    with registry.connect() as conn:
        return int(conn.execute(sa.text("SELECT coalesce(max(seq), 0) FROM change_log")).scalar())


def _entries(registry: Engine, after: int) -> list[dict[str, object]]:
    with registry.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT seq, action, entity_key, before, after FROM change_log "
                "WHERE entity = 'income_months' AND seq > :s ORDER BY seq"
            ),
            {"s": after},
        ).mappings()
        return [dict(r) for r in rows]


def _load(registry: Engine, tmp_path: Path) -> list[str]:
    hh = households(3)
    assert import_file(registry, write_csv(hh, tmp_path / "hh.csv"), actor="test").written
    return list(hh["户编号"])


def test_one_entry_per_household_and_year_with_every_value(
    registry: Engine, tmp_path: Path
) -> None:
    codes = _load(registry, tmp_path)
    start = _head(registry)
    result = import_frame(
        registry, kind="income_months", frame=months_file(codes, MONTHS), actor="test"
    )
    assert result.written and result.created == 9
    entries = _entries(registry, start)
    # 3 households × 2 years (2021: two months, 2022: one)
    assert sorted(str(e["entity_key"]) for e in entries) == sorted(
        f"{c}|{y}" for c in codes for y in ("2021", "2022")
    )
    assert {e["action"] for e in entries} == {"create"}
    logged = {}
    for e in entries:
        after = json.loads(str(e["after"]))
        assert e["before"] is None
        assert set(after) == {"household_code", "year", "months"}
        assert str(e["entity_key"]) == f"{after['household_code']}|{after['year']}"
        for month, values in after["months"].items():
            assert month.startswith(after["year"])
            logged[(after["household_code"], month)] = values
    with registry.connect() as conn:
        stored = conn.execute(
            sa.text(
                "SELECT household_code, month, net_income, medical_spending, "
                "schooling_spending, disaster_loss, household_size FROM income_months"
            )
        ).mappings()
        table = {
            (r["household_code"], r["month"]): {
                k: r[k] for k in r if k not in ("household_code", "month")
            }
            for r in stored
        }
    assert logged == table  # every value of every row is in the log
    assert verify_chain(registry).ok


def test_a_change_to_one_month_is_in_its_history(registry: Engine, tmp_path: Path) -> None:
    codes = _load(registry, tmp_path)
    first = _head(registry)  # the log is shared by the tests: read this test's entries only
    frame = months_file(codes, MONTHS)
    assert import_frame(registry, kind="income_months", frame=frame, actor="test").written
    start = _head(registry)
    again = frame.copy()
    again.loc[1, "家庭纯收入"] = "99.5"  # H0001, 2021-12
    result = import_frame(registry, kind="income_months", frame=again, actor="officer")
    assert (result.created, result.updated, result.unchanged) == (0, 1, 8)
    (entry,) = _entries(registry, start)
    assert entry["action"] == "update" and entry["entity_key"] == f"{codes[0]}|2021"
    assert json.loads(str(entry["after"])) == {
        "household_code": codes[0],
        "year": "2021",
        "months": {"2021-12": {"net_income": 99.5}},
    }
    assert json.loads(str(entry["before"]))["months"] == {"2021-12": {"net_income": 1500.5}}
    with registry.connect() as conn:
        month, other, legacy, year = (
            [e for e in change_history(conn, entity="income_months", key=key) if e["seq"] > first]
            for key in (f"{codes[0]}|2021-12", f"{codes[0]}|2021-11", f"{codes[0]}/2021-12",
                        f"{codes[0]}|2021")
        )  # fmt: skip
    assert [e["action"] for e in month] == ["create", "update"]
    created, updated = month
    assert created["entity_key"] == f"{codes[0]}|2021-12"
    assert created["group_key"] == f"{codes[0]}|2021"
    assert created["after"]["month"] == "2021-12" and created["after"]["net_income"] == 1500.5
    assert created["after"]["household_code"] == codes[0]
    assert updated["before"] == {
        "household_code": codes[0],
        "month": "2021-12",
        "net_income": 1500.5,
    }
    assert updated["after"] == {"household_code": codes[0], "month": "2021-12", "net_income": 99.5}
    assert updated["actor"] == "officer"
    assert [e["action"] for e in other] == ["create"]  # the update did not touch 2021-11
    assert [e["seq"] for e in legacy] == [e["seq"] for e in month]
    # the group's key gives its entries as stored
    assert [e["action"] for e in year] == ["create", "update"]
    assert set(year[0]["after"]["months"]) == {"2021-11", "2021-12"}
    assert verify_chain(registry).ok


def test_group_form_of_keys() -> None:
    assert KIND.group_form("H1|2025-03") == "H1|2025"
    assert KIND.group_form("H1/2025-03") == "H1|2025"
    assert KIND.group_form("H1|2025") is None
    assert KIND.key_forms("H1|2025-03") == ("H1|2025-03", "H1/2025-03", "H1|2025")
    assert KIND.key_forms("H1|2025") == ("H1|2025", "H1/2025")
    assert TABLE_KINDS["income"].group_form("H1|2019") is None


_rows = st.lists(
    st.tuples(
        st.sampled_from(["H1", "H2", "4501231012060001", "H|4"]),
        st.integers(2021, 2023),
        st.integers(1, 12),
        st.floats(-1e6, 1e6, allow_nan=False),
        st.integers(1, 9),
    ),
    min_size=1,
    max_size=40,
    unique_by=lambda r: (r[0], r[1], r[2]),
)


@settings(max_examples=60, deadline=None)
@given(rows=_rows)
def test_grouped_entries_hold_every_row_once(
    rows: list[tuple[str, int, int, float, int]],
) -> None:
    records = {
        "household_code": [r[0] for r in rows],
        "month": [f"{r[1]}-{r[2]:02d}" for r in rows],
        "net_income": [r[3] for r in rows],
        "household_size": [r[4] for r in rows],
    }
    prepared = prepare_grouped(kind=KIND, records=records)
    groups = {(r[0], str(r[1])) for r in rows}
    assert len(prepared.keys) == len(groups) == len(set(prepared.keys))
    back = {}
    for key, text in zip(prepared.keys, prepared.afters, strict=True):
        after = json.loads(text)
        assert key == f"{after['household_code']}|{after['year']}"
        assert text == canonical_json(after)  # canonical: sorted keys, compact
        for month, values in after["months"].items():
            back[(after["household_code"], month)] = values
    assert back == {
        (code, month): {"net_income": income, "household_size": size}
        for code, month, income, size in zip(*records.values(), strict=True)
    }
    # updates of the same rows group the same way, each side holding the changed rows only
    changes = [
        Change(
            key=KIND.key_text({"household_code": c, "month": m}),
            before={"household_code": c, "month": m, "net_income": v},
            after={"household_code": c, "month": m, "net_income": v + 1},
        )
        for c, m, v in zip(
            records["household_code"], records["month"], records["net_income"], strict=True
        )
    ]
    grouped = group_changes(KIND, changes)
    assert sorted(g.key for g in grouped) == sorted(prepared.keys)
    assert sum(len(g.after["months"]) for g in grouped if g.after) == len(rows)  # type: ignore[arg-type]
