"""Realistic synthetic data for the demo, tests and benchmarks (``dongxi.synth``).

``generate()`` builds a registry of households, people, income ledgers, assistance measures,
eastern partners and helpers in real villages of the 33 paired Guangxi poverty counties, with a
panel of yearly rounds; ``write_files()`` writes it as the import files offices hand in.

Sources of the figures it is calibrated to (details and assumptions in ``_stats.py`` and
``docs/synthetic-data.md``): Guangxi rural income per person 9,467 yuan in 2015 (wages 2,549,
operating 4,360, property 116, transfers 2,442; Guangxi statistics bureau) and 13,676 in 2019;
household size 2.87 and age structure 0–14 23.6 %, 15–59 59.7 %, 60+ 16.7 % (2020 census);
poverty incidence 12.6 % (2014) and 5.7 % (2017); migrant wages 3,485 yuan a month in 2017 (NBS
migrant worker survey); the national poverty line by year.

``generate(through=2025)`` continues the panel month by month from January 2021 with shocks
(illness, disability, disaster, job loss, schooling costs, house damage) whose process is
documented in ``_months.py`` and ``docs/synthetic-data.md``: monthly ``income_months``, yearly
rounds and income rows 2021.., and the ground-truth ``shocks`` table.
"""

from __future__ import annotations

from dongxi.synth._generate import SCALES, TABLES, Rounds, Scale, SynthData, generate
from dongxi.synth._idnumber import check_digit
from dongxi.synth._months import SHOCK_KINDS
from dongxi.synth._write import write_files

__all__ = [
    "SCALES",
    "SHOCK_KINDS",
    "TABLES",
    "Rounds",
    "Scale",
    "SynthData",
    "check_digit",
    "generate",
    "write_files",
]
