"""Import every model module so that ``Base.metadata`` holds the whole registry.

Alembic's environment and the tests import this module. Add one line per new model module.
"""

from __future__ import annotations

from dongxi.store import (  # noqa: F401
    account_models,
    case_models,
    change_models,
    job_models,
    key_models,
    market_models,
    models,
)
from dongxi.store.base import Base

__all__ = ["Base", "metadata"]

metadata = Base.metadata
