"""The embedded engine: regopy (rego-cpp) in-process, wrapped around its known quirks.

- Log level NONE on every interpreter, or rego-cpp prints to stdout.
- One interpreter per thread (sharing one between threads crashes); each adds the modules and
  builds one entrypoint per rule package once (or loads the compiled bundle from
  `regopy_cache`), then only sets the input and queries the prepared bundle.
- One query per rule package, not one for `data.amisec.rules`: rego-cpp stops a query after 10
  million statements, a limit raised with the input's size where it can be set
  (`statement_limit`); a package that still reaches it is evaluated rule by rule, and a rule that
  reaches it alone fails the run, naming it.
  A package is queried through its generated `__results` (`rule_values`), which names its public
  rules only, so its helpers are not evaluated and written out for nothing.
- Never `with input as …` (crashes on rules that call builtins): the input is set directly.
- Compile errors arrive as s-expressions with byte offsets; they become `file:line:col`.
- Output strings are not escaped by regopy; input strings are protected (`regopy_strings`).
- The input is reduced to the fields the policies name (`slim`): regopy pays for every field.
- A large input is shared out: the rule packages are split between this process and forked ones
  (`amisec.forked`), balanced by what each took last time (`shares`); each process is handed only
  the fields its packages name, through a faster hand-over than regopy's own (`regopy_input`),
  set without the copies regoSetInput makes (`regopy_native`), its nodes made directly where the
  C extension can (`_handover.Tape`: the document walked once for all of a process's packages,
  each input built from that walk, one shared text, each distinct scalar one node).
- A large input is handed over package by package, each on an input of only its own fields,
  evaluated before the next is handed over: at 100k elements faster than one input of every
  field (keys are found sooner, and rego-cpp builds each input in the memory the last one freed)
  and a process holds one package's input at a time (a package another's input nearly covers
  shares it: `shares.joined`). rego-cpp holds about a hundred bytes per input value, several
  times that through its own input functions (`memory`): when the processes' inputs would not fit
  in the memory available side by side, fewer processes run.
"""
from __future__ import annotations

import functools
import re
import threading
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar

import regopy
from regopy import Interpreter, LogLevel, RegoError
from regopy import rego_shared as rs

from amisec.cache import memo
from amisec.forked import ChildFailed, Forked, can_fork, default_jobs
from amisec.gc_pause import gc_paused
from amisec.policies.metadata import read_blocks

from . import PolicyModule, memory, owners, regopy_cache, regopy_native, rule_values, slim
from . import shares as shares_module
from .errors import EngineError
from .rego_errors import describe
from .rule_values import RESULTS, results_module
from .regopy_input import Handover, handed_document, set_value
from .regopy_output import read_value, statement_cap_reached
from .regopy_strings import restore
from .slim import Slimmer, slimmer_for

T = TypeVar("T")
_RULES_REF = re.compile(r"\bdata\.amisec\.rules\b((?:\.[A-Za-z_][A-Za-z0-9_]*)*)")
_PACKAGE = re.compile(r"^package\s+(amisec\.rules(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*(?:#.*)?$", re.M)


def rule_packages(modules: Sequence[PolicyModule]) -> tuple[str, ...]:
    """The packages under `amisec.rules` the modules define, in first-seen order."""
    return tuple(dict.fromkeys(m.group(1) for module in modules for m in _PACKAGE.finditer(module.source)))


# Below this many devices, links and flows together a second process costs more than it saves.
PARALLEL_FROM = 500
_SIZED = ("devices", "links", "flows")


def _size(input_doc: Mapping[str, Any]) -> int:
    return sum(len(input_doc.get(key) or ()) for key in _SIZED)


# rego-cpp stops a query after 10 million statements. The built-in packages run up to about 50
# per device, link and flow (availability and topology, measured on generated plans), so from
# some 200k elements a package would be stopped however sound it is: the limit grows with the
# input, with room for plans shaped unlike the generated ones, and still stops a runaway rule.
STATEMENTS_AT_LEAST = 10_000_000
STATEMENTS_PER_ELEMENT = 200


def statement_limit(size: int) -> int:
    """The statements a query may run on an input of `size` devices, links and flows."""
    return max(STATEMENTS_AT_LEAST, STATEMENTS_PER_ELEMENT * size)


def _reaches_other_rules(module: PolicyModule) -> bool:
    """Whether a module refers to a rule package other than its own (then every process needs
    every field)."""
    own = rule_packages([module])
    for match in _RULES_REF.finditer(module.source):
        target = "amisec.rules" + match.group(1)
        if not any(target == p or target.startswith(p + ".") for p in own):
            return True
    return False


def _kept_slimmer(sources: list[str]) -> Slimmer:
    """`slimmer_for` the sources, kept in the cache: it reads every module (~0.1 s a start)."""
    code = [Path(m.__file__).read_bytes() for m in (slim, owners)]
    return memo("slimmer", [*code, *sources], lambda: slimmer_for(sources))


def _kept_results_modules(packages: Sequence[str], modules: Sequence[PolicyModule],
                          defined: Sequence[tuple[str, ...]]) -> dict[str, PolicyModule | None]:
    """Per package, its `results_module`, kept in the cache: reading every module's rule heads
    is a start's cost otherwise."""
    code = Path(rule_values.__file__).read_bytes()
    return memo("rule-values", [code, *(m.source for m in modules)], lambda: {
        p: results_module(p, [m for m, own in zip(modules, defined) if p in own]) for p in packages})


def policies_key(modules: Sequence[PolicyModule]) -> str:
    """What names these policies in the cache: their compiled bundle and their measured costs."""
    return regopy_cache.bundle_key("\n".join(_entrypoint(p) for p in rule_packages(modules)), modules)


def _entrypoint(package: str, rule: str | None = None) -> str:
    return package.replace(".", "/") + (f"/{rule}" if rule else "")


class _Session:
    """One interpreter with the policies loaded and one entrypoint per rule package built; used by
    one thread only. Each package is its own query because rego-cpp caps the statements of one
    query: a package that still reaches the cap is evaluated rule by rule."""

    def __init__(self, modules: Sequence[PolicyModule]) -> None:
        self.modules = tuple(modules)
        self.sources = {m.path: m.source for m in modules}
        self.defined = tuple(rule_packages([m]) for m in self.modules)  # per module, its packages
        self.packages = tuple(dict.fromkeys(p for packages in self.defined for p in packages))
        self.slimmer = _kept_slimmer(list(self.sources.values()))
        self._slimmers: dict[tuple[str, ...], Slimmer] = {}
        self.cross_package = any(_reaches_other_rules(m) for m in modules)
        self.timings: dict[str, float] = {}
        self.plan: list[list[tuple[str, ...]]] = []  # of the last run: per process, its groups
        self.key = policies_key(self.modules)
        self.interpreter, self.bundle, self.entrypoints = self._prepared_packages()

    def _prepared_packages(self) -> tuple[Interpreter, regopy.Bundle, dict[str, str]]:
        """The interpreter and bundle, and per package the entrypoint that gives its rules'
        values: its `__results` (`rule_values`), or the whole package should those not compile."""
        generated = _kept_results_modules(self.packages, self.modules, self.defined)
        entrypoints = {p: _entrypoint(p, RESULTS if generated[p] else None) for p in self.packages}
        try:
            return (*self._prepared(list(entrypoints.values()), [m for m in generated.values() if m]), entrypoints)
        except EngineError:
            # a rule head misread, or the policies themselves do not compile: the whole packages
            # give the same rules (with their helpers), or the error in the policies' own words
            entrypoints = {p: _entrypoint(p) for p in self.packages}
            return (*self._prepared(list(entrypoints.values())), entrypoints)

    def _prepared(self, entrypoints: Sequence[str], generated: Sequence[PolicyModule] = ()) -> tuple[Interpreter, regopy.Bundle]:
        interpreter = Interpreter()
        interpreter.log_level = LogLevel.NONE
        modules = [*self.modules, *generated]
        key = regopy_cache.bundle_key("\n".join(entrypoints), modules)
        bundle = regopy_cache.load(interpreter, key)
        if bundle is None:
            try:
                for module in modules:
                    interpreter.add_module(module.path, module.source)
                bundle = interpreter.build(None, list(entrypoints))
            except RegoError as err:
                raise EngineError("the policies do not compile", describe(str(err), self.sources)) from None
            regopy_cache.store(interpreter, bundle, key)
        return interpreter, bundle

    def run(self, input_doc: Mapping[str, Any], jobs: int, available: int | None) -> dict[str, Any]:
        """The value of `data.amisec.rules`; with `jobs` > 1 a large input is shared out between
        this process and forked ones, each handed only the fields its packages name, as many as
        fit in `available` bytes (None: no limit). The collector is paused throughout, here and in
        the forked processes: the inputs handed over and the rule results are millions of acyclic
        objects at utility scale, which collections would only rescan (100k elements: a tenth of
        the hand-over)."""
        with gc_paused():
            return self._run(input_doc, jobs, available)

    def _run(self, input_doc: Mapping[str, Any], jobs: int, available: int | None) -> dict[str, Any]:
        started = time.perf_counter()
        sizes = shares_module.field_values(input_doc)
        plan = self._plan(input_doc, jobs, sizes, memory.budget(available))
        self.plan = plan
        children = [Forked(functools.partial(self._evaluate_share, share, input_doc),
                           f"evaluating {', '.join(p for group in share for p in group)}")
                    for share in plan[1:]]
        try:
            results, seconds, handover = self._evaluate(plan[0], input_doc)
            own_handover = handover
            for child in children:
                other, other_seconds, other_handover = _outcome(child)
                results.update(other)
                seconds.update(other_seconds)
                handover = max(handover, other_handover)
        finally:
            for child in children:
                child.cancel()
        size = _size(input_doc)
        if size >= PARALLEL_FROM:  # per element, so a run of another size can use them
            needs = self.needs(sizes)
            values = sum(shares_module.share_values(group, needs, sizes) for group in plan[0])
            shares_module.record(self.key, shares_module.Costs({p: t / size for p, t in seconds.items()},
                                                               own_handover / values if values else 0.0))
        self.timings = {"handover": handover, "evaluate": time.perf_counter() - started - handover}
        value: dict[str, Any] = {}
        for package in self.packages:
            _place(value, package, results[package])
        return value

    def _plan(self, input_doc: Mapping[str, Any], jobs: int, sizes: Mapping[str, float],
              budget: float | None) -> list[list[tuple[str, ...]]]:
        """Per process, the groups of packages it hands over and evaluates (see `shares.planned`)."""
        large = _size(input_doc) >= PARALLEL_FROM
        if not large and (budget is None or sum(sizes.values()) * memory.BYTES_PER_VALUE <= budget):
            return [[self.packages]]  # the common case, decided without pricing every package
        lines = dict.fromkeys(self.packages, 0.0)
        for module, defined in zip(self.modules, self.defined):
            for package in defined:
                lines[package] += shares_module.code_lines(module.source)
        known = shares_module.costs(self.key, lines)
        if known.per_value:  # measured: seconds per element, for this many
            known = shares_module.Costs({p: t * _size(input_doc) for p, t in known.seconds.items()}, known.per_value)
        needs = self.needs(sizes)
        values = {p: shares_module.share_values((p,), needs, sizes) for p in self.packages}
        parallel = large and min(jobs, len(self.packages)) >= 2 and can_fork()
        plan = shares_module.planned(self.packages, known, jobs if parallel else 1, values, budget,
                                     memory.BYTES_PER_VALUE, memory.resident_bytes())
        if self.cross_package:  # every package is handed every field: once per process is enough
            return [[tuple(p for group in share for p in group)] for share in plan]
        return [shares_module.joined(share, lambda group: shares_module.share_values(group, needs, sizes)) for share in plan]

    def needs(self, sizes: Mapping[tuple[str, str], float]) -> dict[str, frozenset[tuple[str, str]]]:
        """Of the (top-level key, field) pairs `sizes` prices, those each rule package's process
        is handed (see `_slimmer`)."""
        return {p: frozenset(k for k in sizes if self._slimmer((p,)).keeps(*k)) for p in self.packages}

    def _evaluate(self, groups: Sequence[tuple[str, ...]], input_doc: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, float], float]:
        """Each package's result, each package's seconds, and the seconds the hand-overs took;
        each group of packages is handed its own input (rego-cpp reuses the memory of the last)."""
        results: dict[str, Any] = {}
        seconds: dict[str, float] = {}
        handover = 0.0
        # the document is walked once for every group's fields, each group's input built from that
        inputs = Handover(input_doc, [self._slimmer(packages) for packages in groups])
        for packages in groups:
            handover += self._evaluate_group(packages, inputs, results, seconds)
        return results, seconds, handover

    def _evaluate_group(self, packages: tuple[str, ...], inputs: Handover,
                        results: dict[str, Any], seconds: dict[str, float]) -> float:
        """Hand over the fields these packages name, evaluate them into `results` and `seconds`;
        the seconds the hand-over took."""
        started = time.perf_counter()
        slimmer = self._slimmer(packages)
        input_doc = inputs.doc
        # the last group's input is let go first, or both are held while this one is built
        self._set_input(self.interpreter, lambda impl: set_value(impl, {}))
        protected = self._set_input(self.interpreter, lambda impl: inputs.set(impl, slimmer))
        handover = time.perf_counter() - started
        limit = statement_limit(_size(input_doc))
        regopy_native.set_statement_limit(self.interpreter._impl, limit)
        for package in packages:
            began = time.perf_counter()
            try:
                result = self._query(self.interpreter, self.bundle, self.entrypoints[package])
            except EngineError as err:
                # too large for one query, or one rule errs: rule by rule finds and names it
                result = self._rule_by_rule(package, handed_document(input_doc, slimmer, protected), limit, err)
            results[package] = restore(result) if protected else result
            seconds[package] = time.perf_counter() - began
        return handover

    def _evaluate_share(self, groups: Sequence[tuple[str, ...]], input_doc: Mapping[str, Any]) -> tuple[str, Any]:
        """`_evaluate` in a forked child: an EngineError comes back whole, as a value."""
        try:
            return "ok", self._evaluate(groups, input_doc)
        except EngineError as err:
            return "error", (err.message, err.problems)

    def _slimmer(self, packages: tuple[str, ...]) -> Slimmer:
        """A slimmer keeping the fields named by these packages and by every module that is not a
        rule package (shared helpers); all fields when a module reaches into another rule package."""
        if packages == self.packages or self.cross_package:
            return self.slimmer
        if packages not in self._slimmers:
            chosen = [m.source for m, defined in zip(self.modules, self.defined)
                      if not defined or set(defined) & set(packages)]
            self._slimmers[packages] = _kept_slimmer(chosen)
        return self._slimmers[packages]

    @staticmethod
    def _set_input(interpreter: Interpreter, setter: Callable[[int], T]) -> T:
        """What `setter`, given the interpreter's address, returns as it sets the input."""
        try:
            return setter(interpreter._impl)
        except RegoError as err:
            raise EngineError("the engine refused the input", (str(err),)) from None

    def _query(self, interpreter: Interpreter, bundle: regopy.Bundle, entrypoint: str) -> Any:
        name = entrypoint.removesuffix("/" + RESULTS).replace("/", ".")
        try:
            output = rs.rego_bundle_query_entrypoint(interpreter._impl, bundle._impl, entrypoint)
        except RegoError as err:
            raise EngineError(f"evaluating {name} failed", describe(str(err), self.sources)) from None
        try:
            return read_value(output, name)
        finally:
            rs.rego_free_output(output)

    def _rule_by_rule(self, package: str, doc: Mapping[str, Any], limit: int, failure: EngineError) -> dict[str, Any]:
        """A package whose query failed: each of its rules as a query of its own, so a rule that
        errs or is too large for the engine is named."""
        blocks = [b for m in self.modules for b in read_blocks(m.source, m.path)[1] if b.package == package]
        if not blocks:
            raise failure
        interpreter, bundle = self._prepared([_entrypoint(package, b.name) for b in blocks])
        self._set_input(interpreter, lambda impl: set_value(impl, doc))  # strings already safe
        regopy_native.set_statement_limit(interpreter._impl, limit)
        out = {}
        for block in blocks:
            try:
                out[block.name] = self._query(interpreter, bundle, _entrypoint(package, block.name))
            except EngineError as err:
                rule_id = (block.fields.get("custom") or {}).get("id", "")
                where = f"rule {rule_id} ({package}.{block.name}, {block.path}:{block.line})"
                if statement_cap_reached(err):
                    raise EngineError(f"{where} reached the embedded engine's limit of statements per query",
                                      ("the deployment is too large for the embedded engine: evaluate it with --engine opa",)) from None
                raise EngineError(f"{where} failed to evaluate", err.problems) from None
        return out


def _outcome(child: Forked) -> Any:
    """A forked share's result, or its failure as an EngineError."""
    try:
        outcome, value = child.result()
    except ChildFailed as err:
        raise EngineError(str(err), ("run with --jobs 1 to evaluate in one process",)) from None
    if outcome == "error":
        raise EngineError(*value)
    return value


def _place(value: dict[str, Any], package: str, result: Any) -> None:
    """Put a package's result where `data.amisec.rules` would have it."""
    path = package.split(".")[2:]
    node = value
    for part in path[:-1]:
        node = node.setdefault(part, {})
    node[path[-1]] = result


class EmbeddedEngine:
    """Evaluates the policies with regopy, in this process and, for a large input, in forked ones
    (`jobs`, default `default_jobs()`), as many and handed as much at once as the memory available
    allows (`memory_bytes`, default: what the machine has left); safe to call from several threads."""

    name = "embedded"
    version = f"regopy {regopy.__version__}"

    def __init__(self, modules: Sequence[PolicyModule], jobs: int | None = None, memory_bytes: int | None = None) -> None:
        if not modules:
            raise EngineError("no policy modules to evaluate")
        self._modules = tuple(modules)
        self.jobs = jobs or default_jobs()
        self.memory_bytes = memory_bytes  # available to evaluation; None: what the machine has left
        self._local = threading.local()
        self.timings: dict[str, float] = {}  # seconds of the last evaluation, by stage (benchmarks)
        self.plan: list[list[tuple[str, ...]]] = []  # of the last evaluation: per process, its groups

    def _session(self) -> _Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = _Session(self._modules)
        return session

    def prepare(self) -> None:
        """Load and compile the policies now (in this thread) rather than on first use."""
        self._session()

    def evaluate(self, input_doc: Mapping[str, Any]) -> dict:
        """The value of `data.amisec.rules` for this input, as plain Python values."""
        session = self._session()
        available = self.memory_bytes if self.memory_bytes is not None else memory.available_bytes()
        value = session.run(input_doc, self.jobs, available)
        self.timings = session.timings
        self.plan = session.plan
        if not isinstance(value, dict):
            raise EngineError(f"data.amisec.rules is a {type(value).__name__}, not an object of rule families")
        return value
