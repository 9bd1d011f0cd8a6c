"""The masked ID form together with what is shown beside it never narrows a number to fewer than
1,000 candidates (docs/security.md, "Masking"), proved by brute force on synthetic people.

For each person in each output a role may see — the masked export, the snapshot's people table,
the change log — every valid GB 11643 number consistent with everything that output shows is
enumerated: the visible characters of the masked ID, the birth year, the sex, and the county of
registration. Outputs show the county of the household's village, which is the county of
registration for most people; for those registered elsewhere (spouses married in) the enumeration
is still given the true county, so the count is a lower bound for every person.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi.pii.idnumber import check_codes, is_valid_id, mask_id
from dongxi.store import create_snapshot
from dongxi.store.exporter import export_frame
from dongxi.store.importer import import_frames
from dongxi.store.scope import Scope
from dongxi.synth import SynthData, generate

MIN_CANDIDATES = 1_000


def candidates(
    *, shown: str, county: str, year: int, month_day: str | None, male: bool, today: dt.date
) -> np.ndarray:
    """Every valid 18-character number (as bytes) whose visible characters equal ``shown``'s,
    registered in ``county``, born in ``year`` (on ``month_day`` when given, ``MMDD``), with
    the sex digit of ``male``, born no later than ``today``."""
    start = np.datetime64(f"{year:04d}-01-01")
    end = min(np.datetime64(f"{year + 1:04d}-01-01"), np.datetime64(today) + 1)
    days = np.arange(start, end, dtype="datetime64[D]")
    text = np.char.replace(np.datetime_as_string(days), "-", "")
    if month_day is not None:
        text = text[np.char.endswith(text, month_day)]
    date_digits = np.frombuffer("".join(text.tolist()).encode(), dtype=np.uint8).reshape(-1, 8)
    seqs = np.arange(1 if male else 0, 1000, 2)
    seq_digits = np.stack([seqs // 100, seqs // 10 % 10, seqs % 10], axis=1)
    n_days, n_seqs = len(date_digits), len(seqs)
    region = np.frombuffer(county.encode(), dtype=np.uint8).astype(np.int64) - 48
    body = np.concatenate(
        [
            np.broadcast_to(region, (n_days * n_seqs, 6)),
            np.repeat(date_digits.astype(np.int64) - 48, n_seqs, axis=0),
            np.tile(seq_digits, (n_days, 1)),
        ],
        axis=1,
    )
    numbers = np.concatenate([(body + 48).astype(np.uint8), check_codes(body)[:, None]], axis=1)
    keep = np.ones(len(numbers), dtype=bool)
    for i, ch in enumerate(shown):
        if ch != "*":
            keep &= numbers[:, i] == ord(ch)
    return numbers[keep].view("S18").ravel()


def test_the_enumeration_counts_exactly() -> None:
    """The counter itself: a known person, with the old display (last four characters and the
    full birth date) pinned to one number, and with the current one to every day × sequence."""
    number = "450123198005011236"
    today = dt.date(2026, 1, 1)
    old = number[:4] + "*" * 10 + number[-4:]
    pinned = candidates(
        shown=old, county="450123", year=1980, month_day="0501", male=True, today=today
    )
    assert pinned.tolist() == [number.encode()]
    wide = candidates(
        shown=mask_id(number), county="450123", year=1980, month_day=None, male=True, today=today
    )
    assert len(wide) == 366 * 500  # 1980 was a leap year; 500 odd sequences
    assert number.encode() in set(wide.tolist())
    assert all(is_valid_id(v.decode()) for v in wide[::997])


@pytest.fixture
def loaded(registry: Engine) -> SynthData:
    data = generate(households=40, seed=21, years=(2019, 2020))
    frames = {kind: getattr(data, kind) for kind in ("helpers", "households", "people")}
    results = import_frames(registry, frames, actor="synth")
    assert all(r.ok and r.written for r in results.values())
    return data


def _truth(data: SynthData) -> dict[tuple[str, int], tuple[str, str]]:
    """(household, member) → (ID number, county of registration)."""
    return {
        (str(h), int(m)): (str(i), str(i)[:6])
        for h, m, i in zip(
            data.people["household_code"],
            data.people["member_no"],
            data.people["id_number"],
            strict=True,
        )
    }


#: candidate counts by what an output shows (shared by the tests of one session)
_SIZES: dict[tuple[str, str, int, str, dt.date], int] = {}


def _assert_wide(rows: list[tuple[str, int, str, int, str]], data: SynthData) -> None:
    """``rows``: (household, member, masked ID, birth year, sex) as one output shows them."""
    truth = _truth(data)
    today = dt.date.today()
    assert len(rows) == len(truth)
    sizes = _SIZES  # people sharing what is shown share a count
    for household, member, shown, year, sex in rows:
        number, county = truth[(household, member)]
        assert number not in shown
        key = (shown, county, year, sex, today)
        if key not in sizes:
            found = candidates(
                shown=shown,
                county=county,
                year=year,
                month_day=None,
                male=sex == "male",
                today=today,
            )
            assert (found == number.encode()).any()  # the enumeration holds the truth
            sizes[key] = len(found)
        assert sizes[key] >= MIN_CANDIDATES, (shown, year, sex, sizes[key])


def test_masked_export_leaves_thousands_of_candidates(registry: Engine, loaded: SynthData) -> None:
    frame = export_frame(registry, kind="people", scope=Scope.everything())
    assert frame["出生日期"].str.fullmatch(r"\d{4}-\*\*-\*\*").all()
    sex = {"男": "male", "女": "female"}
    rows = [
        (h, int(m), i, int(b[:4]), sex[s])
        for h, m, i, b, s in zip(
            frame["户编号"],
            frame["成员序号"],
            frame["身份证号"],
            frame["出生日期"],
            frame["性别"],
            strict=True,
        )
    ]
    _assert_wide(rows, loaded)


def test_snapshot_leaves_thousands_of_candidates(
    registry: Engine, loaded: SynthData, tmp_path: Path
) -> None:
    info = create_snapshot(registry, folder=tmp_path / "snap", actor="t")
    people = pq.read_table(info.folder / "people.parquet").to_pandas()
    assert "birth_date" not in people.columns
    rows = [
        (str(h), int(m), str(i), int(y), str(s))
        for h, m, i, y, s in zip(
            people["household_code"],
            people["member_no"],
            people["id_masked"],
            people["birth_year"],
            people["sex"],
            strict=True,
        )
    ]
    _assert_wide(rows, loaded)


def test_change_log_leaves_thousands_of_candidates(registry: Engine, loaded: SynthData) -> None:
    with registry.connect() as conn:
        entries = conn.execute(
            sa.text("SELECT after FROM change_log WHERE entity = 'people' AND action = 'create'")
        ).scalars()
        records = [json.loads(text) for text in entries]
    records = [
        r for r in records if str(r["household_code"]) in set(loaded.households["household_code"])
    ]
    # the change log keeps entries of earlier tests: the last entry per person (same seed, same
    # people) is the one of this registry
    latest = {(str(r["household_code"]), int(r["member_no"])): r for r in records}
    records = list(latest.values())
    rows = [
        (
            str(r["household_code"]),
            int(r["member_no"]),
            str(r["id_number"] if "id_number" in r else r["id_masked"]),
            int(str(r["birth_date"])[:4]),
            str(r["sex"]),
        )
        for r in records
    ]
    assert all(str(r["birth_date"]).endswith("-**-**") for r in records)
    _assert_wide(rows, loaded)


def test_older_stored_masks_are_remasked_by_upgrade(registry: Engine, loaded: SynthData) -> None:
    """A registry written with the older mask (last four shown): exports and snapshots re-mask
    as they read, and the upgrade's reference step rewrites the column once (idempotent)."""
    from dongxi.store._reference import remask_ids

    with registry.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE people SET id_masked = substr(id_masked, 1, 4) || '**********' || '1234'"
            )
        )
    frame = export_frame(registry, kind="people", scope=Scope.everything())
    assert not frame["身份证号"].str.endswith("1234").any()
    with registry.begin() as conn:
        assert remask_ids(conn) == len(loaded.people)
    with registry.begin() as conn:
        assert remask_ids(conn) == 0
        stored = pd.Series(conn.execute(sa.text("SELECT id_masked FROM people")).scalars().all())
        last = conn.execute(
            sa.text("SELECT action, after FROM change_log ORDER BY seq DESC LIMIT 1")
        ).one()
    assert stored.str.fullmatch(r"\d{4}\*{14}").all()
    assert last[0] == "remask_ids" and json.loads(last[1])["rows"] == len(loaded.people)
