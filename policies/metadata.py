"""Read the `# METADATA` blocks of a Rego file.

A block is YAML written in the comment lines that start with `# METADATA`; it describes the rule
whose head is the next non-blank line below it. The embedded engine cannot read these blocks, so
Python reads them and joins them to the results.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml
from amisec import safe_yaml
from amisec.engine.errors import PolicyError

_PACKAGE = re.compile(r"^package\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(?:#.*)?$")
_RULE_HEAD = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\b")
_KEYWORDS = {"package", "import", "default", "else", "not", "some", "every", "with"}


@dataclass(frozen=True)
class MetadataBlock:
    """One METADATA block and the rule it annotates."""

    path: str
    line: int  # line of the rule head (1-based)
    block_line: int  # line of `# METADATA`
    package: str
    name: str
    fields: dict[str, Any]


def _comment_text(line: str) -> str | None:
    """The text of a comment line without `#` and one following space; None if not a comment."""
    stripped = line.lstrip()
    if not stripped.startswith("#"):
        return None
    text = stripped[1:]
    return text[1:] if text.startswith(" ") else text


def _parse_yaml(text: str, path: str, first_line: int) -> dict[str, Any]:
    try:
        fields = safe_yaml.load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = first_line + (mark.line if mark else 0)
        problem = getattr(err, "problem", None) or str(err)
        raise PolicyError(f"{path}:{line}", f"METADATA is not valid YAML: {problem}") from None
    if not isinstance(fields, dict):
        raise PolicyError(f"{path}:{first_line - 1}", "METADATA must be a YAML mapping")
    return fields


def _rule_name(lines: list[str], start: int, path: str, block_line: int) -> tuple[str, int]:
    """The rule identifier on the first non-blank line at or after `start` (0-based)."""
    index = start
    while index < len(lines) and not lines[index].strip():
        index += 1
    match = _RULE_HEAD.match(lines[index]) if index < len(lines) else None
    if match is None or match.group(1) in _KEYWORDS:
        raise PolicyError(f"{path}:{block_line}", "a METADATA block must be followed by the rule it describes")
    return match.group(1), index + 1


def read_blocks(source: str, path: str) -> tuple[str | None, list[MetadataBlock]]:
    """The package name of a Rego module (None if it has none) and its METADATA blocks in order."""
    lines = source.splitlines()
    package: str | None = None
    blocks: list[MetadataBlock] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _PACKAGE.match(line.strip())
        if match and package is None:
            package = match.group(1)
        if line.strip() != "# METADATA":
            index += 1
            continue
        block_line = index + 1
        body: list[str] = []
        index += 1
        while index < len(lines) and (text := _comment_text(lines[index])) is not None:
            body.append(text)
            index += 1
        fields = _parse_yaml("\n".join(body), path, block_line + 1)
        name, head_line = _rule_name(lines, index, path, block_line)
        if package is None:
            raise PolicyError(f"{path}:{block_line}", "METADATA before the package line")
        blocks.append(MetadataBlock(path, head_line, block_line, package, name, fields))
    return package, blocks
