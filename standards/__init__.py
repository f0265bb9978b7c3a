"""Standards: control catalogs of each standard and the rule → controls mapping.

    load_catalogs()      -> {key: Catalog}          catalogs shipped as package data
    load_mapping()       -> {rule id: {key: [control ids]}}, validated against the catalogs
    rule_controls(rule)  -> {key: [Control]}         the controls one rule maps to
    standards_table(key) -> [StandardsRow]           rows of `amisec standards [STANDARD]`
    digest()             -> sha256 of catalogs and mapping, for reports
"""

from .catalog import (
    PRINCIPLES,
    Catalog,
    Control,
    StandardsError,
    UnknownStandardError,
    digest,
    get_catalog,
    label,
    load_catalogs,
    parse_catalog,
)
from .mapping import load_mapping, parse_mapping, rule_controls
from .table import StandardsRow, standards_table

__all__ = [
    "PRINCIPLES",
    "Catalog",
    "Control",
    "StandardsError",
    "StandardsRow",
    "UnknownStandardError",
    "digest",
    "get_catalog",
    "label",
    "load_catalogs",
    "load_mapping",
    "parse_catalog",
    "parse_mapping",
    "rule_controls",
    "standards_table",
]
