"""A snapshot folder written by hand (manifest with SHA-256 and row counts), for the use cases
until the registry holds income_months."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd

from dongxi.store import SNAPSHOT_TABLES


def write_snapshot(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    entries = {}
    for name in dict.fromkeys([*SNAPSHOT_TABLES, *tables]):
        frame = tables.get(name, pd.DataFrame({"household_code": pd.Series(dtype=str)}))
        path = folder / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        entries[name] = {
            "file": path.name,
            "rows": len(frame),
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        }
    manifest = {"snapshot_id": "test-snapshot", "tables": entries}
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder
