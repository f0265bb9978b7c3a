"""Golden compiled input for every example deployment.

`tests/golden/<name>.json` is exactly what `amisec compile deployments/<name>.ami` prints from the
repository root. When a deployment or the compiler changes on purpose, regenerate them with

    AMISEC_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py

and review the diff: it shows precisely what the policies will see differently.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from amisec.cli import main
from amisec.compiler import compile_source
from amisec.compiler.schema import validate_input
from amisec.compiler.source import from_bytes

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENTS = sorted((ROOT / "deployments").glob("*.ami"))
GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("AMISEC_UPDATE_GOLDEN") == "1"
COMPLIANT = {"riverside"}  # the examples meant to pass every rule; the others carry deliberate defects


def compiled(path: Path) -> dict:
    """The compiled input, with spans naming the file relative to the repository root."""
    return compile_source(from_bytes(path.read_bytes(), f"deployments/{path.name}"))


def render(doc: dict) -> str:
    """The same text `amisec compile` prints."""
    return json.dumps(doc, indent=2) + "\n"


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.stem)
def test_compiled_input_matches_golden(path: Path) -> None:
    golden = GOLDEN / f"{path.stem}.json"
    text = render(compiled(path))
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file for {path.name}; run with AMISEC_UPDATE_GOLDEN=1"
    expected = golden.read_text(encoding="utf-8")
    got, want = json.loads(text), json.loads(expected)
    differing = [k for k in want.keys() | got.keys() if got.get(k) != want.get(k)]
    assert not differing, f"{path.name} compiles differently in {sorted(differing)}; review, then AMISEC_UPDATE_GOLDEN=1"
    assert text == expected


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.stem)
def test_golden_is_what_the_cli_prints(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["compile", f"deployments/{path.name}"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (GOLDEN / f"{path.stem}.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_golden_files_validate_against_the_input_schema(path: Path) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    validate_input(doc)
    assert doc["deployment"]["source"]["file"] == f"deployments/{path.stem}.ami"
    spans = re.findall(r'"file": "([^"]+)"', path.read_text(encoding="utf-8"))
    assert set(spans) == {f"deployments/{path.stem}.ami"}


def test_every_golden_file_has_its_deployment() -> None:
    assert {p.stem for p in GOLDEN.glob("*.json")} == {p.stem for p in DEPLOYMENTS}


def test_the_examples_differ_in_shape() -> None:
    """Enough examples, and each exercises something the others do not."""
    docs = {p.stem: compiled(p) for p in DEPLOYMENTS}
    assert len(docs) >= 4 and COMPLIANT <= docs.keys()
    features = {
        name: {
            *(f"use:{u}" for u in doc["deployment"]["use_cases"]),
            *(f"party:{p['kind']}" for p in doc["parties"]),
            *(f"agreement:{a['kind']}" for a in doc["agreements"]),
            *(f"device:{d['kind']}" for d in doc["devices"]),
            *(f"basis:{d['control_basis']}" for d in doc["devices"]),
            *(f"medium:{link['medium']}" for link in doc["links"]),
            *(f"flow:{f['data']}" for f in doc["flows"]),
            *("waiver" for _ in doc["waivers"]),
        }
        for name, doc in docs.items()
    }
    for name, own in features.items():
        others = set().union(*(f for n, f in features.items() if n != name))
        assert own - others, f"{name} adds nothing the other examples do not show"


@pytest.mark.parametrize("path", DEPLOYMENTS, ids=lambda p: p.stem)
def test_defects_are_deliberate_and_few(path: Path) -> None:
    """Examples with findings mark each defect with a `# DEFECT:` comment; compliant ones have none."""
    lines = path.read_text(encoding="utf-8").splitlines()
    marked = [n for n, line in enumerate(lines, 1) if re.search(r"\S.*# DEFECT: \S", line)]
    if path.stem in COMPLIANT:
        assert not marked
    else:
        # Each marker sits at the end of the offending line, not on a line of its own.
        assert 2 <= len(marked) <= 5, f"{path.name}: {len(marked)} defects marked"
