"""The registry's vocabularies: the English code of every enumeration of the data dictionary.

One place for the allowed values, pure data with no dependencies, so that the registry (CHECK
constraints, validation), synthetic data and engines agree. The order of each tuple is fixed:
``synth`` codes values by their position.
"""

from __future__ import annotations

__all__ = [
    "BATCHES",
    "CAUSES",
    "EDUCATION",
    "EMPLOYMENT",
    "FUND_SOURCES",
    "HEALTH",
    "HOUSEHOLD_STATUSES",
    "HOUSING_GRADES",
    "LABOUR_CAPACITY",
    "MEASURE_STATUSES",
    "MONITORING_CATEGORIES",
    "PAIRING_LEVELS",
    "PARTNER_KINDS",
    "POLICY_STATUSES",
    "REGION_LEVELS",
    "RELATIONS",
    "SCHOOL_STATUS",
    "SEXES",
    "SIDES",
    "USER_ROLES",
]

REGION_LEVELS = ("province", "prefecture", "county", "township", "village")
SIDES = ("east", "west")
PAIRING_LEVELS = ("province", "city", "county", "township", "village", "unit")
HOUSEHOLD_STATUSES = ("registered_poor", "escaped", "monitored", "never")
MONITORING_CATEGORIES = ("unstable_escaped", "marginal", "sudden_hardship")
CAUSES = (
    "illness",
    "disability",
    "education",
    "disaster",
    "lack_land",
    "lack_water",
    "lack_skills",
    "lack_labour",
    "lack_funds",
    "poor_transport",
    "lack_motivation",
    "other",
)
HOUSING_GRADES = ("A", "B", "C", "D")
RELATIONS = (
    "head",
    "spouse",
    "child",
    "child_in_law",
    "grandchild",
    "parent",
    "grandparent",
    "sibling",
    "other",
)
SEXES = ("male", "female")
EDUCATION = ("none", "primary", "junior", "senior", "vocational", "college", "preschool")
SCHOOL_STATUS = (
    "not_in_school",
    "preschool",
    "primary",
    "junior",
    "senior",
    "vocational",
    "college",
    "dropout",
)
HEALTH = ("healthy", "chronic", "serious", "disabled")
LABOUR_CAPACITY = ("skilled", "normal", "weak", "lost", "none")
EMPLOYMENT = (
    "migrant_out",
    "migrant_in",
    "local",
    "farming",
    "self_employed",
    "unemployed",
    "not_applicable",
)
BATCHES = (
    "production",
    "relocation",
    "ecological",
    "education",
    "social_security",
    "employment",
    "health",
    "housing",
    "consumption",
)
FUND_SOURCES = ("east_fiscal", "east_social", "west_fiscal", "west_social", "credit", "other")
MEASURE_STATUSES = ("planned", "in_progress", "completed", "cancelled")
PARTNER_KINDS = ("enterprise", "organisation", "government", "school", "hospital")
POLICY_STATUSES = ("verified", "approximate", "unverified", "example")
#: Roles of the service's users (what each may do: ``dongxi.services.principal.PERMISSIONS``).
USER_ROLES = (
    "admin",
    "village_officer",
    "township_officer",
    "county_officer",
    "city_officer",
    "province_officer",
    "east_partner",
    "east_office",
    "analyst",
    "auditor",
)
