"""Server-rendered pages and their static files (vendored JavaScript libraries; no CDN)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["STATIC_DIR"]

#: Static files served at ``/static`` (vendored libraries with their licences and sources).
STATIC_DIR = Path(str(resources.files("dongxi.web") / "static"))
