"""Shared synthetic data sets for the synth tests (generated once per test session)."""

from __future__ import annotations

import pytest

from dongxi.synth import SynthData, generate


@pytest.fixture(scope="session")
def medium() -> SynthData:
    """20,000 households over 2016–2020: large enough for statistics near their targets."""
    return generate(households=20_000, seed=11)


@pytest.fixture(scope="session")
def beyond_2020() -> SynthData:
    """A panel that runs past 2020, when relapse monitoring starts."""
    return generate(households=3_000, seed=5, years=(2019, 2020, 2021, 2022))
