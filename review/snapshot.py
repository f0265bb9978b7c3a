"""One version of a plan, checked: its compiled input and its report, ready to be compared.

A version is a file on disk or a text read from elsewhere (a git revision); both sides of a
comparison are checked with the same catalog, engine and date, so differences come from the plans.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping, Sequence

from amisec.compiler import compile_file, compile_text
from amisec.engine import Engine
from amisec.policies.catalog import Catalog
from amisec.results.evaluate import evaluate_deployment
from amisec.results.model import DeploymentReport, Waiver
from amisec.results.waivers import default_today, read_waivers
from amisec.runner import controls_for, with_topology


@dataclass(frozen=True)
class Snapshot:
    """A checked version of a plan: how it is named in output, its input, report and waivers."""

    label: str
    doc: Mapping[str, Any]
    report: DeploymentReport
    waivers: tuple[Waiver, ...]


@dataclass(frozen=True)
class Checker:
    """What both sides of a comparison are checked with."""

    catalog: Catalog
    engine: Engine
    selected: frozenset[str]
    today: date

    def check(self, doc: Mapping[str, Any], label: str) -> Snapshot:
        """Evaluate a compiled input; raises EngineError or InputError like `amisec check`."""
        standards: Sequence[str] = doc["deployment"].get("standards") or []
        report = evaluate_deployment(self.catalog.rules, doc, self.engine.evaluate(doc), select=self.selected,
                                     today=self.today, controls=controls_for(standards))
        waivers = read_waivers(doc, {r.id for r in self.catalog.rules}, self.today)
        return Snapshot(label, doc, with_topology(report, doc), waivers)

    def check_file(self, path: str) -> Snapshot:
        """Compile and check a file on disk."""
        return self.check(compile_file(path), path)

    def check_text(self, text: str, filename: str, label: str) -> Snapshot:
        """Compile and check a text (spans and messages name `filename`)."""
        return self.check(compile_text(text, filename), label)


def make_checker(catalog: Catalog, engine: Engine, selected: Sequence[str] | None = None,
                 today: date | None = None) -> Checker:
    """A Checker over every rule of the catalog unless `selected` names some."""
    chosen = frozenset(selected) if selected is not None else frozenset(r.id for r in catalog.rules)
    return Checker(catalog, engine, chosen, today or default_today())
