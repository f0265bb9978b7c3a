"""One run of every stage of `amisec check` on one file, timed as the benchmark runner reports it,
and OPA's evaluation of the same compiled input and policies beside it."""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Callable

# Each stage of `amisec check` and the parts of it that are timed apart.
PARTS_OF = {
    "read": ("read",),
    "parse": ("parse",),
    "compile": ("resolve", "emit"),
    "validate": ("validate",),
    "handover": ("handover",),
    "evaluate": ("evaluate",),
    "render": ("results", "write"),
}
STAGES = tuple(PARTS_OF)
SPLIT = tuple((stage, part) for stage, parts in PARTS_OF.items() if len(parts) > 1 for part in parts)
SPLIT_PARTS = tuple(part for _, part in SPLIT)
# What amisec itself does when another engine (`--engine opa`) evaluates: every stage but the
# embedded engine's hand-over and evaluation.
AMISEC_SIDE = tuple(s for s in STAGES if s not in ("handover", "evaluate"))


def measure(path: str, jobs: int | None = None, memory_mb: int | None = None, opa: str | None = None) -> dict[str, float]:
    """One run of every stage on one file (called in a fresh process by `benchmarks.run`)."""
    import io
    import resource

    from amisec.compiler import compile_source, element_count, source
    from amisec.engine import get_engine
    from amisec.gc_pause import gc_paused
    from amisec.engine.memory import resident_bytes
    from amisec.policies.catalog import load_catalog
    from amisec.report import FORMATS
    from amisec.results.evaluate import evaluate_deployment
    from amisec.runner import controls_for

    times: dict[str, float] = {}

    def stage(name: str, fn, *args):
        started = time.perf_counter()
        value = fn(*args)
        times[name] = time.perf_counter() - started
        print(f"{name} {times[name]:.2f}s", file=sys.stderr, flush=True)  # a late failure keeps the rest
        return value

    src = stage("read", source.read, path)
    compiled: dict[str, float] = {}
    doc = compile_source(src, jobs=jobs, timings=compiled)  # as `amisec check` compiles it
    times.update(compiled)
    for name in ("parse", "resolve", "emit", "validate"):
        print(f"{name} {times[name]:.2f}s", file=sys.stderr, flush=True)
    catalog = load_catalog()
    # `--memory` as a machine or container of that size: evaluation may use what this process
    # does not hold already, as amisec reads it off a container's limit and usage
    left = max(0, memory_mb * 2**20 - resident_bytes()) if memory_mb else None
    engine = get_engine("embedded", modules=catalog.files, jobs=jobs, memory_bytes=left)
    engine.prepare()
    raw = engine.evaluate(doc)
    times.update(engine.timings)
    times["processes"] = len(engine.plan)
    times["groups"] = max(len(share) for share in engine.plan)

    def results():
        with gc_paused():  # as `amisec check` joins them (runner._judged)
            return evaluate_deployment(catalog.rules, doc, raw, controls=controls_for(doc["deployment"]["standards"]))

    report = stage("results", results)

    def write():
        from amisec.results.model import Report

        whole = Report("bench", engine.name, engine.version, catalog.digest, "1970-01-01T00:00:00Z", (report,))
        for fmt in ("table", "json"):
            FORMATS[fmt].render(whole, io.StringIO())

    stage("write", write)
    times.update({name: sum(times[part] for part in parts) for name, parts in PARTS_OF.items()})
    if opa:
        judge = functools.partial(evaluate_deployment, catalog.rules, doc,
                                  controls=controls_for(doc["deployment"]["standards"]))
        times.update(opa_evaluation(opa, catalog.files, doc, lambda other: judge(other).results == report.results))
    times["elements"] = element_count(doc)
    # an upper bound: pages a forked child shares with this process count in both
    times["rss_sum_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
                           + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return times


def opa_evaluation(binary: str, modules: list, doc: dict, same: Callable[[dict], bool]) -> dict[str, float]:
    """`opa eval --metrics` of the same input and policies: OPA's query evaluation seconds (its
    `timer_rego_query_eval_ns`; the whole command's when it reports none), the command's wall
    seconds, and 1.0 when `same` finds OPA's raw output judged as the embedded engine's was
    (0.0 otherwise)."""
    from amisec.engine.bundle import standards_data, write_bundle
    from amisec.engine.opa_cli import eval_command, read_eval_output

    with tempfile.TemporaryDirectory() as tmp:
        bundle, input_file = os.path.join(tmp, "bundle.tar.gz"), os.path.join(tmp, "input.json")
        write_bundle(bundle, modules, standards_data())
        with open(input_file, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False)
        started = time.perf_counter()
        done = subprocess.run(eval_command(binary, bundle, input_file, metrics=True),
                              capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
    value = read_eval_output(done.stdout, done.stderr, done.returncode, {})
    metrics = json.loads(done.stdout).get("metrics") or {}
    evaluated = metrics.get("timer_rego_query_eval_ns")
    return {"opa_evaluate": evaluated / 1e9 if isinstance(evaluated, (int, float)) else wall,
            "opa_wall": wall, "opa_same": float(same(value))}
