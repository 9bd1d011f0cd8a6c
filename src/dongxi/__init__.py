"""dongxi (东西): an open platform for East–West collaboration in poverty alleviation.

The package is layered; imports only point downward::

    cli / api / web          orchestration (Typer, FastAPI)
    report, store, synth     reports, system of record, synthetic data
    measure, market, ...     pure engines: tables in, tables out
    analytics, policy, tables   where analytics run, policy data, file formats
    errors, settings         the exception tree and the one table of settings
"""

from dongxi.errors import (
    ConfigError,
    ConflictError,
    DongxiError,
    InputError,
    NotFoundError,
    SpecError,
)

__version__ = "0.1.0"

__all__ = [
    "ConfigError",
    "ConflictError",
    "DongxiError",
    "InputError",
    "NotFoundError",
    "SpecError",
    "__version__",
]
