"""Where an import's time goes: the seconds of each step of ``import_file``, kind by kind.

Writes synthetic CSV files as ``bench_import.py`` does (129,000 households by default), imports
them into a fresh registry, and prints the time of each step as it ends: reading the file,
registry look-ups, validation, the upsert plan, writing the rows (with the change log's
rendering done meanwhile), the status history and the change log's ``COPY``/``executemany``.

Run::

    uv run python benchmarks/import_timeline.py --backend postgresql
    uv run python benchmarks/import_timeline.py --backend sqlite --households 20000
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench_import import make_files, scratch_postgres

import dongxi.store._changelog as changelog
import dongxi.store._import_write as import_write
import dongxi.store.importer as importer
from dongxi.store.db import make_engine, upgrade

STEPS = (
    (importer, "read_table", "read the file"),
    (importer, "registry_view", "registry look-ups"),
    (importer, "validate_frame", "validate"),
    (importer, "plan_upsert", "plan (compare with the registry)"),
    (importer, "apply_plan", "write the rows (+ render the log meanwhile)"),
    (importer, "prepare_created", "  of which: render the change log"),
    (importer, "_write_status_history", "status history"),
    (changelog, "_copy_postgres", "write the change log"),
    (changelog, "_insert_sqlite", "write the change log"),
    (import_write, "_copy", "  of which: COPY of the rows"),
)


def timed(module: Any, name: str, label: str) -> None:
    """Replace ``module.name`` by a wrapper that prints its duration."""
    original: Callable[..., Any] = getattr(module, name)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            print(f"  {label:45s} {time.perf_counter() - start:6.2f} s")

    setattr(module, name, wrapper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=129_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="postgresql")
    args = parser.parse_args()
    for module, name, label in STEPS:
        timed(module, name, label)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = make_files(args.households, folder, 0)
        with ExitStack() as stack:
            if args.backend == "sqlite":
                url = f"sqlite:///{folder / 'timeline.db'}"
            else:
                url = stack.enter_context(scratch_postgres("dongxi_timeline"))
            engine = make_engine(url)
            upgrade(engine)
            for kind, (path, rows) in files.items():
                print(f"{kind} ({rows:,} rows)")
                start = time.perf_counter()
                importer.import_file(engine, path, actor="timeline")
                print(f"  {'total':45s} {time.perf_counter() - start:6.2f} s")
            engine.dispose()


if __name__ == "__main__":
    main()
