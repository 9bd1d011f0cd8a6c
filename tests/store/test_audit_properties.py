"""Property tests of the chain check (pure: rows as the verifying query returns them).

For any chain cut into write transactions (each sealing its last entry), the check passes; after
any one tampering it fails, at the entry and position where the tampering shows.
"""

from __future__ import annotations

from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dongxi.store._changelog import GENESIS_HASH, _check_rows, _entry_hash, _rows
from dongxi.store._seal import seal_mac

KEY = b"k" * 32
Row = tuple[Any, ...]


def _chain(sizes: list[int]) -> list[Row]:
    """Rows (seq, …, prev_hash, entry_hash, seal_hash, mac); seq 1.. with each transaction's
    last entry sealed."""
    rows: list[Row] = []
    prev = GENESIS_HASH
    seq = 0
    for t, size in enumerate(sizes):
        entries = [(f"K{t}-{i}", None, f'{{"i":{i}}}') for i in range(size)]
        for i, (at, actor, action, entity, key, before, after, p, h) in enumerate(
            _rows(prev, f"2026-01-01T00:00:{t:02d}+00:00", f"a{t}", "create", "x", entries)
        ):
            seq += 1
            sealed = i == size - 1
            rows.append(
                (seq, at, actor, action, entity, key, before, after, p, h)
                + ((h, seal_mac(KEY, seq, h)) if sealed else (None, None))
            )
            prev = h
    return rows


def _orphan(rows: list[Row], sealed: list[int]) -> int | None:
    present = {r[0] for r in rows}
    missing = [s for s in sealed if s not in present]
    return min(missing) if missing else None


def _sealed(rows: list[Row]) -> list[int]:
    return [r[0] for r in rows if r[10] is not None]


def _rehash(rows: list[Row], start: int) -> list[Row]:
    out = list(rows[:start])
    prev = out[-1][9] if out else GENESIS_HASH
    for row in rows[start:]:
        entry = _entry_hash(prev, *row[1:8])
        out.append((*row[:8], prev, entry, row[10], row[11]))
        prev = entry
    return out


sizes = st.lists(st.integers(1, 5), min_size=1, max_size=8)


@settings(max_examples=60, deadline=None)
@given(sizes)
def test_intact_chain_passes(parts: list[int]) -> None:
    rows = _chain(parts)
    check = _check_rows(rows, KEY, [], None)
    assert check.ok, check
    assert (check.entries, check.seals) == (sum(parts), len(parts))


@settings(max_examples=60, deadline=None)
@given(sizes, st.data())
def test_deleted_tail_with_seals_left_is_found(parts: list[int], data: st.DataObject) -> None:
    rows = _chain(parts)
    cut = data.draw(st.integers(1, len(rows)))  # entries left: rows[: len - cut]
    kept = rows[: len(rows) - cut]
    check = _check_rows(kept, KEY, [], _orphan(kept, _sealed(rows)))
    assert not check.ok
    assert check.position == len(kept) + 1  # the first deleted place
    assert check.broken_at == min(s for s in _sealed(rows) if s > len(kept))


@settings(max_examples=60, deadline=None)
@given(sizes, st.data())
def test_edit_and_rehash_is_found_at_the_next_seal(parts: list[int], data: st.DataObject) -> None:
    rows = _chain(parts)
    index = data.draw(st.integers(0, len(rows) - 1))
    edited = list(rows)
    edited[index] = (*rows[index][:2], "mallory", *rows[index][3:])
    check = _check_rows(_rehash(edited, index), KEY, [], None)
    assert not check.ok
    first_seal = min(s for s in _sealed(rows) if s >= index + 1)
    assert (check.broken_at, check.position) == (first_seal, first_seal)
    assert "differs from its seal" in (check.reason or "")


@settings(max_examples=60, deadline=None)
@given(sizes, st.data())
def test_deleted_middle_entry_is_found(parts: list[int], data: st.DataObject) -> None:
    rows = _chain(parts)
    assume(len(rows) >= 2)
    index = data.draw(st.integers(0, len(rows) - 2))
    kept = rows[:index] + rows[index + 1 :]
    check = _check_rows(kept, KEY, [], _orphan(kept, _sealed(rows)))
    assert not check.ok
    assert (check.broken_at, check.position) == (rows[index + 1][0], index + 1)
    assert "removed" in (check.reason or "")
