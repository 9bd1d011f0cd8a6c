"""Imports and exports of the registry, on SQLite and PostgreSQL (the ``registry`` fixture).

Files are built by small factories with Chinese headers and labels, as offices write them; ID
numbers are valid synthetic ones from :func:`dongxi.pii.idnumber.build_id`.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from dongxi import regions
from dongxi.errors import InputError
from dongxi.intake.headers import detect_kind, header_map, load_mapping, localize
from dongxi.intake.validate import RegistryView, validate_frame
from dongxi.pii.idnumber import build_id
from dongxi.store.exporter import export_file, export_frame
from dongxi.store.importer import import_file, import_frame, import_frames
from dongxi.store.scope import Scope

EVERYTHING = Scope.everything()


@cache
def villages() -> list[str]:
    frame = regions.divisions(2023, provinces=("45",))
    codes = frame.loc[frame["level"] == "village", "code"]
    return sorted(codes[codes.str.startswith("450123")])[:20]  # villages of 隆安县


def households(n: int = 4, *, prefix: str = "H") -> pd.DataFrame:
    vs = villages()
    rows = []
    for i in range(n):
        status = ["建档立卡贫困户", "已脱贫户", "监测对象", "一般农户"][i % 4]
        rows.append(
            {
                "户编号": f"{prefix}{i:04d}",
                "村代码": vs[i % len(vs)],
                "户类型": status,
                "监测类型": "边缘易致贫户" if status == "监测对象" else None,
                "识别年度": "2015" if status in ("建档立卡贫困户", "已脱贫户") else None,
                "脱贫年度": "2018" if status == "已脱贫户" else None,
                "主要致贫原因": "因病",
                "致贫原因": "因病、缺技术",
                "住房安全等级": "B",
                "饮水水量达标": "是",
                "饮水水质达标": "是",
                "取水方便": "否",
                "供水保证率达标": "是",
                "通硬化路": "是",
                "通生活用电": "是",
            }
        )
    return pd.DataFrame(rows)


def people(hh: pd.DataFrame, *, per_household: int = 3, seq0: int = 0) -> pd.DataFrame:
    rows = []
    seq = seq0
    for code in hh["户编号"]:
        for m in range(1, per_household + 1):
            seq += 1
            birth = dt.date(1950, 1, 1) + dt.timedelta(days=seq % 20000)
            male = m == 1 or seq % 2 == 1
            sequence = 2 * (seq // 20000) + (1 if male else 0)  # unique with the birth date
            rows.append(
                {
                    "户编号": code,
                    "成员序号": str(m),
                    "身份证号": build_id(region_code="450123", birth_date=birth, sequence=sequence),
                    "姓名": f"测试{seq}",
                    "与户主关系": "户主" if m == 1 else "子女",
                    "性别": "男" if sequence % 2 else "女",
                    "出生日期": birth.isoformat(),
                    "民族": "壮族",
                    "文化程度": "初中",
                    "在校生状况": "非在校生",
                    "健康状况": "健康",
                    "残疾等级": None,
                    "参加城乡居民基本医疗保险": "是",
                    "参加城乡居民基本养老保险": "是",
                    "劳动技能": "普通劳动力",
                    "务工状况": "省外务工",
                    "务工地代码": "440300",
                    "务工行业": "制造业",
                    "月工资(元)": "3485",
                    "务工时间(月)": "10",
                }
            )
    return pd.DataFrame(rows)


def income(hh: pd.DataFrame, year: int = 2019) -> pd.DataFrame:
    rows = []
    for i, code in enumerate(hh["户编号"]):
        wage, op, prop, tr, cost, size = 20000 + i, 6000.5, 200, 3000, 2200, 3
        rows.append(
            {
                "户编号": code,
                "年度": str(year),
                "工资性收入": str(wage),
                "生产经营性收入": str(op),
                "财产性收入": str(prop),
                "转移性收入": str(tr),
                "生产经营性支出": str(cost),
                "家庭人口": str(size),
                "人均纯收入": f"{(wage + op + prop + tr - cost) / size:.2f}",
            }
        )
    return pd.DataFrame(rows)


def counts(engine: Engine) -> dict[str, int]:
    out = {}
    with engine.connect() as conn:
        for table in ("households", "people", "income", "household_status", "change_log"):
            out[table] = conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
    return out


def dump(engine: Engine, table: str, key: str) -> list[tuple[Any, ...]]:
    """Every row of a table without the time stamps and ciphertexts (these differ per write)."""
    with engine.connect() as conn:
        cols = [
            c
            for c in sa.inspect(conn).get_columns(table)
            if c["name"] not in ("created_at", "updated_at", "id_encrypted")
        ]
        names = ", ".join(c["name"] for c in cols)
        return [
            tuple(r) for r in conn.execute(sa.text(f"SELECT {names} FROM {table} ORDER BY {key}"))
        ]


def write_csv(frame: pd.DataFrame, path: Path, encoding: str = "utf-8") -> Path:
    frame.to_csv(path, index=False, encoding=encoding)
    return path


def load_all(engine: Engine, tmp_path: Path, n: int = 4) -> tuple[pd.DataFrame, pd.DataFrame]:
    hh = households(n)
    pp = people(hh)
    for kind, frame in (("households", hh), ("people", pp), ("income", income(hh))):
        result = import_file(engine, write_csv(frame, tmp_path / f"{kind}.csv"), actor="test")
        assert result.ok and result.written, result.errors[:3]
    return hh, pp


# --- import, re-import, update -----------------------------------------------------------------


def test_import_detects_kinds_and_reimport_changes_nothing(
    registry: Engine, tmp_path: Path
) -> None:
    before = counts(registry)
    load_all(registry, tmp_path)
    after = counts(registry)
    assert after["households"] == 4 and after["people"] == 12 and after["income"] == 4
    assert after["household_status"] == 4
    assert after["change_log"] - before["change_log"] == 4 + 12 + 4
    snapshot = {
        t: dump(registry, t, k)
        for t, k in (
            ("households", "household_code"),
            ("people", "id_hash"),
            ("income", "household_code"),
        )
    }
    for kind in ("households", "people", "income"):
        result = import_file(registry, tmp_path / f"{kind}.csv", actor="test")
        assert (result.created, result.updated, result.unchanged) == (0, 0, result.rows)
    assert counts(registry) == after
    assert snapshot == {
        t: dump(registry, t, k)
        for t, k in (
            ("households", "household_code"),
            ("people", "id_hash"),
            ("income", "household_code"),
        )
    }


def test_changed_rows_are_updated_and_logged(registry: Engine, tmp_path: Path) -> None:
    hh, _ = load_all(registry, tmp_path)
    changed = hh.copy()
    changed.loc[0, "住房安全等级"] = "D"
    changed.loc[1, "户类型"] = "监测对象"
    changed.loc[1, "监测类型"] = "脱贫不稳定户"
    before = counts(registry)
    result = import_frame(registry, kind="households", frame=changed, actor="editor")
    assert (result.created, result.updated, result.unchanged) == (0, 2, 2)
    after = counts(registry)
    assert after["change_log"] - before["change_log"] == 2
    assert after["household_status"] - before["household_status"] == 1  # one status change
    with registry.connect() as conn:
        grade, version = conn.execute(
            sa.text(
                "SELECT housing_grade, row_version FROM households WHERE household_code='H0000'"
            )
        ).one()
        entry = conn.execute(
            sa.text(
                "SELECT actor, action, before, after FROM change_log "
                "WHERE entity='households' ORDER BY seq DESC LIMIT 2"
            )
        ).all()
    assert grade == "D" and version == 2
    assert {e.actor for e in entry} == {"editor"} and {e.action for e in entry} == {"update"}
    assert any('"housing_grade":"B"' in (e.before or "") for e in entry)


def test_ids_are_stored_encrypted_hashed_and_masked(registry: Engine, tmp_path: Path) -> None:
    _, pp = load_all(registry, tmp_path)
    clear = set(pp["身份证号"])
    with registry.connect() as conn:
        rows = conn.execute(sa.text("SELECT id_hash, id_masked, id_encrypted FROM people")).all()
        log_text = " ".join(
            str(r[0]) for r in conn.execute(sa.text("SELECT after FROM change_log"))
        )
    for id_hash, masked, blob in rows:
        assert id_hash not in clear and "**********" in masked
        assert not any(c.encode() in bytes(blob) for c in clear)
    assert not any(c in log_text for c in clear)


# --- validation: a file with bad rows of every kind --------------------------------------------


def bad_households() -> tuple[pd.DataFrame, dict[int, set[tuple[str, str]]]]:
    """A households file with one broken rule per row; expected {sheet row: {(rule, header)}}."""
    hh = households(16, prefix="B")
    expected: dict[int, set[tuple[str, str]]] = {}

    def breaks(i: int, rule: str, header: str, **cells: Any) -> None:
        for col, value in cells.items():
            hh.loc[i, col] = value
        expected.setdefault(i + 2, set()).add((rule, header))

    hh["县代码"] = hh["村代码"].str.slice(0, 6)
    breaks(0, "required", "户编号", 户编号=None)
    breaks(1, "region_unknown", "村代码", 村代码="450123999999")
    breaks(2, "region_not_village", "村代码", 村代码="450123100")
    breaks(3, "region_county", "县代码", 县代码="450102")
    breaks(4, "domain", "户类型", 户类型="很穷")
    breaks(5, "status_category", "监测类型", 户类型="一般农户", 监测类型="边缘易致贫户")
    breaks(6, "year_registered", "识别年度", 户类型="建档立卡贫困户", 识别年度=None, 脱贫年度=None)
    breaks(7, "year_exited", "脱贫年度", 户类型="已脱贫户", 识别年度="2015", 脱贫年度=None)
    breaks(8, "year_order", "脱贫年度", 户类型="已脱贫户", 识别年度="2019", 脱贫年度="2016")
    breaks(9, "type_bool", "通硬化路", 通硬化路="也许")
    breaks(10, "type_int", "识别年度", 户类型="建档立卡贫困户", 识别年度="二〇一五")
    breaks(11, "domain", "致贫原因", 致贫原因="因病、运气差")
    hh.loc[12, "户编号"] = "B0013"  # the same code as the next row: reported on the later one
    expected[15] = {("duplicate_key", "户编号")}
    breaks(14, "range", "识别年度", 户类型="建档立卡贫困户", 识别年度="1999")
    breaks(15, "length", "户编号", 户编号="X" * 40)
    return hh, expected


def test_bad_households_get_a_complete_report_and_nothing_is_written(registry: Engine) -> None:
    hh, expected = bad_households()
    before = counts(registry)
    result = import_frame(registry, kind="households", frame=hh, actor="test")
    assert not result.written and result.created == 0
    assert counts(registry) == before
    got: dict[int, set[tuple[str, str]]] = {}
    for e in result.errors:
        got.setdefault(e.row or 0, set()).add((e.rule, e.column or ""))
        assert e.message_zh and e.message_en
    for row, rules in expected.items():
        assert rules <= got.get(row, set()), (row, rules, got.get(row))
    assert result.rejected_rows == len(expected)


def test_bad_people_rules(registry: Engine, tmp_path: Path) -> None:
    hh = households(4, prefix="P")
    assert import_frame(registry, kind="households", frame=hh, actor="test").written
    pp = people(hh, per_household=2, seq0=500).reset_index(drop=True)
    ok_id = pp.loc[0, "身份证号"]
    wrong_check = ok_id[:-1] + ("0" if ok_id[-1] != "0" else "1")
    cases = {
        0: ("id_checksum", "身份证号", {"身份证号": wrong_check}),
        1: ("id_format", "身份证号", {"身份证号": "45012319800101"}),
        2: ("id_birth_date", "出生日期", {"出生日期": "1999-12-31"}),
        3: ("id_sex", "性别", {"性别": "女" if pp.loc[3, "性别"] == "男" else "男"}),
        4: ("disability_grade", "残疾等级", {"健康状况": "残疾"}),
        5: ("head_member_no", "与户主关系", {"与户主关系": "户主"}),
        6: ("reference_household", "户编号", {"户编号": "NOPE"}),
        7: ("domain", "文化程度", {"文化程度": "博士后"}),
    }
    for i, (_rule, _header, cells) in cases.items():
        for col, value in cells.items():
            pp.loc[i, col] = value
    before = counts(registry)
    result = import_frame(registry, kind="people", frame=pp, actor="test")
    assert not result.written and counts(registry) == before
    got = {(e.row, e.rule, e.column) for e in result.errors}
    for i, (rule, header, _cells) in cases.items():
        assert (i + 2, rule, header) in got, (i, rule, sorted(got))
    # ID numbers appear only masked, names never
    for e in result.errors:
        assert (
            e.value is None
            or "*" in e.value
            or not any(ch.isdigit() for ch in e.value[:17])
            or len(e.value) < 17
        )
        assert "测试" not in (e.value or "")


def test_same_person_in_two_households_is_refused(registry: Engine, tmp_path: Path) -> None:
    _, pp = load_all(registry, tmp_path)
    moved = pp.iloc[[0]].copy()
    moved["户编号"] = "H0001"
    moved["成员序号"] = "9"
    moved["与户主关系"] = "子女"
    result = import_frame(registry, kind="people", frame=moved, actor="test")
    assert [e.rule for e in result.errors] == ["duplicate_person"]
    twice = pd.concat([pp.iloc[[0]], moved.assign(户编号="H0002")], ignore_index=True)
    checked = validate_frame(
        twice.rename(columns={"户编号": "household_code", "成员序号": "member_no"}).pipe(
            lambda f: f.rename(columns=dict(header_map(f.columns, "people")))
        ),
        kind="people",
        registry=RegistryView(households=frozenset({"H0000", "H0002"}), check_regions=False),
        hasher=lambda v: v[::-1],
    )
    assert "duplicate_person" in {e.rule for e in checked.errors}


def test_income_identity_checked_and_computed(registry: Engine, tmp_path: Path) -> None:
    hh, _ = load_all(registry, tmp_path)
    inc = income(hh, year=2020)
    inc.loc[0, "人均纯收入"] = "99999"
    inc.loc[1, "人均纯收入"] = None
    result = import_frame(registry, kind="income", frame=inc, actor="test", partial=True)
    assert [(e.row, e.rule) for e in result.errors] == [(2, "net_income")]
    assert result.created == 3
    with registry.connect() as conn:
        value = conn.execute(
            sa.text(
                "SELECT net_income_per_capita FROM income "
                "WHERE year=2020 AND household_code='H0001'"
            )
        ).scalar_one()
    assert value == pytest.approx((20001 + 6000.5 + 200 + 3000 - 2200) / 3, abs=0.01)


def test_partial_keeps_the_valid_rows(registry: Engine) -> None:
    hh, _expected = bad_households()
    result = import_frame(registry, kind="households", frame=hh, actor="test", partial=True)
    assert result.written and result.rejected_rows > 0
    assert result.created == len(hh) - result.rejected_rows
    assert counts(registry)["households"] == result.created


def test_several_kinds_in_one_transaction(registry: Engine) -> None:
    hh = households(3)
    pp = people(hh)
    pp.loc[0, "性别"] = "女" if pp.loc[0, "性别"] == "男" else "男"
    before = counts(registry)
    results = import_frames(registry, {"households": hh, "people": pp}, actor="test")
    assert results["households"].ok and not results["people"].ok
    assert not results["households"].written and counts(registry) == before
    pp = people(hh)
    results = import_frames(registry, {"people": pp, "households": hh}, actor="test")
    assert all(r.written for r in results.values())
    assert counts(registry)["people"] == 9


# --- encodings and formats ---------------------------------------------------------------------


def test_gb18030_file_imports_like_its_utf8_twin(registry: Engine, tmp_path: Path) -> None:
    hh = households(4)
    utf8 = write_csv(hh, tmp_path / "utf8.csv", "utf-8")
    gb = write_csv(hh, tmp_path / "gb.csv", "gb18030")
    assert utf8.read_bytes() != gb.read_bytes()
    first = import_file(registry, gb, actor="test")
    assert first.ok and first.created == 4
    again = import_file(registry, utf8, actor="test")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)


@pytest.mark.parametrize("suffix", [".xlsx", ".parquet"])
def test_xlsx_and_parquet(registry: Engine, tmp_path: Path, suffix: str) -> None:
    hh = households(4)
    path = tmp_path / f"hh{suffix}"
    if suffix == ".xlsx":
        hh.to_excel(path, index=False)
    else:
        hh.to_parquet(path, index=False)
    result = import_file(registry, path, actor="test")
    assert result.kind == "households" and result.ok and result.created == 4


# --- export and round trip ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_round_trip_changes_nothing(registry: Engine, tmp_path: Path, suffix: str) -> None:
    load_all(registry, tmp_path)
    before = counts(registry)
    for kind in ("households", "people", "income"):
        out = export_file(
            registry, scope=EVERYTHING, kind=kind, out=tmp_path / f"out_{kind}{suffix}", actor="t"
        )
        result = import_file(registry, out.path, kind=kind, actor="test")
        assert result.ok, result.errors[:3]
        assert (result.created, result.updated, result.unchanged) == (0, 0, out.rows)
    assert counts(registry) == before


def test_export_masks_ids_unless_unmasked_which_is_audited(
    registry: Engine, tmp_path: Path
) -> None:
    _, pp = load_all(registry, tmp_path)
    masked = export_frame(registry, scope=EVERYTHING, kind="people")
    assert masked["身份证号"].str.contains(r"\*{10}").all()
    before = counts(registry)["change_log"]
    out = export_file(
        registry,
        scope=EVERYTHING,
        kind="people",
        out=tmp_path / "p.csv",
        unmask=True,
        actor="auditor",
    )
    assert counts(registry)["change_log"] == before + 1
    clear = pd.read_csv(out.path, dtype=str, encoding="utf-8-sig")
    assert set(clear["身份证号"]) == set(pp["身份证号"])
    with registry.connect() as conn:
        actor, action = conn.execute(
            sa.text("SELECT actor, action FROM change_log ORDER BY seq DESC LIMIT 1")
        ).one()
    assert (actor, action) == ("auditor", "export_unmasked")


def test_export_frame_unmasked_from_python_is_audited(registry: Engine, tmp_path: Path) -> None:
    _, pp = load_all(registry, tmp_path)
    before = counts(registry)["change_log"]
    with pytest.raises(InputError, match="needs the name of who exports"):
        export_frame(registry, scope=EVERYTHING, kind="people", unmask=True)
    assert counts(registry)["change_log"] == before
    clear = export_frame(registry, scope=EVERYTHING, kind="people", unmask=True, actor="analyst")
    assert set(clear["身份证号"]) == set(pp["身份证号"])
    assert counts(registry)["change_log"] == before + 1
    with registry.connect() as conn:
        actor, action, entity = conn.execute(
            sa.text("SELECT actor, action, entity FROM change_log ORDER BY seq DESC LIMIT 1")
        ).one()
    assert (actor, action, entity) == ("analyst", "export_unmasked", "people")
    # a masked read and an unmasked read of a table without ID numbers write nothing
    export_frame(registry, scope=EVERYTHING, kind="people")
    export_frame(registry, scope=EVERYTHING, kind="households", unmask=True)
    assert counts(registry)["change_log"] == before + 1


def test_masked_id_for_unknown_person_is_rejected(registry: Engine, tmp_path: Path) -> None:
    load_all(registry, tmp_path)
    frame = export_frame(registry, scope=EVERYTHING, kind="people")
    frame.loc[0, "成员序号"] = "7"
    frame.loc[0, "与户主关系"] = "子女"
    result = import_frame(registry, kind="people", frame=frame.iloc[[0]], actor="test")
    assert [e.rule for e in result.errors] == ["id_masked_unknown"]


# --- headers -----------------------------------------------------------------------------------


def test_detect_kind_and_mapping(tmp_path: Path) -> None:
    assert detect_kind(list(households(1).columns)) == "households"
    assert detect_kind(list(income(households(1)).columns)) == "income"
    with pytest.raises(InputError, match="kind"):
        detect_kind(["foo", "bar"])
    csv = tmp_path / "map.csv"
    csv.write_text("source_header,column\n农户编码,household_code\n", encoding="gb18030")
    toml = tmp_path / "map.toml"
    toml.write_text('[columns]\n"农户编码" = "household_code"\n', encoding="utf-8")
    assert load_mapping(csv) == load_mapping(toml) == {"农户编码": "household_code"}
    renamed = households(2).rename(columns={"户编号": "农户编码"})
    assert detect_kind(list(renamed.columns), load_mapping(csv)) == "households"
    with pytest.raises(InputError, match="not a column"):
        header_map(["x"], "households", {"x": "nonsense"})


def test_localize_round_trips_labels() -> None:
    frame = pd.DataFrame(
        {
            "relation": ["head", "child_in_law"],
            "sex": ["male", "female"],
            "medical_insurance": [True, False],
            "monthly_wage": [3485.0, 1234.5],
        }
    )
    zh = localize(frame, kind="people")
    assert list(zh.columns) == [
        "与户主关系",
        "性别",
        "月工资(元)",
        "参加城乡居民基本医疗保险",
    ] or set(zh.columns) == {"与户主关系", "性别", "参加城乡居民基本医疗保险", "月工资(元)"}
    assert zh["与户主关系"].tolist() == ["户主", "儿媳/女婿"]
    assert zh["月工资(元)"].tolist() == ["3485", "1234.5"]
    assert Counter(zh["参加城乡居民基本医疗保险"]) == Counter(["是", "否"])


# --- the synthetic registry of dongxi.synth imports cleanly, every kind -----------------------


def test_synthetic_registry_imports_every_kind(registry: Engine, tmp_path: Path) -> None:
    from dongxi.synth import generate

    data = generate(households=60, seed=3, years=(2019, 2020))
    frames = {
        kind: getattr(data, kind)
        for kind in ("helpers", "partners", "households", "people", "income", "measures")
    }
    results = import_frames(registry, frames, actor="synth")
    for kind, result in results.items():
        assert result.ok and result.written, (kind, result.errors[:3])
        assert result.created == len(frames[kind])
    # the Chinese files written from the same data re-import without any change
    for kind in ("helpers", "partners", "measures"):
        path = tmp_path / f"{kind}.csv"
        localize(frames[kind], kind=kind).to_csv(path, index=False, encoding="utf-8-sig")
        again = import_file(registry, path, actor="synth")
        assert again.kind == kind
        assert (again.created, again.updated, again.unchanged) == (0, 0, len(frames[kind]))


def test_bulk_path_stores_every_value_exactly(registry: Engine) -> None:
    """More rows than the bulk threshold (PostgreSQL COPY): awkward text survives, and a second
    import of the same frames finds every row unchanged."""
    hh = households(2100, prefix="B")
    pp = people(hh, per_household=1)
    pp["姓名"] = [f"测\t试\\{i}\n行\r末" for i in range(len(pp))]
    first = import_frames(registry, {"households": hh, "people": pp}, actor="test")
    assert all(r.ok and r.written for r in first.values())
    assert first["people"].created == len(pp)
    with registry.connect() as conn:
        names = conn.execute(sa.text("SELECT name FROM people ORDER BY member_no, name")).scalars()
        assert sorted(names) == sorted(pp["姓名"])
    again = import_frames(registry, {"households": hh, "people": pp}, actor="test")
    assert again["households"].unchanged == len(hh)
    assert (again["people"].created, again["people"].updated) == (0, 0)
    assert again["people"].unchanged == len(pp)
