"""Rank-list files read the fast way (Arrow, no pandas) give what the careful reader gives."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dongxi.errors import InputError
from dongxi.market import (
    instance_from_rank_lists,
    match_rank_files,
    match_rank_lists,
)
from dongxi.market._rankfiles import read_rank_files
from dongxi.services import Principal
from dongxi.services.matching import match_rank_files as match_files_use_case

OPERATOR = Principal.local_operator()


@st.composite
def rank_lists(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n_s = draw(st.integers(1, 8))
    n_o = draw(st.integers(1, 5))
    seekers = [f"s{i}" for i in range(n_s)]
    offers = [f"o{j}" for j in range(n_o)]
    s_rows, o_rows = [], []
    for s in seekers:
        listed = draw(st.lists(st.sampled_from(offers), unique=True, max_size=n_o))
        gaps = draw(st.booleans())
        for r, o in enumerate(listed, start=1):
            s_rows.append((s, o, r * (3 if gaps else 1)))
    for o in offers:
        listed = draw(st.lists(st.sampled_from(seekers), unique=True, max_size=n_s))
        for r, s in enumerate(listed, start=1):
            o_rows.append((o, s, r))
    caps = [(o, draw(st.integers(0, 3))) for o in offers]
    sr = pd.DataFrame(s_rows, columns=["seeker_id", "offer_id", "rank"], dtype=object)
    orr = pd.DataFrame(o_rows, columns=["offer_id", "seeker_id", "rank"], dtype=object)
    if draw(st.booleans()):  # rows in any order: the fast reader sorts then
        sr = sr.sample(frac=1.0, random_state=draw(st.integers(0, 9))).reset_index(drop=True)
        orr = orr.sample(frac=1.0, random_state=draw(st.integers(0, 9))).reset_index(drop=True)
    cp = pd.DataFrame(caps, columns=["offer_id", "capacity"], dtype=object)
    return sr, orr, cp


def _write(folder: Path, frames: tuple[pd.DataFrame, ...], suffix: str) -> list[Path]:
    paths = []
    for name, frame in zip(("s", "o", "c"), frames, strict=True):
        path = folder / f"{name}{suffix}"
        if suffix == ".csv":
            frame.to_csv(path, index=False)
        else:
            frame.astype({c: "int64" for c in ("rank", "capacity") if c in frame}).to_parquet(
                path, index=False
            )
        paths.append(path)
    return paths


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames=rank_lists(), suffix=st.sampled_from([".csv", ".parquet"]))
def test_fast_reader_builds_the_careful_instance(
    tmp_path: Path, frames: tuple[pd.DataFrame, ...], suffix: str
) -> None:
    paths = _write(tmp_path, frames, suffix)
    read = read_rank_files(*paths)
    assert read is not None
    fast, listed = read
    careful = instance_from_rank_lists(*(f.astype(str) for f in frames))
    named = frames[0]["seeker_id"].value_counts()
    assert listed.tolist() == [int(named.get(s, 0)) for s in careful.seeker_ids]
    for field in ("seeker_ids", "offer_ids", "capacity", "seeker_ptr", "seeker_offer"):
        assert np.array_equal(getattr(fast, field), getattr(careful, field)), field
    assert np.array_equal(fast.offer_rank, careful.offer_rank)
    assert np.allclose(fast.welfare, careful.welfare)
    for method in ("stable", "optimal"):
        got = match_rank_files(*paths, method=method)
        want = match_rank_lists(*(f.astype(str) for f in frames), method=method)
        assert got is not None
        assert got.offer_of.tolist() == want.pairs["offer_id"].tolist()
        assert got.reasons.tolist() == want.reasons.tolist()
        assert got.overall["matched"] == int(want.overall["matched"].iloc[0])
        assert got.overall["blocking_pairs"] == int(want.overall["blocking_pairs"].iloc[0])
        if method == "stable":
            assert got.overall["blocking_pairs"] == 0


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames=rank_lists(), cells=st.sampled_from([1, 2, 5, 16]))
def test_the_join_in_small_blocks_gives_the_same_instance(
    tmp_path: Path, frames: tuple[pd.DataFrame, ...], cells: int
) -> None:
    import dongxi.market._rankfiles as rankfiles

    paths = _write(tmp_path, frames, ".csv")
    whole = read_rank_files(*paths)
    with pytest.MonkeyPatch.context() as patch:  # many blocks of a few (seeker, offer) cells
        patch.setattr(rankfiles, "_BLOCK_CELLS", cells)
        blocks = read_rank_files(*paths)
        patch.setattr(rankfiles, "_MAX_BLOCKS", 1 << 20)  # more than 256 blocks: 2-byte sort
        many = read_rank_files(*paths)
        patch.setattr(rankfiles, "_MAX_BLOCKS", 0)  # joined by sorting
        sorted_ = read_rank_files(*paths)
    assert whole is not None and blocks is not None and sorted_ is not None and many is not None
    for field in ("seeker_ids", "seeker_ptr", "seeker_offer", "offer_rank"):
        for other in (blocks, many, sorted_):
            assert np.array_equal(getattr(whole[0], field), getattr(other[0], field)), field


@pytest.mark.parametrize(("cells", "blocks"), [(1 << 22, 256), (4, 256), (4, 1 << 20)])
def test_the_join_finds_every_key_in_any_order(cells: int, blocks: int) -> None:
    from dongxi.market._rankfiles import _join

    rng = np.random.default_rng(7)
    left = rng.permutation(2000)[:900].astype(np.int64)  # keys in any order, none twice
    right = rng.permutation(2000)[:1100].astype(np.int64)
    where = {int(k): i for i, k in enumerate(right)}
    with pytest.MonkeyPatch.context() as patch:  # one block; 500 (sorted by 2 bytes); sorting
        patch.setattr("dongxi.market._rankfiles._BLOCK_CELLS", cells)
        patch.setattr("dongxi.market._rankfiles._MAX_BLOCKS", blocks)
        found = _join(left, right, 2000)
    assert found is not None
    assert found.tolist() == [where.get(int(k), -1) for k in left]


def test_a_pair_twice_is_found_in_any_block() -> None:
    from dongxi.market._rankfiles import _join

    left = np.array([7, 0, 3, 12, 5], dtype=np.int64)
    right = np.array([12, 3, 9, 0], dtype=np.int64)
    for size in (1, 2, 4, 16):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr("dongxi.market._rankfiles._BLOCK_CELLS", size)
            assert _join(left, right, 16).tolist() == [-1, 3, 1, 0, -1]  # type: ignore[union-attr]
            assert _join(np.r_[left, 3], right, 16) is None
            assert _join(left, np.r_[right, 9], 16) is None


SEEKERS = "seeker_id,offer_id,rank\na,x,1\na,y,2\nb,x,1\nc,y,1\n"
OFFERS = "offer_id,seeker_id,rank\nx,b,1\nx,a,2\ny,a,1\ny,c,2\n"
CAPS = "offer_id,capacity\nx,1\ny,1\n"


@pytest.mark.parametrize(
    ("seekers", "offers", "caps", "where"),
    [
        (SEEKERS + "a,x,3\n", OFFERS, CAPS, ("s.csv", 6, "offer_id")),  # pair twice
        (SEEKERS + "a,z,3\n", OFFERS, CAPS, ("s.csv", 6, "offer_id")),  # unknown offer
        (SEEKERS, OFFERS + "y,d,2\n", CAPS, ("o.csv", 6, "rank")),  # rank twice
        (SEEKERS.replace("b,x,1", "b,x,1.5"), OFFERS, CAPS, ("s.csv", 4, "rank")),
        (SEEKERS, OFFERS, CAPS.replace("y,1", "y,-1"), ("c.csv", 3, "capacity")),
        (SEEKERS.replace("c,y", " ,y"), OFFERS, CAPS, ("s.csv", 5, "seeker_id")),
        (SEEKERS, OFFERS, CAPS + "x,2\n", ("c.csv", 4, "offer_id")),
    ],
)
def test_a_bad_file_is_read_the_careful_way(
    tmp_path: Path, seekers: str, offers: str, caps: str, where: tuple[str, int, str]
) -> None:
    paths = []
    for name, text in (("s.csv", seekers), ("o.csv", offers), ("c.csv", caps)):
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(tmp_path / name)
    assert match_rank_files(*paths) is None
    with pytest.raises(InputError) as info:
        match_files_use_case(OPERATOR, *paths, tmp_path / "out.csv")
    file, row, column = where
    assert (info.value.file, info.value.row, info.value.column) == (file, row, column)
    assert not (tmp_path / "out.csv").exists()


def test_crlf_bom_and_extra_columns_are_read_fast(tmp_path: Path) -> None:
    def crlf(text: str) -> str:
        return text.replace("\n", "\r\n")

    (tmp_path / "s.csv").write_bytes(
        b"\xef\xbb\xbf"
        + crlf(
            "Seeker_ID,offer_id,RANK,note\n"
            + "".join(line + ",x\n" for line in SEEKERS.splitlines()[1:])
        ).encode()
    )
    (tmp_path / "o.csv").write_text(crlf(OFFERS), encoding="utf-8")
    (tmp_path / "c.csv").write_text(CAPS, encoding="utf-8")
    paths = [tmp_path / n for n in ("s.csv", "o.csv", "c.csv")]
    got = match_rank_files(*paths)
    assert got is not None
    assert dict(zip(got.seeker_ids.tolist(), got.offer_of.tolist(), strict=True)) == {
        "a": "y",
        "b": "x",
        "c": "",
    }
    result = match_files_use_case(OPERATOR, *paths, tmp_path / "out.csv")
    assert result.fast
    assert result.reasons == {
        "unmatched, because every acceptable offer is full with seekers it ranks higher": 1
    }
    assert result.reasons_zh == {"未匹配：可接受的岗位名额已满，由对方排序更靠前的求职者获得": 1}
    assert (tmp_path / "out.csv").read_bytes() == (
        b"\xef\xbb\xbfseeker_id,offer_id\r\na,y\r\nb,x\r\nc,\r\n"
    )


def test_output_is_not_an_input(tmp_path: Path) -> None:
    for name, text in (("s.csv", SEEKERS), ("o.csv", OFFERS), ("c.csv", CAPS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    paths = [tmp_path / n for n in ("s.csv", "o.csv", "c.csv")]
    with pytest.raises(InputError):
        match_files_use_case(OPERATOR, *paths, tmp_path / "s.csv")
    assert (tmp_path / "s.csv").read_text(encoding="utf-8") == SEEKERS


def test_formula_like_identifiers_are_escaped(tmp_path: Path) -> None:
    seekers = SEEKERS.replace("a,", "=a,")
    offers = OFFERS.replace(",a,", ",=a,")
    for name, text in (("s.csv", seekers), ("o.csv", offers), ("c.csv", CAPS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    paths = [tmp_path / n for n in ("s.csv", "o.csv", "c.csv")]
    match_files_use_case(OPERATOR, *paths, tmp_path / "out.csv")
    assert "'=a,y" in (tmp_path / "out.csv").read_text(encoding="utf-8-sig")


def test_the_rank_list_path_imports_neither_pandas_nor_sqlalchemy_nor_numba(tmp_path: Path) -> None:
    for name, text in (("s.csv", SEEKERS), ("o.csv", OFFERS), ("c.csv", CAPS)):
        (tmp_path / name).write_text(text, encoding="utf-8")
    code = (
        "import sys\n"
        "from dongxi.cli import main\n"
        f"args = ['match', '--seeker-ranks', {str(tmp_path / 's.csv')!r}, '--offer-ranks', "
        f"{str(tmp_path / 'o.csv')!r}, '--capacities', {str(tmp_path / 'c.csv')!r}, "
        f"'--out', {str(tmp_path / 'out.csv')!r}]\n"
        "assert main(args) == 0\n"
        "heavy = [m for m in ('pandas', 'sqlalchemy', 'ortools', 'numba', 'pyarrow.dataset')\n"
        "         if m in sys.modules]\n"
        "print('heavy=' + ','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip().splitlines()[-1] == "heavy="


def _careful_and_fast(tmp_path: Path, paths: list[Path]) -> None:
    """The fast reader reads the files and builds what the careful reader builds."""
    read = read_rank_files(*paths)
    assert read is not None
    fast, _ = read
    frames = []
    for path in paths:
        if path.suffix == ".csv":
            frames.append(pd.read_csv(path, dtype=str, keep_default_na=False))
        else:
            frames.append(pd.read_parquet(path).astype(str))
    careful = instance_from_rank_lists(*frames)
    for field in ("seeker_ids", "offer_ids", "capacity", "seeker_ptr", "seeker_offer"):
        assert np.array_equal(getattr(fast, field), getattr(careful, field)), field
    assert np.array_equal(fast.offer_rank, careful.offer_rank)


def test_identifiers_with_white_space_around_them_are_one(tmp_path: Path) -> None:
    seekers = "seeker_id,offer_id,rank\n b,x,1\na,y,1\na ,x,2\n"
    offers = "offer_id,seeker_id,rank\nx ,a,1\nx,b ,2\n y,a,1\n"
    for name, text in (("s.csv", seekers), ("o.csv", offers), ("c.csv", " x,1\ny ,1\n")):
        (tmp_path / name).write_text(text if name != "c.csv" else "offer_id,capacity\n" + text)
    paths = [tmp_path / n for n in ("s.csv", "o.csv", "c.csv")]
    _careful_and_fast(tmp_path, paths)
    got = match_rank_files(*paths)
    assert got is not None
    assert got.seeker_ids.tolist() == ["b", "a"]
    assert got.offer_of.tolist() == ["x", "y"]


def test_an_apostrophe_in_an_identifier_is_read_the_careful_way(tmp_path: Path) -> None:
    for name, text in (
        ("s.csv", SEEKERS.replace("c,y", "'c,y")),
        ("o.csv", OFFERS),
        ("c.csv", CAPS),
    ):
        (tmp_path / name).write_text(text, encoding="utf-8")
    paths = [tmp_path / n for n in ("s.csv", "o.csv", "c.csv")]
    assert read_rank_files(*paths) is None
    assert match_files_use_case(OPERATOR, *paths, tmp_path / "out.csv").fast is False


def test_parquet_dictionaries_in_another_order_give_first_appearance(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    def ids(values: list[str], order: list[str]) -> pa.DictionaryArray:
        # a dictionary in ``order``, not in the order the values first appear
        return pa.DictionaryArray.from_arrays(
            pa.array([order.index(v) for v in values], type=pa.int32()), pa.array(order)
        )

    s_rows = [("c", "y", 1), ("a", "x", 1), ("a", "y", 2), ("b", "x", 1)]
    o_rows = [("x", "b", 1), ("x", "a", 2), ("y", "a", 1), ("y", "c", 2), ("y", "d", 3)]
    everyone = ["d", "b", "a", "c"]
    tables = {
        "s": pa.table(
            {
                "seeker_id": ids([r[0] for r in s_rows], everyone),
                "offer_id": ids([r[1] for r in s_rows], ["y", "x"]),
                "rank": pa.array([r[2] for r in s_rows], type=pa.int64()),
            }
        ),
        "o": pa.table(
            {
                "offer_id": ids([r[0] for r in o_rows], ["y", "x"]),
                "seeker_id": ids([r[1] for r in o_rows], everyone),
                "rank": pa.array([r[2] for r in o_rows], type=pa.int64()),
            }
        ),
        "c": pa.table({"offer_id": ["x", "y"], "capacity": pa.array([1, 1], type=pa.int64())}),
    }
    paths = []
    for name, table in tables.items():
        pq.write_table(table, tmp_path / f"{name}.parquet", row_group_size=2)
        paths.append(tmp_path / f"{name}.parquet")
    _careful_and_fast(tmp_path, paths)
    got = match_rank_files(*paths)
    assert got is not None
    assert got.seeker_ids.tolist() == ["c", "a", "b", "d"]
