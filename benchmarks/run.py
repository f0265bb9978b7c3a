"""Benchmark runner: per-stage times and peak memory of `amisec check` on generated deployments.

    python -m benchmarks.run                      # sizes 1000 10000, 5 runs each
    python -m benchmarks.run --sizes 1000 10000 100000 --runs 5
    python -m benchmarks.run --jobs 1             # parse and evaluate in one process
    python -m benchmarks.run --memory 2000        # run as in a machine or container of 2000 MB
    python -m benchmarks.run --startup            # cold `amisec check deployments/riverside.ami`
    python -m benchmarks.run --opa [BINARY]       # also OPA's evaluation of the same input (`opa eval`)
    python -m benchmarks.run --sizes 10000 --save-costs   # refresh the shipped cost profile

Stages: read the file; parse it into the model (in pieces, on `--jobs` processes); compile it
(resolve references, emit the input document); validate the input against the schema; hand it over
to the embedded engine; evaluate (on `--jobs` processes, fewer, or in groups of packages handed
over one after another when the memory available would not hold the inputs: the `plan` column says
processes × most groups in one); render (join the engine's results into the report, write it as
table and JSON); a second table holds the parts of compile and render. Each run is a fresh process
with the garbage collector as the `amisec` program has it, so memory and caches are per run, and
the sizes take turns (a run of each, then the next run of each), so a machine slower for a while
slows every size alike. `peak MB` is the most anonymous
memory the machine had in use during the run beyond what it had before (sampled: a page a forked
child shares with its parent counts once; run the benchmark on an otherwise idle machine); `RSS sum
MB`, the parent's and its largest child's maximum resident sizes added, counts shared pages twice.
The table shows the median of the runs per stage, their sum (`stages s`), the run's whole wall time
with start-up, imports and loading the policies (`wall s`, what `amisec check` costs end to end)
and the stages amisec does when OPA evaluates (`amisec side s`: all but the hand-over and
evaluation). With `--opa`, the same compiled input and policies are also evaluated by `opa eval
--metrics` (an `opa` binary on PATH, or the one named): OPA's own query evaluation time, the whole
command's wall time, the embedded engine's evaluation as a multiple of OPA's, and whether both
engines gave the same rule results. With `--save-costs`, the median of what each run of the largest
size recorded (each package's seconds, the hand-over's seconds per value) becomes the profile that
balances a first run on a machine with no costs of its own (`engine/measured_costs.json`). Last,
a reading of the machine's speed before and after the runs (`sum(range(10**8))`), so that figures
taken on different days can be told apart. Figures come from runs, never from assertions in the
test suite.
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # imported where used: the runner starts before amisec is loaded
    from amisec.engine.shares import Costs

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
_SPLIT = tuple((stage, part) for stage, parts in PARTS_OF.items() if len(parts) > 1 for part in parts)
SPLIT_PARTS = tuple(part for _, part in _SPLIT)
# What amisec itself does when another engine (`--engine opa`) evaluates: every stage but the
# embedded engine's hand-over and evaluation.
AMISEC_SIDE = tuple(s for s in STAGES if s not in ("handover", "evaluate"))
ROOT = Path(__file__).resolve().parent.parent


def measure(path: str, jobs: int | None = None, memory_mb: int | None = None, opa: str | None = None) -> dict[str, float]:
    """One run of every stage on one file (called in a fresh process by `main`)."""
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


def memory_in_use() -> int:
    """Bytes of anonymous memory (heaps, engine inputs; a page shared by forked processes once)
    the machine has in use, where Linux says (`AnonPages`); elsewhere total less available."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("AnonPages:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import psutil

    memory = psutil.virtual_memory()
    return memory.total - memory.available


class PeakMemory:
    """The most memory in use (`memory_in_use`) beyond what was in use when sampling began,
    sampled every `every` seconds in a thread: what a run of processes takes, a page a forked
    child shares with its parent counted once, as the machine holds it. One read of the kernel's
    counters per sample, so it does not slow the run it measures, as reading every process's page
    tables for proportional set sizes did (11 s of CPU in a 30 s run at 100k elements); it counts
    whatever else runs too, so benchmark an otherwise idle machine."""

    def __init__(self, every: float = 0.05) -> None:
        self._every, self._base = every, memory_in_use()
        self._done = threading.Event()
        self.peak = 0
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, memory_in_use() - self._base)
            self._done.wait(self._every)

    def stop(self) -> int:
        """Stop sampling; the peak in bytes."""
        self._done.set()
        self._thread.join()
        return self.peak


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


def _one_run(path: str, jobs: int | None, memory_mb: int | None, opa: str | None = None) -> dict[str, float]:
    extra = (["--jobs", str(jobs)] if jobs else []) + (["--memory", str(memory_mb)] if memory_mb else [])
    extra += ["--opa", opa] if opa else []
    started = time.perf_counter()
    sampler = PeakMemory()
    with subprocess.Popen([sys.executable, "-m", "benchmarks.run", "--measure", path, *extra], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as run:
        out, err = run.communicate()
        wall = time.perf_counter() - started
        peak = sampler.stop()
    if run.returncode:
        sys.exit(f"the run on {path} failed (exit code {run.returncode}):\n{err.rstrip()}")
    row = json.loads(out.strip().splitlines()[-1])
    row["peak_mb"] = peak / 2**20
    # the whole process, as a user's `amisec check` would take it: start-up, imports, loading the
    # policies and every stage; OPA's evaluation, when asked for, is not amisec's time
    row["wall"] = wall - row.get("opa_wall", 0.0)
    return row


def _recorded_costs() -> Costs | None:
    """The costs the last run recorded for the built-in policies (None if it recorded none)."""
    from amisec.engine import shares
    from amisec.engine.embedded import policies_key
    from amisec.policies.catalog import load_catalog

    return shares.saved(policies_key(load_catalog().files))


def median_costs(recorded: list[Costs]) -> Costs:
    """Per package and for the hand-over, the median of several runs' costs."""
    from amisec.engine.shares import Costs

    packages = recorded[0].seconds
    return Costs({p: statistics.median(c.seconds[p] for c in recorded) for p in packages},
                 statistics.median(c.per_value for c in recorded))


def _table(rows: list[dict[str, float]]) -> str:
    from tabulate import tabulate

    headers = ["elements", *STAGES, "stages s", "wall s", "amisec side s", "peak MB", "RSS sum MB", "plan"]
    body = [[int(r["elements"]), *(f"{r[s]:.2f}" for s in STAGES), f"{sum(r[s] for s in STAGES):.2f}",
             f"{r['wall']:.2f}" if "wall" in r else "-", f"{sum(r[s] for s in AMISEC_SIDE):.2f}",
             f"{r['peak_mb']:.0f}" if "peak_mb" in r else "-", f"{r['rss_sum_mb']:.0f}",
             f"{r['processes']:.0f}×{r['groups']:.0f}"]
            for r in rows]
    if all("opa_evaluate" in r for r in rows):
        headers += ["opa eval", "opa wall", "eval ÷ opa", "same results"]
        for line, r in zip(body, rows):
            line += [f"{r['opa_evaluate']:.2f}", f"{r['opa_wall']:.2f}",
                     f"{r['evaluate'] / r['opa_evaluate']:.1f}" if r["opa_evaluate"] else "-",
                     "yes" if r["opa_same"] == 1.0 else "NO"]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True, stralign="right")


def _parts_table(rows: list[dict[str, float]]) -> str:
    """The parts of the stages timed in parts (compile: resolve, emit; render: results, write)."""
    from tabulate import tabulate

    headers = ["elements", *(f"{stage}: {part}" for stage, part in _SPLIT)]
    body = [[int(r["elements"]), *(f"{r[p]:.2f}" for p in SPLIT_PARTS)] for r in rows]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True, stralign="right")


def _ratios(first: dict[str, float], last: dict[str, float], names: tuple[str, ...]) -> str:
    """t(last) / t(first) of each name, but of times too short to divide (under 5 ms)."""
    return ", ".join(f"{n} {last[n] / first[n]:.1f}" for n in names if first[n] > 0.005)


# What amisec is held to (on a 2-core machine): the wall seconds end to end of a typical
# deployment cold and of generated ones of 10k and 100k elements, the amisec side at 100k, the peak
# memory at 100k, the growth of each stage from 10k to 100k, and evaluation beside OPA's.
STARTUP_S = 0.5
WALL_S = {10_000: 5.0, 100_000: 30.0}
AMISEC_SIDE_S = 15.0
PEAK_MB = 2048.0
GROWTH = 12.0
OPA_TIMES = 3.0


def targets(by_size: dict[int, dict[str, float]]) -> list[str]:
    """Each target the medians of these sizes (generated with these element counts) can judge:
    what it asks, the figure, and whether it is met."""
    verdicts: list[str] = []

    def judge(what: str, figure: float, limit: float, unit: str) -> None:
        shown = f"{figure:,.0f}" if unit == " MB" else f"{figure:.2f}" if unit == " s" else f"{figure:.1f}"
        verdicts.append(f"{what} ≤ {limit:,g}{unit}: {shown}{unit}, {'met' if figure <= limit else 'MISSED'}")

    for size, limit in WALL_S.items():
        if size in by_size:
            judge(f"{size:,} elements end to end", by_size[size]["wall"], limit, " s")
    large = by_size.get(100_000)
    if large:
        judge("100,000 elements, amisec side", sum(large[s] for s in AMISEC_SIDE), AMISEC_SIDE_S, " s")
        judge("100,000 elements, peak memory", large["peak_mb"], PEAK_MB, " MB")
    small = by_size.get(10_000)
    if small and large:
        growth = {s: large[s] / small[s] for s in STAGES if small[s] > 0.005}
        worst = max(growth, key=growth.__getitem__)
        judge(f"t(100,000) / t(10,000) of each stage (the most: {worst})", growth[worst], GROWTH, "×")
    for size, row in by_size.items():
        if row.get("opa_evaluate"):
            judge(f"{size:,} elements, evaluation as a multiple of OPA's", row["evaluate"] / row["opa_evaluate"], OPA_TIMES, "×")
    return verdicts


# How fast this machine runs Python today: the seconds of `sum(range(10**8))`, 1.7 on the 2-core
# machine the figures in the README were first taken on. A shared machine's speed drifts by a
# third within hours; a reading beside the figures says how far.
REFERENCE_S = 1.7


def machine_reading() -> float:
    """Seconds this process takes for `sum(range(10**8))`."""
    started = time.perf_counter()
    sum(range(10**8))
    return time.perf_counter() - started


def reading_line(before: float, after: float) -> str:
    """What the machine readings around the runs say."""
    return (f"machine: sum(range(10**8)) took {before:.2f} s before the runs and {after:.2f} s after "
            f"({REFERENCE_S} s where the README's first figures were taken; more is a slower or busier machine)")


def startup(runs: int) -> None:
    """Median wall time of a cold `amisec check` on riverside, the price of a pre-commit hook."""
    cmd = [sys.executable, "-m", "amisec.cli", "check", "deployments/riverside.ami", "-f", "lines"]
    subprocess.run(cmd, cwd=ROOT, capture_output=True)  # the first run fills the cache
    walls = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, capture_output=True)
        walls.append(time.perf_counter() - started)
    median = statistics.median(walls)
    print(f"cold `amisec check deployments/riverside.ami`: median {median:.3f} s over {runs} runs "
          f"(min {min(walls):.3f}, max {max(walls):.3f}); target ≤ {STARTUP_S} s: {'met' if median <= STARTUP_S else 'MISSED'}")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("(PYTHONDONTWRITEBYTECODE is set: Python compiles every module it imports on each start)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--jobs", type=int, help="processes to parse and evaluate in (default: the CPUs available, at most 4)")
    ap.add_argument("--memory", type=int, metavar="MB",
                    help="plan evaluation as in a machine or container of this many MB (default: what the machine has left)")
    ap.add_argument("--startup", action="store_true")
    ap.add_argument("--opa", nargs="?", const="opa", metavar="BINARY",
                    help="also time `opa eval` of the same input and policies (default binary: opa on PATH)")
    ap.add_argument("--save-costs", action="store_true",
                    help="write the median costs the runs of the largest size recorded as the profile "
                         "that balances a first run (engine/measured_costs.json)")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.save_costs and os.environ.get("AMISEC_NO_CACHE", "").strip() not in ("", "0"):
        ap.error("--save-costs reads the costs each run records in the cache: unset AMISEC_NO_CACHE")
    if args.opa and shutil.which(args.opa) is None:
        ap.error(f"--opa: no binary {args.opa!r} (install Open Policy Agent, or name its path)")
    if args.measure:
        from amisec.gc_pause import freeze_after_bulk_work

        # the collector as the `amisec` program has it (`cli.run`): paused in bulk work (parse,
        # emit, hand-over, joining results, a forked process's value), what that leaves frozen
        freeze_after_bulk_work()
        print(json.dumps(measure(args.measure, args.jobs, args.memory, args.opa)), flush=True)
        os._exit(0)  # as `amisec` ends: without tearing down the engine's input (`cli.run`)
    if args.startup:
        startup(args.runs)
        return
    from benchmarks.generate import generate

    recorded = []
    before = machine_reading()
    runs: dict[int, list[dict[str, float]]] = {size: [] for size in args.sizes}
    with tempfile.TemporaryDirectory() as tmp:
        paths = {size: os.path.join(tmp, f"synthetic-{size}.ami") for size in args.sizes}
        for size, path in paths.items():
            Path(path).write_text(generate(size), encoding="utf-8")
        # the sizes take turns, so that a machine slower for a while slows each of them alike
        # and the ratios between sizes stay what the code makes them
        for turn in range(args.runs):
            for size, path in paths.items():
                runs[size].append(_one_run(path, args.jobs, args.memory, args.opa))
                if args.save_costs and size == max(args.sizes):
                    recorded.append(_recorded_costs())
            print(f"run {turn + 1} of {args.runs} done for every size", file=sys.stderr)
    after = machine_reading()
    by_size = {size: {k: statistics.median(r[k] for r in of_size) for k in of_size[0]} for size, of_size in runs.items()}
    rows = list(by_size.values())
    print(_table(rows))
    print(f"\nparts of compile and render:\n{_parts_table(rows)}")
    if args.save_costs:
        _save_costs(recorded)
    if len(rows) > 1:
        first, last = rows[0], rows[-1]
        print(f"\nt({int(last['elements'])}) / t({int(first['elements'])}), size ratio "
              f"{last['elements'] / first['elements']:.0f}: per stage {_ratios(first, last, STAGES)}; "
              f"parts {_ratios(first, last, SPLIT_PARTS)}")
    verdicts = targets(by_size)
    if verdicts:
        print("\ntargets (on a 2-core machine):\n" + "\n".join(f"- {line}" for line in verdicts))
    print(f"\n{reading_line(before, after)}")


def _save_costs(recorded: list[Costs | None]) -> None:
    from amisec.engine import shares

    if not recorded or None in recorded:
        sys.exit("--save-costs: a run recorded no costs (a plan under the size that is shared out, "
                 "or a cache folder amisec does not trust)")
    shares.write_profile(shares.SHIPPED, median_costs(recorded))
    print(f"\ncosts of {len(recorded)} runs (medians) written to {shares.SHIPPED}")


if __name__ == "__main__":
    main()
