"""GB 11643 ID numbers: check character, parsing, masking, building (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dongxi.errors import InputError
from dongxi.pii.idnumber import (
    build_id,
    check_character,
    id_problem,
    is_valid_id,
    mask_id,
    parse_id,
    validate_id,
)

# The worked example of GB 11643-1999 (a fictitious person), check character X.
STANDARD_EXAMPLE = "11010519491231002X"


def test_standard_example_with_x_check_character() -> None:
    assert check_character(STANDARD_EXAMPLE[:17]) == "X"
    assert is_valid_id(STANDARD_EXAMPLE)
    assert is_valid_id(STANDARD_EXAMPLE.lower())
    info = parse_id(STANDARD_EXAMPLE.lower())
    assert info.region_code == "110105"
    assert info.birth_date == dt.date(1949, 12, 31)
    assert info.sex == "female"
    assert info.sequence == 2


def test_numeric_check_character() -> None:
    number = build_id(region_code="450123", birth_date=dt.date(1980, 5, 1), sequence=123)
    assert number == "450123198005011236"
    assert parse_id(number).sex == "male"


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("110105194912310021", "id_checksum"),
        ("11010519491231002", "id_format"),
        ("1101051949123100XX", "id_format"),
        ("110105194902300027", "id_birth_date"),  # 30 February
        ("110105290001010023", "id_birth_date"),  # in the future
    ],
)
def test_invalid_numbers(text: str, rule: str) -> None:
    assert id_problem(text) == rule
    assert not is_valid_id(text)
    with pytest.raises(InputError) as info:
        validate_id(text, row=7, column="身份证号")
    assert info.value.rule == rule
    assert info.value.row == 7
    assert text not in str(info.value)  # never the clear number in a message
    assert text[:4] in str(info.value)  # only its masked form


def test_mask() -> None:
    assert mask_id("450123198005011236") == "4501**************"
    assert mask_id(" 11010519491231002x ") == "1101**************"
    # the older form (last four shown) re-masks to the current one; masking is idempotent
    assert mask_id("4501**********1236") == mask_id(mask_id("450123198005011236"))


@given(
    region=st.sampled_from(["450123", "451021", "440300", "110105"]),
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_built_numbers_valid_and_single_digit_errors_caught(
    region: str, birth: dt.date, sequence: int, position: int, delta: int
) -> None:
    number = build_id(region_code=region, birth_date=birth, sequence=sequence)
    assert is_valid_id(number)
    info = parse_id(number)
    assert (info.region_code, info.birth_date, info.sequence) == (region, birth, sequence)
    assert info.sex == ("male" if sequence % 2 else "female")
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not is_valid_id(wrong)  # MOD 11-2 catches every single-digit error


def test_build_refuses_bad_input() -> None:
    with pytest.raises(InputError):
        build_id(region_code="45", birth_date=dt.date(2000, 1, 1), sequence=1)
    with pytest.raises(InputError):
        build_id(region_code="450123", birth_date=dt.date(2000, 1, 1), sequence=1000)


def test_digits_of_other_scripts_are_a_format_error() -> None:
    fullwidth = "１１０１０５１９４９１２３１００２Ｘ"
    assert id_problem(fullwidth) == "id_format"
    with pytest.raises(InputError):
        check_character("１１０１０５１９４９１２３１００２")
