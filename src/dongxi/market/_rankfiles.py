"""Rank-list files read fast (the research mode of ``dongxi match`` on large instances).

The three tables of :mod:`dongxi.market._ranklists` — ``seeker_id, offer_id, rank``,
``offer_id, seeker_id, rank`` and ``offer_id, capacity`` — as UTF-8 CSV or Parquet files, read
with Arrow's multi-threaded readers into integer codes and checked with NumPy; pandas is not
imported. This is only the fast way of reading **valid** files: whenever a file is anything but
plain (another encoding or separator, a missing column, a value that is not a whole number, an
empty or unknown identifier, a pair or a rank given twice, a quote that may escape a formula,
a file over the ``DONGXI_MAX_INPUT_*`` limits), :func:`read_rank_files` answers ``None`` and the
caller reads the files the careful way (:func:`dongxi.market.match_rank_lists`), which names the
file, row, column and rule of the problem. Both ways build the same instance.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from dongxi.market._instance import Instance, Int32Array, IntArray, build_instance, rank_welfare
from dongxi.market._report import Matching, MethodName, method_name, overall_row
from dongxi.market._solve import solve

if TYPE_CHECKING:
    import pyarrow as pa

#: Codes, ranks and rows: int32 or int64.
Ints = npt.NDArray[np.integer[Any]]

__all__ = [
    "FAST_SUFFIXES",
    "RANK_LIST_REASONS_ZH",
    "RankFileMatch",
    "match_rank_files",
    "read_rank_files",
    "unmatched_reason_array",
]

#: File types read the fast way (anything else is read by :func:`dongxi.tables.read_table`).
FAST_SUFFIXES = (".csv", ".parquet", ".pq")

_REASON_NONE_LISTED = "unmatched, because the seeker listed no offer"
_REASON_NOT_BACK = "unmatched, because no offer the seeker listed lists the seeker back"
_REASON_NO_PAIR = "unmatched, because no mutually acceptable offer"
_REASON_FULL = "unmatched, because every acceptable offer is full with seekers it ranks higher"
_REASON_OPTIMAL = (
    "unmatched, because the welfare-optimal assignment gives every acceptable place to others"
)
#: The reasons of the unmatched in Chinese (what the command line shows first).
RANK_LIST_REASONS_ZH = {
    _REASON_NONE_LISTED: "未匹配：本人的名单上没有任何岗位",
    _REASON_NOT_BACK: "未匹配：本人所列岗位都没有把本人列入名单",
    _REASON_NO_PAIR: "未匹配：没有双方都可接受的岗位",
    _REASON_FULL: "未匹配：可接受的岗位名额已满，由对方排序更靠前的求职者获得",
    _REASON_OPTIMAL: "未匹配：福利最优分配将可接受的名额都给了其他人",
}


def unmatched_reason_array(
    instance: Instance,
    match_entry: IntArray,
    *,
    method: str = "stable",
    listed: IntArray | None = None,
) -> npt.NDArray[np.object_]:
    """Per seeker, why unmatched (empty string when matched), in English (see
    :func:`dongxi.market.unmatched_reasons`, which gives the same as a Series)."""
    lengths = instance.list_length()
    reasons = np.full(instance.n_seekers, "", dtype=object)
    unmatched = match_entry < 0
    empty = unmatched & (lengths == 0)
    if listed is not None:
        reasons[empty & (listed == 0)] = _REASON_NONE_LISTED
        reasons[empty & (listed > 0)] = _REASON_NOT_BACK
    else:
        reasons[empty] = _REASON_NO_PAIR
    reasons[unmatched & (lengths > 0)] = _REASON_FULL if method == "stable" else _REASON_OPTIMAL
    return reasons


class _Refused(Exception):
    """The fast reader does not take this file; the careful reader will say why (if anything)."""


def _limits() -> Any:
    from dongxi._xlsx_guard import Limits

    return Limits.from_settings()


def _header(path: Path) -> list[str]:
    """The names of the first line of a CSV file (after a UTF-8 byte-order mark)."""
    with path.open("rb") as handle:
        line = handle.readline()
    if line.startswith(codecs.BOM_UTF8):
        line = line[len(codecs.BOM_UTF8) :]
    try:
        text = line.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        raise _Refused from exc
    # a quoted name, or an apostrophe write_table may have put before formula-like text
    if '"' in text or "'" in text:
        raise _Refused
    return text.split(",")


def _read_table(path: Path, columns: tuple[str, ...], kinds: tuple[str, ...]) -> pa.Table:
    """The named columns of one file as an Arrow table (``kinds``: ``id`` text or ``int``).

    Identifiers come as text (CSV) or, from Parquet, as the file's own dictionaries (the
    dictionary pages are not expanded into one string per row)."""
    import pyarrow as pa

    limits = _limits()
    suffix = path.suffix.lower()
    if suffix not in FAST_SUFFIXES:
        raise _Refused
    if path.stat().st_size > limits.max_bytes:
        raise _Refused
    types = {"id": pa.string(), "int": pa.int64()}
    if suffix == ".csv":
        import pyarrow.csv as pacsv

        names = _header(path)
        if len(names) > limits.max_columns:
            raise _Refused
        wanted = [n.strip().lower() for n in names]
        if len(set(wanted)) != len(wanted) or any(c not in wanted for c in columns):
            raise _Refused
        actual = {c: names[wanted.index(c)] for c in columns}
        try:
            # Arrow reads the file itself (skipping a byte-order mark): no copy of it in Python
            table = pacsv.read_csv(
                str(path),
                memory_pool=pa.system_memory_pool(),
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
                parse_options=pacsv.ParseOptions(delimiter=","),
                convert_options=pacsv.ConvertOptions(
                    include_columns=[actual[c] for c in columns],
                    column_types={actual[c]: types[k] for c, k in zip(columns, kinds, strict=True)},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
            raise _Refused from exc
    else:
        # ParquetFile, not pq.read_table: that one imports pyarrow.dataset and pandas (~1.4 s)
        import pyarrow.parquet as pq

        try:
            schema = pq.ParquetFile(path).schema_arrow
        except (pa.ArrowInvalid, OSError) as exc:
            raise _Refused from exc
        wanted = [n.strip().lower() for n in schema.names]
        if len(set(wanted)) != len(wanted) or any(c not in wanted for c in columns):
            raise _Refused
        actual = {c: schema.names[wanted.index(c)] for c in columns}
        text = [
            actual[c]
            for c, k in zip(columns, kinds, strict=True)
            if k == "id" and _is_text(schema.field(actual[c]).type)
        ]
        try:
            table = pq.ParquetFile(path, read_dictionary=text).read(
                columns=[actual[c] for c in columns]
            )
            table = pa.table(
                [
                    _as_dictionary(table[actual[c]])
                    if k == "id" and actual[c] in text
                    else table[actual[c]].cast(types[k], safe=True)
                    for c, k in zip(columns, kinds, strict=True)
                ],
                names=list(columns),
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            raise _Refused from exc
    if table.num_rows > limits.max_rows:
        raise _Refused
    return table.rename_columns(list(columns))


def _is_text(kind: pa.DataType) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _as_dictionary(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A text column read with ``read_dictionary`` as dictionary<int32, string> chunks."""
    import pyarrow as pa

    wanted = pa.dictionary(pa.int32(), pa.string())
    return column if column.type == wanted else column.cast(wanted)


def _numbers(column: pa.ChunkedArray | pa.Array, dtype: type[np.generic]) -> IntArray:
    """A column without missing values as a NumPy array, read from its buffers (Arrow's own
    ``to_numpy`` imports pandas, which this path avoids)."""
    chunks = column.chunks if hasattr(column, "chunks") else [column]
    parts = [
        np.frombuffer(c.buffers()[1], dtype=dtype)[c.offset : c.offset + len(c)]
        for c in chunks
        if len(c)
    ]
    out: IntArray = (
        np.concatenate(parts).astype(np.int64, copy=False) if parts else np.zeros(0, np.int64)
    )
    return out


def _ints(column: pa.ChunkedArray, minimum: int) -> IntArray:
    if column.null_count:
        raise _Refused
    values = _numbers(column, np.int64)
    if len(values) and values.min() < minimum:
        raise _Refused
    return values


def _encode(*columns: pa.ChunkedArray, ordered: bool = True) -> tuple[list[str], list[Int32Array]]:
    """The identifiers of ``columns`` (surrounding white space removed, as the careful reader
    does) and, per column, every row's position among them; with ``ordered``, identifiers are
    numbered in order of first appearance (through the columns in turn). Arrow hashes the text
    once (``dictionary_encode``); only the distinct values become Python strings. Refused when
    an identifier is missing or empty, or holds an apostrophe (``write_table`` puts one before
    formula-like text, and the careful reader takes it off)."""
    import pyarrow as pa

    if any(c.null_count for c in columns):
        raise _Refused
    if len({c.type for c in columns}) > 1:
        columns = tuple(c.cast(pa.string()) for c in columns)
    joined = pa.chunked_array([k for c in columns for k in c.chunks], type=columns[0].type)
    # Arrow's hash table numbers values by first appearance; dictionaries read from Parquet
    # files keep the writer's order, which may be another
    from_file = pa.types.is_dictionary(joined.type)
    if from_file:
        joined = joined.unify_dictionaries()
    else:
        import pyarrow.compute as pc

        joined = pc.dictionary_encode(joined, memory_pool=pa.system_memory_pool())
    chunks = [c for c in joined.chunks if len(c)]
    if not chunks:
        return [], [np.zeros(0, dtype=np.int32) for _ in columns]
    dictionary = chunks[0].dictionary
    if not all(c.dictionary.equals(dictionary) for c in chunks[1:]):  # pragma: no cover
        raise _Refused  # Arrow gives every chunk one dictionary; were it not so, read carefully
    codes = np.concatenate(
        [
            np.frombuffer(c.indices.buffers()[1], np.int32)[c.offset : c.offset + len(c)]
            for c in chunks
        ]
    )
    raw = dictionary.to_pylist()
    if any("'" in v for v in raw):
        raise _Refused
    # the same identifier may come with and without white space around it
    seen: dict[str, int] = {}
    renumber = [seen.setdefault(v.strip(), len(seen)) for v in raw]
    if "" in seen:
        raise _Refused
    values = list(seen)
    # int32 codes (rows: at most DONGXI_MAX_INPUT_ROWS): half the memory of int64
    merged = len(values) < len(raw)  # else the codes stand
    code = np.array(renumber, dtype=np.int32)[codes] if merged else codes
    if ordered and from_file and not _first_seen_order(code, len(values)):
        used, first = np.unique(code, return_index=True)
        order = used[np.argsort(first)]
        again = np.full(len(values), -1, dtype=np.int32)
        again[order] = np.arange(len(order), dtype=np.int32)
        code = again[code]
        values = [values[i] for i in order.tolist()]
    cuts = np.cumsum([len(c) for c in columns])[:-1]
    return values, np.split(code, cuts)


def _first_seen_order(code: Int32Array, n_values: int) -> bool:
    """Whether every value is numbered by its first appearance (0, then at most one more than
    any before it) and all ``n_values`` appear."""
    highest = np.maximum.accumulate(code)
    return bool(
        code[0] == 0 and int(highest[-1]) == n_values - 1 and (code[1:] <= highest[:-1] + 1).all()
    )


def _all_distinct(key: IntArray) -> bool:
    if len(key) < 2:
        return True
    ordered = np.sort(key)
    return not bool((ordered[1:] == ordered[:-1]).any())


#: Cells (one per (seeker, offer) pair) of one block of the join's tables: 1 byte of mark and
#: 4 of position each, so ~20 MiB however large the instance, used again for every block.
_BLOCK_CELLS = 1 << 22
#: Most blocks joined through tables; beyond, the keys are joined by sorting.
_MAX_BLOCKS = 256


def _join(left: IntArray, right: IntArray, cells: int) -> Int32Array | None:
    """Per ``left`` key, the position of the same key in ``right`` (-1: none); ``None`` when a
    key occurs twice on either side. Keys lie in ``[0, cells)``."""
    n_blocks = max(-(-cells // _BLOCK_CELLS), 1)
    if n_blocks <= _MAX_BLOCKS:
        return _join_blocks(left, right, cells, n_blocks)
    if not (_all_distinct(left) and _all_distinct(right)):
        return None
    order = np.argsort(right, kind="stable")
    ordered = right[order]
    at = np.searchsorted(ordered, left)
    at_c = np.minimum(at, max(len(ordered) - 1, 0))
    if not len(ordered):
        return np.full(len(left), -1, dtype=np.int32)
    hit = (at < len(ordered)) & (ordered[at_c] == left)
    return np.where(hit, order[at_c], -1).astype(np.int32)


def _by_block(key: IntArray, size: int, n_blocks: int) -> tuple[Int32Array | None, IntArray]:
    """The rows in order of their key's block (``None``: they already are, as in lists written
    seeker by seeker), and where each block starts."""
    block = key // size
    rows = None
    if n_blocks > 1 and len(key) and not bool((block[1:] >= block[:-1]).all()):
        # few blocks: a byte (or two) each, which NumPy's stable sort sorts by radix
        small = np.uint8 if n_blocks <= 256 else np.uint16 if n_blocks <= 65536 else np.int64
        rows = np.argsort(block.astype(small), kind="stable").astype(np.int32)
        block = block[rows]
    starts = np.searchsorted(block, np.arange(n_blocks + 1, dtype=np.int64))
    return rows, starts


def _block_rows(
    key: IntArray, rows: Int32Array | None, a: int, b: int, base: int
) -> tuple[Int32Array, IntArray]:
    """The rows of one block and their keys within it."""
    if rows is None:
        return np.arange(a, b, dtype=np.int32), key[a:b] - base
    mine = rows[a:b]
    return mine, key[mine] - base


def _join_blocks(left: IntArray, right: IntArray, cells: int, n_blocks: int) -> Int32Array | None:
    """:func:`_join` through a table of positions, one block of keys at a time: a key's cell
    holds the row of ``right`` with that key; only the cells of ``right``'s keys are written,
    so a cell is trusted only where it is also marked."""
    size = max(-(-cells // n_blocks), 1)
    marked = np.zeros(size, dtype=np.bool_)
    position = np.empty(size, dtype=np.int32)  # rows: at most DONGXI_MAX_INPUT_ROWS
    found = np.empty(len(left), dtype=np.int32)
    l_rows, l_starts = _by_block(left, size, n_blocks)
    r_rows, r_starts = _by_block(right, size, n_blocks)
    for b in range(n_blocks):
        r, r_key = _block_rows(right, r_rows, int(r_starts[b]), int(r_starts[b + 1]), b * size)
        position[r_key] = r
        if not bool((position[r_key] == r).all()):
            return None  # a key twice in right
        marked[r_key] = True
        lo, l_key = _block_rows(left, l_rows, int(l_starts[b]), int(l_starts[b + 1]), b * size)
        hits = np.where(marked[l_key], position[l_key], -1)
        if l_rows is None:
            found[l_starts[b] : l_starts[b + 1]] = hits
        else:
            found[lo] = hits
        marked[r_key] = False
        position[l_key] = lo
        if not bool((position[l_key] == lo).all()):
            return None  # a key twice in left
    return found


def _ranks_distinct(owner: Ints, rank: IntArray, n_owners: int) -> bool:
    """No rank twice within one owner's list."""
    counts = np.bincount(owner, minlength=n_owners)
    # common case first: every list ranked 1..L (a permutation): one pass, no sort
    if len(rank) and int(rank.max()) <= int(counts.max()):
        ptr = np.zeros(n_owners + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        if bool((rank <= counts[owner]).all()):
            slot = np.zeros(len(rank), dtype=np.bool_)
            slot[ptr[owner] + rank - 1] = True
            return bool(slot.all())
    top = int(rank.max()) + 1 if len(rank) else 1
    if n_owners * top >= 2**62:
        return False
    return _all_distinct(owner.astype(np.int64) * top + rank)


def _in_order(owner: Ints, rank: IntArray) -> bool:
    """Every owner's rows together (one run each) and ranked best first within the run (so no
    rank twice within one list)."""
    if len(owner) < 2:
        return True
    change = owner[1:] != owner[:-1]
    if not bool(((rank[1:] > rank[:-1]) | change).all()):
        return False
    runs = int(np.count_nonzero(change)) + 1
    return runs == int(np.count_nonzero(np.bincount(owner)))


def _presorted(
    seeker_ids: npt.NDArray[np.object_],
    offer_ids: npt.NDArray[np.object_],
    capacity: IntArray,
    s_code: Ints,
    s_offer: Ints,
    o_offer: Ints,
    both: npt.NDArray[np.bool_],
    right: Ints,
) -> Instance | None:
    """The instance packed straight from files whose lists are each written together and best
    first (as ``dongxi`` and most tools write them; the caller checked it): no sorting at all.
    ``None`` when the seekers' lists do not come in seeker order (then
    :func:`dongxi.market.build_instance` sorts)."""
    # seekers are numbered by first appearance, so grouped rows come in seeker order
    if len(s_code) > 1 and not bool((s_code[1:] >= s_code[:-1]).all()):
        return None
    n_s, n_o = len(seeker_ids), len(offer_ids)
    every = bool(both.all())  # every pair both sides list: no row to leave out
    pair_seeker = s_code if every else s_code[both]
    seeker_ptr = np.zeros(n_s + 1, dtype=np.int64)
    np.cumsum(np.bincount(pair_seeker, minlength=n_s), out=seeker_ptr[1:])
    seeker_offer = (s_offer if every else s_offer[both]).astype(np.int32, copy=False)
    # an offer's rank of a pair: how many acceptable rows come before it in the offer's run
    offer_rank = np.zeros(0, dtype=np.int32)
    if len(o_offer):
        starts = np.flatnonzero(np.r_[True, o_offer[1:] != o_offer[:-1]]).astype(np.int32)
        lengths = np.diff(np.r_[starts, len(o_offer)])
        if len(right) == len(o_offer):  # every row of the offers' lists is acceptable
            before = np.arange(len(o_offer), dtype=np.int32)
        else:
            acceptable = np.zeros(len(o_offer), dtype=np.int32)
            acceptable[right] = 1
            before = np.cumsum(acceptable, dtype=np.int32)
            before -= acceptable
        before -= np.repeat(before[starts], lengths)
        offer_rank = before[right]
    offer_len = np.bincount(seeker_offer, minlength=n_o).astype(np.int64)
    return Instance(
        seeker_ids=seeker_ids,
        offer_ids=offer_ids,
        capacity=np.asarray(capacity, dtype=np.int64),
        seeker_ptr=seeker_ptr,
        seeker_offer=seeker_offer,
        offer_rank=offer_rank,
        welfare=rank_welfare(seeker_ptr, offer_rank, offer_len[seeker_offer]),
    )


def read_rank_files(
    seeker_ranks: Path, offer_ranks: Path, capacities: Path
) -> tuple[Instance, IntArray] | None:
    """The instance of three valid rank-list files and, per seeker, how many offers the seeker
    listed; ``None`` when a file is not one the fast reader takes (read it the careful way)."""
    try:
        cp = _read_table(capacities, ("offer_id", "capacity"), ("id", "int"))
        sr = _read_table(seeker_ranks, ("seeker_id", "offer_id", "rank"), ("id", "id", "int"))
        orr = _read_table(offer_ranks, ("offer_id", "seeker_id", "rank"), ("id", "id", "int"))
        offer_names, (cap_code,) = _encode(cp["offer_id"])
        if len(offer_names) != len(cap_code):
            raise _Refused  # an offer listed twice
        capacity = _ints(cp["capacity"], 0)
        n_o = len(offer_names)
        # the offers named in the lists, then each as its row of the capacities (or unknown)
        listed_offers, (s_listed, o_listed) = _encode(
            sr["offer_id"], orr["offer_id"], ordered=False
        )
        row_of = {name: i for i, name in enumerate(offer_names)}
        to_row = np.array([row_of.get(name, -1) for name in listed_offers], dtype=np.int32)
        if len(to_row) and to_row.min() < 0:
            raise _Refused  # an offer without a capacity
        s_offer, o_offer = to_row[s_listed], to_row[o_listed]
        s_rank = _ints(sr["rank"], 1)
        o_rank = _ints(orr["rank"], 1)
        # seekers in order of first appearance: the seekers' file, then the offers'
        seeker_names, (s_code, o_code) = _encode(sr["seeker_id"], orr["seeker_id"])
        n_s = len(seeker_names)
    except _Refused:
        return None
    del cp, sr, orr  # their memory (Arrow's, from the system's allocator) serves NumPy next
    if n_s * max(n_o, 1) >= 2**62:
        return None
    s_key = s_code.astype(np.int64) * n_o + s_offer
    o_key = o_code.astype(np.int64) * n_o + o_offer
    # a pair listed twice, or a rank given twice within one list: the careful reader says where
    right = _join(s_key, o_key, n_s * n_o)
    if right is None:
        return None
    # lists in order rank nobody twice; others are checked
    s_sorted, o_sorted = _in_order(s_code, s_rank), _in_order(o_offer, o_rank)
    if not (s_sorted or _ranks_distinct(s_code, s_rank, n_s)):
        return None
    if not (o_sorted or _ranks_distinct(o_offer, o_rank, n_o)):
        return None
    both = right >= 0
    right = right[both]
    seeker_ids = np.array(seeker_names, dtype=object)
    offer_ids = np.array(offer_names, dtype=object)
    instance = None
    if s_sorted and o_sorted:
        instance = _presorted(
            seeker_ids, offer_ids, capacity, s_code, s_offer, o_offer, both, right
        )
    if instance is None:
        instance = build_instance(
            seeker_ids=seeker_ids,
            offer_ids=offer_ids,
            capacity=capacity,
            pair_seeker=s_code[both],
            pair_offer=s_offer[both],
            seeker_key=s_rank[both],
            offer_key=o_rank[right],
        )
    listed = np.bincount(s_code, minlength=n_s).astype(np.int64)
    return instance, listed


@dataclass(frozen=True, eq=False)
class RankFileMatch:
    """A matching of rank-list files, without pandas: ``offer_of`` per seeker (``""`` when
    unmatched), ``reasons`` per seeker (``""`` when matched) and the ``overall`` summary row."""

    matching: Matching
    offer_of: npt.NDArray[np.object_]
    reasons: npt.NDArray[np.object_]
    overall: dict[str, object]

    @property
    def seeker_ids(self) -> npt.NDArray[np.object_]:
        return self.matching.instance.seeker_ids


def match_rank_files(
    seeker_ranks: Path,
    offer_ranks: Path,
    capacities: Path,
    *,
    method: MethodName = "stable",
) -> RankFileMatch | None:
    """Read three rank-list files the fast way and match them with ``method``; ``None`` when a
    file must be read the careful way (:func:`dongxi.market.match_rank_lists`)."""
    method = method_name(method)
    read = read_rank_files(seeker_ranks, offer_ranks, capacities)
    if read is None:
        return None
    instance, listed = read
    # NumPy rounds and a NumPy count of blocking pairs: no numba import for a one-off match
    entry = solve(instance, method, light=True)
    matching = Matching(method, instance, entry)
    offer = matching.offer_index()
    offer_of = np.full(instance.n_seekers, "", dtype=object)
    matched = offer >= 0
    offer_of[matched] = instance.offer_ids[offer[matched]]
    reasons = unmatched_reason_array(instance, entry, method=method, listed=listed)
    return RankFileMatch(
        matching=matching,
        offer_of=offer_of,
        reasons=reasons,
        overall=overall_row(matching, light=True),
    )
