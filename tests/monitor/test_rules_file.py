"""The rules are data: the built-in file loads into typed objects, an office's own file replaces
it, and a wrong code stops the load naming the key."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from dongxi import vocab
from dongxi.errors import InputError
from dongxi.monitor import focus_households, load_rules, sweep

from .frames import AS_OF, LINE, household, member, months, tables

BUILTIN = (resources.files("dongxi.monitor") / "data" / "rules.toml").read_text(encoding="utf-8")


def test_the_builtin_rules_load() -> None:
    rules = load_rules()
    assert {c.code for c in rules.categories} == set(vocab.MONITORING_CATEGORIES.codes)
    assert [r.code for r in rules.rules][:3] == ["income", "housing", "water"]
    assert rules.window_months == 12
    assert rules.exit.stable_months == 6
    assert rules.rule("medical").share_of_income == 0.5
    assert rules.category_for("never", "medical") == "sudden_hardship"
    assert rules.category_for("never", "income") == "marginal"
    assert rules.category_for("escaped", "income") == "unstable_escaped"
    assert rules.category_for("registered_poor", "income") is None
    assert rules.poverty_exit.threshold("450123") == 0.03
    assert rules.poverty_exit.threshold("440305") == 0.02


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_an_office_file_changes_a_threshold(tmp_path: Path) -> None:
    path = _write(tmp_path, BUILTIN.replace("share_of_income = 0.5", "share_of_income = 0.2"))
    hh, people, income = tables(
        [household("H")], None, months("H", 1000.0, medical_spending={"2024-06": 5000.0})
    )
    assert sweep(hh, people, income, line=LINE, as_of=AS_OF).empty
    out = sweep(hh, people, income, line=LINE, as_of=AS_OF, rules=load_rules(path))
    assert list(out["rule"]) == ["medical"]
    assert "的 20%" in out["reason_zh"].iloc[0]


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('code = "marginal"', 'code = "edge"', "categories[2].code"),
        ('kind = "water"', 'kind = "weather"', "rules[2].kind"),
        ('unsafe_grades = ["C", "D"]', 'unsafe_grades = ["E"]', "rules[1].unsafe_grades"),
        ('capacity = ["skilled", "normal", "weak"]', 'capacity = ["strong"]', "labour.capacity"),
        ("stable_months = 6", "stable_months = 13", "exit.stable_months"),
        ("window_months = 12", "window_months = 0", "income.window_months"),
        ('column = "medical_spending"', 'column = "net_income"', "rules[3].column"),
        ("drop = 0.3 ", "drop = 1.5 ", "rules[6].drop"),
        ('groups = ["escaped"]', 'groups = ["rich"]', "categories[0].groups"),
        ("end = 2025", "end = 2019", "transition.end"),
        ("share_of_income = 0.5", 'share_of_income = "half"', "rules[3].share_of_income"),
    ],
)
def test_a_wrong_value_names_the_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    assert old in BUILTIN
    path = _write(tmp_path, BUILTIN.replace(old, new, 1))
    with pytest.raises(InputError) as caught:
        load_rules(path)
    assert caught.value.column == key
    assert caught.value.file == str(path)


def test_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_rules(tmp_path / "none.toml")
    with pytest.raises(InputError, match="not valid TOML"):
        load_rules(_write(tmp_path, "[income\n"))


def test_focus_groups_of_the_yearly_sweep() -> None:
    hh, people, _ = tables(
        [
            household("A", "escaped", year_exited=2019),
            household("B"),
            household("C", housing_grade="C"),
            household("D"),
        ],
        [
            member("A"),
            member("B", health="serious"),
            member("C", labour_capacity="none"),
            member("D"),
        ],
    )
    out = focus_households(hh, people)
    assert dict(zip(out["household_code"], out["focus"], strict=True)) == {
        "A": "escaped",
        "B": "serious_illness",
        "C": "no_labour;unsafe_house",
    }
    assert out.set_index("household_code").loc["C", "focus_zh"] == "无劳动能力家庭、住房不安全户"
