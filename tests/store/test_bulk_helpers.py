"""The bulk helpers of the import path agree with their one-at-a-time counterparts.

Each vectorised or column-wise helper is compared with the scalar function it replaces:
``id_problems``/``id_problem``, ``mask_ids``/``mask_id``, ``canonical_json_columns``/
``canonical_json``, ``record_created``/``record_changes``, ``encrypt_many``/``hash_many``; plus
the text mode of ``read_table`` on CSV and the column writer ``insert_columns`` on SQLite.
"""

from __future__ import annotations

import codecs
import datetime as dt
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from store_factories import household

import dongxi.store.all_models  # noqa: F401  (registers every table on Base.metadata)
from dongxi.errors import InputError
from dongxi.pii.idnumber import (
    build_id,
    check_character,
    id_problem,
    id_problems,
    mask_id,
    mask_ids,
    normalise_id,
)
from dongxi.pii.protect import IdProtector
from dongxi.store._changelog import (
    Change,
    canonical_json,
    canonical_json_columns,
    record_changes,
    record_created,
    verify_chain,
)
from dongxi.store._import_write import columns_to_rows, insert_columns, rows_to_columns
from dongxi.store.base import Base
from dongxi.store.db import make_engine, upgrade
from dongxi.tables import read_table

TODAY = dt.date.today()
TOMORROW = TODAY + dt.timedelta(days=1)
REGIONS = ["450123", "451021", "440300", "110105", "000000", "999999"]

# --- strategies --------------------------------------------------------------------------------

valid_ids = st.builds(
    lambda region, birth, sequence: build_id(
        region_code=region, birth_date=birth, sequence=sequence
    ),
    st.sampled_from(REGIONS),
    st.dates(min_value=dt.date(1880, 1, 1), max_value=TODAY),
    st.integers(min_value=0, max_value=999),
)

# characters that look like digits (or are ID-ish) but are not ASCII digits, and plain ones
NON_ASCII_DIGITS = ["٣", "۷", "१", "１", "９", "Ｘ", "〇", "一", "²", "½", "Ⅻ"]
ID_CHARS = st.one_of(
    st.sampled_from([*"0123456789", "X", *NON_ASCII_DIGITS, "?", "*", "-", "/", "A", "\x00"]),
    st.characters(codec="utf-8", exclude_categories=["Cs"]),
)

DATES_OF_BIRTH = [
    "18791231",  # the day before the earliest allowed year
    "18800101",
    "20260230",  # 30 February
    "19000229",  # not a leap year (century)
    "20000229",  # a leap year (400)
    "20240229",
    "20230229",
    "19800001",  # month 00
    "19801301",  # month 13
    "19800100",  # day 00
    "19800132",  # day 32
    "19800431",  # 31 April
    "00000101",
    "99991231",
    "18000101",
    f"{TODAY:%Y%m%d}",
    f"{TOMORROW:%Y%m%d}",
]


@st.composite
def edited_ids(draw: st.DrawFn) -> str:
    """A valid ID with up to three random single-character edits."""
    value = draw(valid_ids)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        op = draw(st.sampled_from(["replace", "insert", "delete", "swap"]))
        at = draw(st.integers(min_value=0, max_value=max(len(value) - 1, 0)))
        if op == "replace" and value:
            value = value[:at] + draw(ID_CHARS) + value[at + 1 :]
        elif op == "insert":
            value = value[:at] + draw(ID_CHARS) + value[at:]
        elif op == "delete" and value:
            value = value[:at] + value[at + 1 :]
        elif op == "swap" and len(value) > at + 1:
            value = value[:at] + value[at + 1] + value[at] + value[at + 2 :]
    return value


@st.composite
def dated_ids(draw: st.DrawFn) -> str:
    """18 characters around an interesting date, with the right or a wrong check character."""
    region = draw(st.sampled_from(REGIONS))
    date = draw(
        st.one_of(
            st.sampled_from(DATES_OF_BIRTH),
            st.text(alphabet="0123456789", min_size=8, max_size=8),
        )
    )
    sequence = f"{draw(st.integers(min_value=0, max_value=999)):03d}"
    first17 = region + date + sequence
    last = draw(st.one_of(st.just(check_character(first17)), st.sampled_from("0123456789X")))
    return first17 + last


@st.composite
def x_anywhere(draw: st.DrawFn) -> str:
    """A valid ID with 'X' written over any one position."""
    value = draw(valid_ids)
    at = draw(st.integers(min_value=0, max_value=17))
    return value[:at] + "X" + value[at + 1 :]


any_text = st.text(ID_CHARS, min_size=0, max_size=20)
id_like = st.one_of(
    valid_ids,
    edited_ids(),
    st.builds(lambda value, last: value[:17] + last, valid_ids, ID_CHARS),
    dated_ids(),
    x_anywhere(),
    any_text,
    st.text(alphabet=st.sampled_from(NON_ASCII_DIGITS), min_size=18, max_size=18),
)
todays = st.one_of(
    st.none(),
    st.just(TODAY),
    st.just(TOMORROW),
    st.dates(min_value=dt.date(1870, 1, 1), max_value=dt.date(2100, 12, 31)),
)


def normalised(values: list[str]) -> list[str]:
    """The values as the import hands them to the bulk helpers (normalised, fixed points)."""
    out = [normalise_id(v) for v in values]
    return [v for v in out if normalise_id(v) == v]


# --- 1. id_problems ----------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(values=st.lists(id_like, max_size=30), today=todays)
@example(
    values=[
        "45012318791231123X",
        "٣" * 18,
        "１" * 18,
        "X" * 18,
        "",
        "4501231980050112361",
        "45012319800501123",
    ],
    today=None,
)
def test_id_problems_equals_id_problem(values: list[str], today: dt.date | None) -> None:
    values = normalised(values)
    if today is None:
        # the clock is read by both: keep away from dates within a day of midnight's change
        assume(not any(f"{TODAY:%Y%m%d}" in v or f"{TOMORROW:%Y%m%d}" in v for v in values))
    expected = [id_problem(v, today=today) for v in values]
    assert id_problems(values, today=today) == expected


@pytest.mark.parametrize("today", [TODAY, dt.date(2000, 2, 28), dt.date(2000, 2, 29)])
def test_id_problems_on_the_edge_dates(today: dt.date) -> None:
    values = []
    for date in [*DATES_OF_BIRTH, f"{today:%Y%m%d}", f"{today + dt.timedelta(days=1):%Y%m%d}"]:
        first17 = "450123" + date + "123"
        values += [first17 + check_character(first17), first17 + "?"]
    got = id_problems(values, today=today)
    assert got == [id_problem(v, today=today) for v in values]
    # the test has teeth: the edges really are told apart
    born_today = "450123" + f"{today:%Y%m%d}" + "123"
    born_tomorrow = "450123" + f"{today + dt.timedelta(days=1):%Y%m%d}" + "123"
    assert id_problems([born_today + check_character(born_today)], today=today) == [None]
    assert id_problems([born_tomorrow + check_character(born_tomorrow)], today=today) == [
        "id_birth_date"
    ]


def test_id_problems_rules_by_example() -> None:
    good = build_id(region_code="450123", birth_date=dt.date(2000, 2, 29), sequence=7)
    wrong_check = good[:17] + ("0" if good[17] != "0" else "1")
    leap_1900 = "450123" + "19000229" + "007"
    assert id_problems(
        [good, wrong_check, leap_1900 + check_character(leap_1900), good[:17], "٣" + good[1:]]
    ) == [None, "id_checksum", "id_birth_date", "id_format", "id_format"]
    assert id_problems([]) == []


# --- 2. mask_ids -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(valid_ids, any_text, edited_ids()), max_size=30))
def test_mask_ids_equals_mask_id(values: list[str]) -> None:
    values = normalised(values)
    masked = [mask_id(v) for v in values]
    assert mask_ids(values) == masked
    # already masked numbers come out unchanged (and equal to mask_id of them)
    assert mask_ids(masked) == [mask_id(v) for v in masked] == masked


def test_mask_ids_by_example() -> None:
    assert mask_ids(["450123198005011236", "4501**********1236", "12345678", "123456789", ""]) == [
        "4501**************",
        "4501**************",
        "********",
        "1234*****",
        "",
    ]


# --- 3. canonical_json_columns -----------------------------------------------------------------

COLUMN_NAMES = [
    "household_code",
    "village_code",
    "member_no",
    "birth_date",
    "monthly_wage",
    "water_quantity_ok",
    "note",
    "id_hash",
    "id_masked",
    "id_number",
    "身份证号",
    "name",
    "姓名",
    "contact",
    "联系人",
    "id_encrypted",
]

cell_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.integers(min_value=2**64, max_value=2**80) | st.integers(max_value=-(2**64)),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
    st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=6),
    st.text(max_size=8),
    valid_ids,
    valid_ids.map(str.lower),
    st.binary(max_size=16),
)


@st.composite
def column_tables(draw: st.DrawFn) -> dict[str, list[Any]]:
    names = draw(st.lists(st.sampled_from(COLUMN_NAMES), unique=True, max_size=8))
    n = draw(st.integers(min_value=0, max_value=8))
    table: dict[str, list[Any]] = {}
    for name in names:
        # a column either repeats a few values (the distinct-value path) or is free
        pool = draw(st.lists(cell_values, min_size=1, max_size=3))
        table[name] = draw(
            st.one_of(
                st.lists(st.sampled_from(pool), min_size=n, max_size=n),
                st.lists(cell_values, min_size=n, max_size=n),
            )
        )
    return table


def _row_by_row(columns: dict[str, list[Any]]) -> list[str | None]:
    """The formula of the brief: ``canonical_json`` of each row dict."""
    rows = zip(*columns.values(), strict=True)
    return [canonical_json(dict(zip(columns, row, strict=True))) for row in rows]


@settings(max_examples=400, deadline=None)
@given(columns=column_tables())
def test_canonical_json_columns_equals_canonical_json(columns: dict[str, list[Any]]) -> None:
    assert canonical_json_columns(columns) == _row_by_row(columns)


def test_canonical_json_columns_when_every_column_is_left_out() -> None:
    columns: dict[str, list[Any]] = {"id_encrypted": [b"\x01", None]}
    assert _row_by_row(columns) == ["{}", "{}"]
    assert canonical_json_columns(columns) == ["{}", "{}"]


def test_canonical_json_columns_redacts_by_example() -> None:
    number = build_id(region_code="450123", birth_date=dt.date(1970, 3, 15), sequence=123)
    columns: dict[str, list[Any]] = {
        "note": [number, "x", number, None],
        "id_number": [number, None, number.lower(), 12345678901],
        "name": ["张三丰", None, "", 7],
        "id_encrypted": [b"\x01", b"\x02", None, b""],
        "big": [2**70, -(2**65), 1, 1.5],
        "birth_date": [dt.date(1970, 3, 15), None, dt.date(2000, 2, 29), None],
    }
    got = canonical_json_columns(columns)
    assert got == _row_by_row(columns)
    first = json.loads(got[0])
    assert first == {
        "big": 2**70,
        "birth_date": "1970-**-**",  # the year only
        "id_number": mask_id(number),
        "name": "张**",
        "note": mask_id(number),
    }
    assert all(number not in text for text in got)
    assert all("id_encrypted" not in text for text in got)
    assert json.loads(got[2])["id_number"] == number[:4] + "*" * 14


def test_canonical_json_columns_masks_ids_after_an_equal_str_subclass() -> None:
    number = build_id(region_code="450123", birth_date=dt.date(1970, 3, 15), sequence=123)
    columns: dict[str, list[Any]] = {"note": [np.str_(number), number]}
    assert canonical_json_columns(columns)[1] == _row_by_row(columns)[1]


# --- 4. record_created -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    path = tmp_path_factory.mktemp("bulk") / "x.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    yield engine
    engine.dispose()


def _log_tail(engine: Engine, n: int) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT at, actor, action, entity, entity_key, before, after FROM change_log "
                "ORDER BY seq DESC LIMIT :n"
            ),
            {"n": n},
        ).all()
    return [tuple(r) for r in reversed(rows)]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(columns=column_tables())
def test_record_created_writes_what_record_changes_writes(
    sqlite_engine: Engine, columns: dict[str, list[Any]]
) -> None:
    n = len(next(iter(columns.values()))) if columns else 0
    assume(n > 0 or not columns)
    keys = [f"K{i:03d}-{'键' * (i % 3)}" for i in range(n)]
    at = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)
    with sqlite_engine.begin() as conn:
        bulk = record_created(
            conn, actor="tester", entity="households", keys=keys, records=columns, at=at
        )
    with sqlite_engine.begin() as conn:
        rows = columns_to_rows(columns) if columns else []
        one = record_changes(
            conn,
            actor="tester",
            action="create",
            entity="households",
            changes=[Change(key=k, after=r) for k, r in zip(keys, rows, strict=True)],
            at=at,
        )
    assert bulk == one == n
    if n:
        tail = _log_tail(sqlite_engine, 2 * n)
        assert tail[:n] == tail[n:]
        assert [r[4] for r in tail[:n]] == keys
        assert all(r[5] is None and r[2] == "create" for r in tail)
    check = verify_chain(sqlite_engine)
    assert check.ok, check


def test_record_created_when_every_column_is_left_out(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as conn:
        written = record_created(
            conn, actor="t", entity="people", keys=["A"], records={"id_encrypted": [b"\x01"]}
        )
    assert written == 1
    assert _log_tail(sqlite_engine, 1)[0][6] == "{}"


def test_record_created_by_example(sqlite_engine: Engine) -> None:
    number = build_id(region_code="450123", birth_date=dt.date(1970, 3, 15), sequence=123)
    columns: dict[str, list[Any]] = {
        "household_code": ["H1", "H2"],
        "id_number": [number, None],
        "name": ["张三丰", "李四"],
        "id_encrypted": [b"\x01abc", b"\x01def"],
        "note": [number, 2**70],
    }
    with sqlite_engine.begin() as conn:
        assert (
            record_created(conn, actor="t", entity="people", keys=["H1", "H2"], records=columns)
            == 2
        )
    tail = _log_tail(sqlite_engine, 2)
    assert [r[4] for r in tail] == ["H1", "H2"]
    assert [r[6] for r in tail] == [canonical_json(r) for r in columns_to_rows(columns)]
    assert number not in "".join(r[6] for r in tail)
    assert verify_chain(sqlite_engine).ok
    with sqlite_engine.begin() as conn, pytest.raises(ValueError, match="one key per record"):
        record_created(conn, actor="t", entity="people", keys=["H1"], records=columns)


# --- 5. IdProtector.encrypt_many / hash_many ---------------------------------------------------

PROTECTOR = IdProtector(encryption_key="k" * 32, lookup_key="l" * 32)


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.one_of(valid_ids, valid_ids.map(str.lower)), max_size=20))
def test_encrypt_many_and_hash_many(values: list[str]) -> None:
    blobs = PROTECTOR.encrypt_many(values)
    hashes = PROTECTOR.hash_many(values)
    assert len(blobs) == len(values)
    assert [PROTECTOR.decrypt(b, id_hash=h) for b, h in zip(blobs, hashes, strict=True)] == [
        normalise_id(v) for v in values
    ]
    # with the caller's hashes: the same bound form
    given_hashes = PROTECTOR.encrypt_many(values, hashes)
    assert [PROTECTOR.decrypt(b, id_hash=h) for b, h in zip(given_hashes, hashes, strict=True)] == [
        normalise_id(v) for v in values
    ]
    nonces = [b[1:13] for b in blobs]
    assert len(set(nonces)) == len(nonces)
    assert all(b[:1] == b"\x02" for b in blobs)
    assert all(normalise_id(v).encode() not in b for v, b in zip(values, blobs, strict=True))
    assert PROTECTOR.hash_many(values) == [PROTECTOR.hash(v) for v in values]


def test_encrypt_many_nonces_fresh_for_repeated_numbers() -> None:
    number = build_id(region_code="450123", birth_date=dt.date(1970, 3, 15), sequence=123)
    blobs = PROTECTOR.encrypt_many([number] * 50)
    assert len(set(blobs)) == 50
    assert len({b[1:13] for b in blobs}) == 50
    id_hash = PROTECTOR.hash(number)
    assert {PROTECTOR.decrypt(b, id_hash=id_hash) for b in blobs} == {number}
    assert PROTECTOR.encrypt_many([]) == []
    assert PROTECTOR.hash_many([]) == []
    assert len(set(PROTECTOR.hash_many([number, number.lower(), f" {number} "]))) == 1


# --- 6. read_table(as_text=True) on CSV --------------------------------------------------------

CSV_HEADERS = ["户编号", "姓名", "code", "n", "备注"]
cells = st.one_of(
    st.just(""),
    st.sampled_from(["007", "0", "00", "0450125001", "NA", "null", "NaN", "None", "-", "1e5"]),
    st.text(
        alphabet=st.one_of(
            st.sampled_from("0123456789 ,\"'\n;xX"),
            st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF),
        ),
        max_size=8,
    ),
)


@st.composite
def csv_frames(draw: st.DrawFn) -> pd.DataFrame:
    names = draw(st.lists(st.sampled_from(CSV_HEADERS), min_size=1, max_size=5, unique=True))
    n = draw(st.integers(min_value=0, max_value=6))
    data = {name: draw(st.lists(cells, min_size=n, max_size=n)) for name in names}
    return pd.DataFrame(data, dtype=object)


def _expected(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.astype(object)
    for name in out.columns:
        out[name] = pd.Series(
            [None if v == "" else v for v in out[name]], index=out.index, dtype=object
        )
    return out


def _assert_text_frame(got: pd.DataFrame) -> None:
    for name in got.columns:
        assert got[name].dtype == object, name
        assert all(v is None or type(v) is str for v in got[name]), name


@settings(max_examples=100, deadline=None)
@given(frame=csv_frames())
def test_read_table_as_text_csv(frame: pd.DataFrame) -> None:
    text = frame.to_csv(index=False, lineterminator="\n")
    gb = text.encode("gb18030")
    try:
        gb.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        # pure ASCII (the same bytes), or GB18030 bytes that happen to be UTF-8: not this test
        assume(gb == text.encode("utf-8"))
    # a cell of blanks alone is not what this test is about (pandas keeps it); a lone blank
    # row would be skipped as an empty line
    assume(all(str(v).strip() or v == "" for col in frame.columns for v in frame[col]))
    assume(not (len(frame.columns) == 1 and any(v == "" for v in frame.iloc[:, 0])))
    frames = []
    with tempfile.TemporaryDirectory() as folder:
        for name, data in [
            ("utf8.csv", text.encode("utf-8")),
            ("bom.csv", codecs.BOM_UTF8 + text.encode("utf-8")),
            ("gb.csv", gb),
        ]:
            path = Path(folder) / name
            path.write_bytes(data)
            frames.append(read_table(path, as_text=True))
    expected = _expected(frame)
    for got in frames:
        _assert_text_frame(got)
        assert list(got.columns) == list(frame.columns)
        pd.testing.assert_frame_equal(got, expected, check_column_type=False)


def test_read_table_as_text_csv_by_example(tmp_path: Path) -> None:
    text = "户编号,姓名,n\n0450125001,张三,007\n,李四,\n0450125003,,0\n"
    expected = pd.DataFrame(
        {
            "户编号": ["0450125001", None, "0450125003"],
            "姓名": ["张三", "李四", None],
            "n": ["007", None, "0"],
        },
        dtype=object,
    )
    frames = []
    for name, data in [
        ("utf8.csv", text.encode("utf-8")),
        ("bom.csv", codecs.BOM_UTF8 + text.encode("utf-8")),
        ("gb.csv", text.encode("gb18030")),
    ]:
        (tmp_path / name).write_bytes(data)
        frames.append(read_table(tmp_path / name, as_text=True))
    for got in frames:
        _assert_text_frame(got)
        assert got["n"].tolist() == ["007", None, "0"]
        pd.testing.assert_frame_equal(got, expected, check_column_type=False)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("ending", ["", "\n", "\r\n"])
def test_read_table_header_only(tmp_path: Path, encoding: str, ending: str) -> None:
    path = tmp_path / "h.csv"
    path.write_bytes(f"户编号,姓名,code{ending}".encode(encoding))
    got = read_table(path, as_text=True)
    assert len(got) == 0
    assert list(got.columns) == ["户编号", "姓名", "code"]
    _assert_text_frame(got)


@pytest.mark.parametrize(
    "after_bom",
    [b"a,b\n\xff\xfe,1\n", "a,b\n中".encode("gb18030") + b",1\n", b"\xc3(,b\n1,2\n"],
)
def test_read_table_bom_with_invalid_utf8_refused(tmp_path: Path, after_bom: bytes) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(codecs.BOM_UTF8 + after_bom)
    with pytest.raises(InputError) as info:
        read_table(path, as_text=True)
    assert info.value.file == str(path)


# --- 7. insert_columns, rows_to_columns, columns_to_rows ---------------------------------------


def _households(n: int) -> dict[str, list[Any]]:
    rows = [household(f"B{i:05d}") for i in range(n)]
    return rows_to_columns(rows) if rows else {c: [] for c in household()}


@pytest.mark.parametrize("n", [0, 1, 3, 6001])
def test_insert_columns_calls_meanwhile_once(sqlite_engine: Engine, n: int) -> None:
    table = Base.metadata.tables["households"]
    columns = _households(n)
    calls: list[int] = []
    with sqlite_engine.begin() as conn:
        conn.execute(table.delete().where(table.c.household_code.like("B%")))

        def meanwhile() -> None:
            # on SQLite the rows are in (this transaction) when the caller's work runs
            calls.append(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(table.c.household_code.like("B%"))
                ).scalar_one()
            )

        progress: list[int] = []
        insert_columns(conn, table, columns, progress.append, meanwhile=meanwhile)
    assert calls == [n]
    assert sum(progress) == n
    with sqlite_engine.connect() as conn:
        stored = conn.execute(
            sa.select(table.c.household_code, table.c.water_convenience_ok, table.c.year_exited)
            .where(table.c.household_code.like("B%"))
            .order_by(table.c.household_code)
        ).all()
    assert [tuple(r) for r in stored] == [(f"B{i:05d}", False, None) for i in range(n)]


def test_insert_columns_no_columns_calls_meanwhile_once(sqlite_engine: Engine) -> None:
    calls: list[None] = []
    with sqlite_engine.begin() as conn:
        insert_columns(
            conn,
            Base.metadata.tables["households"],
            {},
            None,
            meanwhile=lambda: calls.append(None),
        )
    assert calls == [None]


row_dicts = st.integers(min_value=1, max_value=5).flatmap(
    lambda width: st.lists(
        st.fixed_dictionaries({f"c{j}": cell_values for j in range(width)}), max_size=10
    )
)


@settings(max_examples=200, deadline=None)
@given(rows=row_dicts)
def test_rows_and_columns_round_trip(rows: list[dict[str, Any]]) -> None:
    columns = rows_to_columns(rows)
    back = columns_to_rows(columns)
    assert len(back) == len(rows)
    # compare by identity: NaN is not equal to itself
    for got, want in zip(back, rows, strict=True):
        assert set(got) == set(want)
        assert all(got[k] is want[k] for k in want)
    if rows:
        assert list(columns) == list(rows[0])
        assert all(len(v) == len(rows) for v in columns.values())
        again = rows_to_columns(back)
        assert list(again) == list(columns)
        assert all(all(a is b for a, b in zip(again[k], columns[k], strict=True)) for k in columns)
    else:
        assert columns == {}


def _text_reference(series: pd.Series, present: pd.Series, *, nfkc: bool) -> list[Any]:
    """``dongxi.intake._cells._text`` cell by cell (its form before the distinct-cell path)."""
    import unicodedata

    out: list[Any] = []
    for value, keep in zip(series.to_numpy(dtype=object), present, strict=True):
        if not keep:
            out.append(None)
            continue
        text = str(value).strip()
        if nfkc and not text.isascii():
            text = unicodedata.normalize("NFKC", text).strip()
        out.append(text)
    return out


_cell_text = st.text(st.sampled_from(list("Ab1 \t\u3000Ｈ０１２-年月ﾃﾞ")), max_size=6)


@settings(max_examples=150, deadline=None)
@given(
    cells=st.lists(
        st.one_of(_cell_text, _cell_text, st.integers(-5, 5), st.floats(allow_nan=False)),
        min_size=1,
        max_size=30,
    ),
    keep=st.lists(st.booleans(), min_size=30, max_size=30),
    nfkc=st.booleans(),
)
def test_text_of_cells_equals_cell_by_cell(cells: list[Any], keep: list[bool], nfkc: bool) -> None:
    from dongxi.intake._cells import _text

    series = pd.Series(cells + cells, dtype=object)  # repeated cells, as codes and months are
    present = pd.Series((keep[: len(cells)] * 2)[: len(series)], dtype=bool)
    got = _text(series, present, nfkc=nfkc)
    assert got.tolist() == _text_reference(series, present, nfkc=nfkc)
    assert list(map(type, got.tolist())) == [
        type(v) for v in _text_reference(series, present, nfkc=nfkc)
    ]


@settings(max_examples=150, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.none(), st.floats(allow_infinity=False), st.integers(-(2**31), 2**31)),
        min_size=1,
        max_size=20,
    )
)
def test_native_values_equal_the_python_conversion(values: list[Any]) -> None:
    import math

    from dongxi.store._import_write import _native

    floats = pd.Series([None if v is None else float(v) for v in values], dtype="float64")
    assert _native(floats) == [
        None if v is None or math.isnan(float(v)) else float(v) for v in values
    ]
    assert all(v is None or type(v) is float for v in _native(floats))
    ints = pd.Series([None if not isinstance(v, int) else v for v in values], dtype="Int64")
    expected = [v if isinstance(v, int) else None for v in values]
    assert _native(ints) == expected
    assert all(v is None or type(v) is int for v in _native(ints))
    full = pd.Series([v for v in values if isinstance(v, int)] or [0], dtype="int64")
    assert _native(full) == full.tolist()
    assert all(type(v) is int for v in _native(full))
