"""Fuzzing the importer's pure half: any text in any cell or header gives errors, never a crash.

The invariant: typing cells (``intake._cells.typed``), validating a frame, mapping headers,
recognising the kind and parsing labels either succeed or raise the project's ``InputError``
(``ValidationReportError`` is one); whatever they return is typed as promised.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dongxi.errors import InputError
from dongxi.intake._cells import typed
from dongxi.intake._rules import RULES, Collector
from dongxi.intake.columns import COLUMNS, KINDS, Kind
from dongxi.intake.headers import detect_kind, header_map, parse_labels, title_row_error
from dongxi.intake.validate import RegistryView, validate_frame

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Every character, control characters and lone surrogates included.
any_char = st.characters(codec=None, categories=None)
tricky = st.sampled_from(
    [
        "inf",
        "-inf",
        "nan",
        "1e400",
        "-1e400",
        "1e308",
        "9" * 40,
        "-0",
        "0x10",
        "１２３",
        "²",
        "٣٤",
        "2019-99-99",
        "２０１９年１月１日",
        "99999999-01-01",
        "1" * 8,
        "是",
        "否",
        "户主",
        "男",
        "因病、缺技术",
        "\x00",
        "a\x1bb",
        "\ud800",
        "4.50102199001011E+17",
        "   ",
        "",
    ]
)
cell = st.one_of(
    st.none(),
    st.text(any_char, max_size=30),
    tricky,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


@st.composite
def frames(draw: st.DrawFn, kind: Kind) -> pd.DataFrame:
    names = [c.name for c in COLUMNS[kind]]
    n = draw(st.integers(min_value=1, max_value=4))
    data = {name: [draw(cell) for _ in range(n)] for name in names}
    return pd.DataFrame(data, dtype=object)


@pytest.mark.parametrize("kind", KINDS)
def test_typed_never_crashes(kind: Kind) -> None:
    @FUZZ
    @given(frame=frames(kind))
    def check(frame: pd.DataFrame) -> None:
        out = Collector(np.arange(2, 2 + len(frame)), {}, None, kind)
        result, presence = typed(frame, kind, out)
        assert list(result.columns) == [c.name for c in COLUMNS[kind]]
        assert set(presence) == set(result.columns)
        for error in out.errors:
            assert error.rule in RULES
            assert 2 <= (error.row or 0) < 2 + len(frame)
        for col in COLUMNS[kind]:
            if col.type == "float":
                values = result[col.name].to_numpy(dtype="float64", na_value=np.nan)
                assert not np.isinf(values).any()

    check()


@pytest.mark.parametrize("kind", KINDS)
def test_validate_frame_never_crashes(kind: Kind) -> None:
    @FUZZ
    @given(frame=frames(kind))
    def check(frame: pd.DataFrame) -> None:
        view = RegistryView(check_regions=False, households=frozenset({"H1"}))
        checked = validate_frame(frame, kind=kind, registry=view, hasher=lambda v: "h" + v[-4:])
        for error in checked.errors:
            assert error.rule in RULES
            # shown values carry no control character (the report must stay writable)
            assert error.value is None or "\x00" not in error.value

    check()


header = st.one_of(
    st.text(any_char, max_size=12),
    st.sampled_from([h for k in KINDS for c in COLUMNS[k] for h in (c.name, c.zh)]),
    st.just("Unnamed: 3"),
)


@FUZZ
@given(headers=st.lists(header, max_size=12), row=st.lists(st.one_of(st.none(), header)))
def test_header_parsing_never_crashes(headers: list[str], row: list[str | None]) -> None:
    for kind in KINDS:
        try:
            mapped = header_map(headers, kind)
        except InputError:
            continue
        assert set(mapped) <= set(headers)
    try:
        assert detect_kind(headers, next_row=row) in KINDS
    except InputError as exc:
        assert exc.rule in ("kind", "duplicate_header", "title_row")
    error = title_row_error(headers, row)
    assert error is None or error.rule == "title_row"


@FUZZ
@given(values=st.lists(cell, min_size=1, max_size=6))
def test_label_parsing_never_crashes(values: list[str | None]) -> None:
    series = pd.Series(values, dtype=object)
    for kind in KINDS:
        for col in COLUMNS[kind]:
            if col.type != "enum":
                continue
            codes, bad = parse_labels(series, col)
            assert len(codes) == len(series) == len(bad)
            known = set(col.labels)
            for code, is_bad in zip(codes, bad, strict=True):
                assert code is None or col.open_domain or code in known
                assert not (is_bad and code is not None and not col.open_domain)
