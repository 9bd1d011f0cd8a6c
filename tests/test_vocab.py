"""The enumerations are defined once (dongxi.vocab) and everything else derives from them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import sqlalchemy as sa

import dongxi.store.all_models  # noqa: F401
from dongxi import vocab
from dongxi.intake.columns import COLUMNS
from dongxi.report._labels import value_labels
from dongxi.store.base import Base

SRC = Path(__file__).resolve().parents[1] / "src" / "dongxi"
VOCABULARIES = [v for n in vocab.__all__ if isinstance(v := getattr(vocab, n), vocab.Vocabulary)]


def test_vocabulary_is_an_ordered_mapping_to_labels() -> None:
    status = vocab.HOUSEHOLD_STATUSES
    assert status.codes == ("registered_poor", "escaped", "monitored", "never")
    assert list(status) == list(status.codes)
    assert status["monitored"] == vocab.Label("监测对象", "monitored")
    assert status.zh["escaped"] == "已脱贫户"
    assert len(vocab.CAUSES) == 12 and vocab.CAUSES.codes[-1] == "other"
    for v in VOCABULARIES:
        assert len(set(v.codes)) == len(v.codes), v.name
        assert all(label.zh and label.en for label in v.values()), v.name


def test_import_columns_take_their_labels_from_the_vocabulary() -> None:
    by_column = {
        ("households", "status"): vocab.HOUSEHOLD_STATUSES,
        ("households", "primary_cause"): vocab.CAUSES,
        ("households", "poverty_causes"): vocab.CAUSES,
        ("people", "relation"): vocab.RELATIONS,
        ("people", "sector"): vocab.SECTORS,
        ("measures", "status"): vocab.MEASURE_STATUSES,
        ("helpers", "side"): vocab.SIDES,
    }
    for (kind, name), expected in by_column.items():
        col = next(c for c in COLUMNS[kind] if c.name == name)
        assert col.vocabulary is expected
        assert dict(col.labels) == dict(expected.zh)
    for columns in COLUMNS.values():
        for col in columns:
            assert (col.vocabulary is not None) == (col.type in ("enum", "codes")), col.name


@pytest.mark.parametrize(
    ("table", "constraint", "vocabulary"),
    [
        ("households", "status", vocab.HOUSEHOLD_STATUSES),
        ("households", "primary_cause", vocab.CAUSES),
        ("people", "school_status", vocab.SCHOOL_STATUS),
        ("measures", "fund_source", vocab.FUND_SOURCES),
        ("policy_parameters", "status", vocab.POLICY_STATUSES),
        ("regions", "level", vocab.REGION_LEVELS),
    ],
)
def test_check_constraints_list_the_vocabulary(
    table: str, constraint: str, vocabulary: vocab.Vocabulary
) -> None:
    checks = [
        c
        for c in Base.metadata.tables[table].constraints
        if isinstance(c, sa.CheckConstraint) and str(c.name).endswith(constraint)
    ]
    assert len(checks) == 1
    quoted = ", ".join(f"'{code}'" for code in vocabulary.codes)
    assert f"IN ({quoted})" in str(checks[0].sqltext)


def test_report_labels_enumerated_groups() -> None:
    labels = value_labels("status")
    assert labels["registered_poor"] == "建档立卡贫困户 registered poor (not yet exited)"
    assert value_labels("county_code") == {}


def _full_listings(path: Path, root: Path = SRC) -> list[str]:
    """Literal tuples/lists/sets holding every code of a vocabulary, and dicts mapping every code
    to a string (a label table): an enumeration written a second time."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            if not all(
                isinstance(v, ast.Constant) and isinstance(v.value, str) for v in node.values
            ):
                continue
            items: list[ast.expr | None] = list(node.keys)
        elif isinstance(node, ast.Tuple | ast.List | ast.Set):
            items = list(node.elts)
        else:
            continue
        strings = {
            i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)
        }
        for v in VOCABULARIES:
            if len(v) >= 3 and set(v.codes) <= strings:
                found.append(f"{path.relative_to(root)}:{node.lineno} {v.name}")
    return found


def test_no_enumeration_is_written_twice() -> None:
    found = [
        hit
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "vocab.py" and "migrations" not in path.parts  # migrations are history
        for hit in _full_listings(path)
    ]
    assert found == []


def test_the_scan_finds_a_second_listing(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        'S = ("registered_poor", "escaped", "monitored", "never")\n'
        'L = {"male": "男", "female": "女", "x": "y"}\n'
        'LEVEL = {"skilled": 3, "normal": 2, "weak": 1, "lost": 0, "none": 0}\n'
        'SOME = ["none", "primary", "junior"]\n',
        encoding="utf-8",
    )
    hits = [hit.split(" ", 1)[1] for hit in _full_listings(probe, tmp_path)]
    assert hits == ["household status"]  # SEXES has 2 codes; LEVEL maps to numbers; SOME a subset
