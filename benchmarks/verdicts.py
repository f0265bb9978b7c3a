"""The benchmark's figures as tables, and the performance targets judged against them."""
from __future__ import annotations

from .stages import AMISEC_SIDE, SPLIT, SPLIT_PARTS, STAGES


def table(rows: list[dict[str, float]]) -> str:
    """Per size, the median of each stage, their sum, the wall time, the amisec side, the memory
    and the plan; OPA's figures beside them when every row has them."""
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


def parts_table(rows: list[dict[str, float]]) -> str:
    """The parts of the stages timed in parts (compile: resolve, emit; render: results, write)."""
    from tabulate import tabulate

    headers = ["elements", *(f"{stage}: {part}" for stage, part in SPLIT)]
    body = [[int(r["elements"]), *(f"{r[p]:.2f}" for p in SPLIT_PARTS)] for r in rows]
    return tabulate(body, headers=headers, tablefmt="github", disable_numparse=True, stralign="right")


def ratios(first: dict[str, float], last: dict[str, float], names: tuple[str, ...]) -> str:
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
