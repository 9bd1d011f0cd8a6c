"""dongxi.redaction and where it is applied: masks, error text, row reports, --debug output."""

from __future__ import annotations

import datetime as dt
import sys

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dongxi.errors import InputError, RowError
from dongxi.intake.headers import detect_kind
from dongxi.intake.validate import RegistryView, validate_frame
from dongxi.pii.idnumber import build_id, mask_id
from dongxi.redaction import mask_id_text, report_value, scrub, scrub_debug, shorten

ids = st.builds(
    lambda region, days, seq: build_id(
        region_code=region, birth_date=dt.date(1930, 1, 1) + dt.timedelta(days=days), sequence=seq
    ),
    st.sampled_from(["450123", "451024", "110105", "440305"]),
    st.integers(0, 30_000),
    st.integers(0, 999),
)
NAME = "".join(["张", "三", "丰"])  # not in any source line a traceback prints
# text around a number that does not continue it (no digit, X or * next to it)
around = st.text(alphabet=st.characters(blacklist_characters="0123456789Xx*"), max_size=12)


def test_mask_by_example() -> None:
    assert mask_id_text("450123198005011236") == "4501**************"
    assert mask_id_text("4501**********1236") == "4501**************"  # the older form
    assert mask_id_text("450123800501123") == "4501***********"  # 15 digits
    assert mask_id_text("12345678") == "********"
    assert shorten("刘德超") == "刘**"


@given(ids)
def test_mask_is_idempotent_and_remasks_the_older_form(number: str) -> None:
    masked = mask_id(number)
    assert masked == number[:4] + "*" * 14
    assert mask_id(masked) == masked
    assert mask_id(number[:4] + "*" * 10 + number[-4:]) == masked


@given(ids, around, around)
def test_scrub_masks_a_number_wherever_it_sits(number: str, before: str, after: str) -> None:
    text = f"{before}{number}{after}"
    clean = scrub(text)
    assert number not in clean
    assert number[-4:] not in clean.replace(before, "").replace(after, "")
    assert clean == f"{before}{mask_id(number)}{after}"
    first_generation = number[:6] + number[8:17]  # 15 digits: 2-digit year, no check character
    assert first_generation not in scrub(f"{before}{first_generation}{after}")


def test_scrub_leaves_other_numbers() -> None:
    household = "4510242062020001"  # 16 digits: a household code
    assert scrub(f"household {household} row 12") == f"household {household} row 12"
    assert scrub("village 451024206202") == "village 451024206202"


def test_report_value_and_debug_text() -> None:
    assert report_value("张三丰") == "张**"
    assert report_value("450123198005011236") == "4501**************"
    assert report_value("2001-05-09") == "2001-05-09"
    assert report_value(None) is None
    message = "could not convert string to float: '刘德超' (450123198005011236)"
    assert scrub_debug(message) == "could not convert string to float: '刘**' (4501**************)"


def test_error_text_masks_ids_wherever_they_are() -> None:
    number = build_id(region_code="450123", birth_date=dt.date(1980, 5, 1), sequence=123)
    err = InputError(f"bad {number}", column=number, value=[number, "x"], fix=f"see {number}")
    assert number not in str(err)
    assert str(err).count(mask_id(number)) == 4
    row = RowError(row=2, column="x", value=f"{number};", rule="r", message_zh="", message_en="")
    assert row.value == f"{mask_id(number)};"


def _people_row(**cells: str) -> pd.DataFrame:
    number = build_id(region_code="450123", birth_date=dt.date(1980, 5, 1), sequence=123)
    row = {
        "household_code": "4501230000010001",
        "member_no": "1",
        "id_number": number,
        "name": "张三丰",
        "relation": "户主",
        "sex": "男",
        "birth_date": "1980-05-01",
        "ethnicity": "汉族",
        "education": "初中",
        "school_status": "非在校生",
        "health": "健康",
        "medical_insurance": "是",
        "pension_insurance": "是",
        "labour_capacity": "普通劳动力",
        "employment": "务农",
    }
    row.update(cells)
    return pd.DataFrame([row])


def test_row_reports_never_show_a_name_or_a_clear_number() -> None:
    number = build_id(region_code="450123", birth_date=dt.date(1980, 5, 1), sequence=123)
    # a name under the relation column, the ID number under sex, a name too long
    frame = _people_row(relation="张三丰", sex=number, name="名" * 500)
    view = RegistryView(households=frozenset({"4501230000010001"}), check_regions=False)
    result = validate_frame(frame, kind="people", registry=view)
    shown = {e.column: e.value for e in result.errors}
    assert shown["relation"] == "张**"
    assert shown["sex"] == mask_id(number)
    assert shown["name"] is None  # too long: the row and column, not the value
    assert all(number not in (e.value or "") for e in result.errors)
    assert all("张三丰" not in (e.value or "") for e in result.errors)


def test_masked_birth_date_takes_the_date_of_a_clear_id() -> None:
    view = RegistryView(households=frozenset({"4501230000010001"}), check_regions=False)
    ok = validate_frame(_people_row(birth_date="1980-**-**"), kind="people", registry=view)
    assert ok.errors == []
    assert ok.frame.loc[0, "birth_date"] == pd.Timestamp("1980-05-01")
    wrong = validate_frame(_people_row(birth_date="1981-**-**"), kind="people", registry=view)
    assert [(e.rule, e.value) for e in wrong.errors] == [("birth_masked", "1981-**-**")]


def test_a_file_without_header_row_is_not_echoed() -> None:
    number = build_id(region_code="450123", birth_date=dt.date(1980, 5, 1), sequence=123)
    with pytest.raises(InputError, match="no header row") as caught:
        detect_kind(["4501230000010001", "1", number, "张三丰", "户主"])
    assert number not in str(caught.value) and "张三丰" not in str(caught.value)
    with pytest.raises(InputError, match="could not be recognised") as other:
        detect_kind(["foo", "bar"])
    assert "foo" in str(other.value)


def test_debug_traceback_redacts_every_message(capsys: pytest.CaptureFixture[str]) -> None:
    from dongxi.cli import redacted_traceback

    number = build_id(region_code="450123", birth_date=dt.date(1980, 5, 1), sequence=123)
    try:
        try:
            float(NAME)
        except ValueError as exc:
            raise KeyError(f"row of {number}") from exc
    except KeyError as exc:
        text = redacted_traceback(exc)
    assert "Traceback" in text and "KeyError" in text and "ValueError" in text
    assert number not in text and "张三丰" not in text
    assert mask_id(number) in text and "'张**'" in text


def test_cli_debug_prints_the_redacted_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dongxi.cli import main

    number = build_id(region_code="450123", birth_date=dt.date(1980, 5, 1), sequence=123)

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError(f"driver said: value '{NAME}' for {number}")

    monkeypatch.setattr("dongxi.cli.app", boom)
    assert main(["--debug", "db", "current"]) == 1
    err = capsys.readouterr().err
    assert "RuntimeError" in err and number not in err and "张三丰" not in err
    assert sys.exc_info() == (None, None, None)


def test_engines_hide_statement_parameters(tmp_path: object) -> None:
    from dongxi.store.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    try:
        assert engine.hide_parameters
    finally:
        engine.dispose()
