"""Graph facts the policies need but the engine cannot compute fast: reachability of head ends,
the devices every path to a head end goes through, and the links a flow travels."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from .model import Model


@dataclass(frozen=True)
class HeadEndFacts:
    reaches: list[bool]
    hops: list[int | None]
    cut: list[list[int]]


def adjacency(n_devices: int, ends: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Undirected adjacency: for each device, (neighbour, link index) pairs. Data travels both ways."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n_devices)]
    for li, (a, b) in enumerate(ends):
        if a < 0 or b < 0:
            continue
        adj[a].append((b, li))
        if b != a:
            adj[b].append((a, li))
    return adj


def head_end_facts(adj: list[list[tuple[int, int]]], head_ends: list[int]) -> HeadEndFacts:
    """Hops to the nearest head end and the articulation points between each device and all head ends."""
    n = len(adj)
    hops: list[int | None] = [None] * n
    queue = deque(head_ends)
    for h in head_ends:
        hops[h] = 0
    while queue:
        u = queue.popleft()
        for w, _ in adj[u]:
            if hops[w] is None:
                hops[w] = hops[u] + 1  # type: ignore[operator]
                queue.append(w)
    return HeadEndFacts([h is not None for h in hops], hops, _cuts_to_head_ends(adj, head_ends))


def _cuts_to_head_ends(adj: list[list[tuple[int, int]]], head_ends: list[int]) -> list[list[int]]:
    """Tarjan's DFS from a virtual root joined to every head end: an ancestor p of v separates v from
    the root exactly when low[child of p towards v] >= disc[p]."""
    n = len(adj)
    root = n
    disc = [-1] * (n + 1)
    low = [0] * (n + 1)
    parent = [-1] * (n + 1)
    order: list[int] = []
    head_set = set(head_ends)

    def neighbours(u: int) -> list[int]:
        if u == root:
            return list(head_ends)
        return [w for w, _ in adj[u]] + ([root] if u in head_set else [])

    disc[root] = low[root] = 0
    counter = 1
    stack = [(root, iter(neighbours(root)))]
    while stack:
        u, it = stack[-1]
        advanced = False
        for w in it:
            if disc[w] == -1:
                disc[w] = low[w] = counter
                counter += 1
                parent[w] = u
                order.append(w)
                stack.append((w, iter(neighbours(w))))
                advanced = True
                break
            if w != parent[u]:
                low[u] = min(low[u], disc[w])
        if not advanced:
            stack.pop()
            if stack:
                p = stack[-1][0]
                low[p] = min(low[p], low[u])
    cut: list[list[int]] = [[] for _ in range(n)]
    for v in order:  # preorder: a parent's list is ready before its children's
        p = parent[v]
        if p == root:
            continue
        cut[v] = cut[p] + [p] if low[v] >= disc[p] else cut[p]
    return cut


def flow_paths(model: Model, adj: list[list[tuple[int, int]]], carries: list[set[str]], endpoints: list[tuple[int, int]]) -> list[list[int]]:
    """For each flow (given as source/target device indexes), the links of a shortest path over links
    that carry its data class; [] when there is none. One search per (data class, source)."""
    cache: dict[tuple[str, int], list[tuple[int, int] | None]] = {}
    paths: list[list[int]] = []
    for flow, (src, dst) in zip(model.flows, endpoints):
        if src < 0 or dst < 0:
            paths.append([])
            continue
        key = (flow.data, src)
        if key not in cache:
            cache[key] = _search(adj, carries, flow.data, src)
        paths.append(_walk_back(cache[key], src, dst))
    return paths


def _search(adj: list[list[tuple[int, int]]], carries: list[set[str]], data: str, src: int) -> list[tuple[int, int] | None]:
    came: list[tuple[int, int] | None] = [None] * len(adj)
    seen = [False] * len(adj)
    seen[src] = True
    queue = deque([src])
    while queue:
        u = queue.popleft()
        for w, li in adj[u]:
            if not seen[w] and data in carries[li]:
                seen[w] = True
                came[w] = (u, li)
                queue.append(w)
    return came


def _walk_back(came: list[tuple[int, int] | None], src: int, dst: int) -> list[int]:
    if src == dst:
        return []
    path: list[int] = []
    node = dst
    while node != src:
        step = came[node]
        if step is None:
            return []
        node, li = step
        path.append(li)
    path.reverse()
    return path
