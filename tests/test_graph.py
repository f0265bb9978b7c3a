"""Graph facts the compiler prepares for the availability rules: which devices reach a head end, in
how many hops, which devices lie on every path to one (`head_end_cut`), and the links a flow
travels. Hand-built topologies pin the meaning; a property test compares the fast algorithms with
brute force on random graphs."""
from __future__ import annotations

from collections import deque
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from amisec.compiler import compile_text
from amisec.compiler.graph import adjacency, flow_paths, head_end_facts


def facts(n: int, edges: list[tuple[int, int]], head_ends: list[int]):
    return head_end_facts(adjacency(n, edges), head_ends)


# --- hand-built topologies ---------------------------------------------------------------------
def test_chain_has_every_intermediate_device_in_the_cut() -> None:
    # meter 0 - relay 1 - relay 2 - collector 3 - head end 4
    f = facts(5, [(0, 1), (1, 2), (2, 3), (3, 4)], [4])
    assert sorted(f.cut[0]) == [1, 2, 3, 4]
    assert sorted(f.cut[2]) == [3, 4]
    assert f.hops == [4, 3, 2, 1, 0]
    assert f.reaches == [True] * 5
    assert f.cut[4] == []


def test_ring_with_two_head_ends_has_no_cut_vertices() -> None:
    # head end 0 - a 1 - b 2 - head end 3 - c 4 - back to head end 0
    f = facts(5, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 0)], [0, 3])
    assert f.cut == [[], [], [], [], []]
    assert f.hops == [0, 1, 1, 0, 1]


def test_ring_with_one_head_end_only_cuts_at_the_head_end() -> None:
    # The ring around the single head end 0 is redundant; only the head end itself remains.
    f = facts(4, [(0, 1), (1, 2), (2, 3), (3, 0)], [0])
    assert [sorted(c) for c in f.cut] == [[], [0], [0], [0]]
    assert f.hops == [0, 1, 2, 1]


def test_spur_off_a_ring_cuts_at_its_attachment_point() -> None:
    # head ends 0 and 1 joined through a ring 0-2-1-3-0; meter 4 hangs off 2 through 5.
    f = facts(6, [(0, 2), (2, 1), (1, 3), (3, 0), (4, 5), (5, 2)], [0, 1])
    assert sorted(f.cut[4]) == [2, 5]
    assert f.cut[5] == [2]
    assert f.cut[2] == [] and f.cut[3] == []
    assert f.hops[4] == 3


def test_two_disjoint_routes_to_two_head_ends() -> None:
    # meter 0 reaches head end 3 via 1 and head end 4 via 2: nothing is on every path.
    f = facts(5, [(0, 1), (1, 3), (0, 2), (2, 4)], [3, 4])
    assert f.cut[0] == []
    assert f.cut[1] == [] and f.cut[2] == []


def test_unreachable_devices() -> None:
    # 0 - 1 - head end 2; 3 - 4 are an island; 5 has no link at all.
    f = facts(6, [(0, 1), (1, 2), (3, 4)], [2])
    assert f.reaches == [True, True, True, False, False, False]
    assert f.hops[3:] == [None, None, None]
    assert f.cut[3:] == [[], [], []]


def test_no_head_end_at_all() -> None:
    f = facts(3, [(0, 1), (1, 2)], [])
    assert f.reaches == [False, False, False]
    assert f.hops == [None, None, None]
    assert f.cut == [[], [], []]


def test_links_with_unresolved_ends_and_self_loops_are_ignored() -> None:
    adj = adjacency(3, [(0, -1), (1, 1), (1, 2)])
    assert adj == [[], [(1, 1), (2, 2)], [(1, 2)]]


def test_compiled_devices_carry_the_graph_facts() -> None:
    doc = compile_text(
        """deployment "G" { utility u }
party u : utility
domain f : utility_edge
domain c : communication
domain h : automated_network
device m : meter x 10 in f
device relay : aggregator in c
device he : head_end in h
device lonely : meter in f
link a : m -> relay
link b : relay -> he
""",
        "g.ami",
    )
    by_id = {d["id"]: d for d in doc["devices"]}
    assert (by_id["m"]["reaches_head_end"], by_id["m"]["head_end_hops"], sorted(by_id["m"]["head_end_cut"])) == (True, 2, [1, 2])
    assert (by_id["he"]["reaches_head_end"], by_id["he"]["head_end_hops"], by_id["he"]["head_end_cut"]) == (True, 0, [])
    assert (by_id["lonely"]["reaches_head_end"], by_id["lonely"]["head_end_hops"], by_id["lonely"]["head_end_cut"]) == (False, None, [])
    assert (by_id["relay"]["link_count"], by_id["lonely"]["link_count"]) == (2, 0)


# --- flow paths --------------------------------------------------------------------------------
def paths(n: int, links: list[tuple[int, int, set[str]]], flows: list[tuple[str, int, int]]) -> list[list[int]]:
    adj = adjacency(n, [(a, b) for a, b, _ in links])
    model = SimpleNamespace(flows=[SimpleNamespace(data=d) for d, _, _ in flows])
    return flow_paths(model, adj, [c for _, _, c in links], [(s, t) for _, s, t in flows])  # type: ignore[arg-type]


def test_flow_takes_the_shortest_path_over_links_that_carry_its_data() -> None:
    # 0 -l0- 1 -l1- 2 is short but l1 does not carry dr_signal; the long way is 0 -l2- 3 -l3- 4 -l4- 2.
    links = [(0, 1, {"dr_signal"}), (1, 2, {"meter_reads"}), (0, 3, {"dr_signal"}), (3, 4, {"dr_signal"}), (4, 2, {"dr_signal"})]
    assert paths(5, links, [("dr_signal", 0, 2), ("meter_reads", 1, 2), ("meter_reads", 0, 2)]) == [[2, 3, 4], [1], []]


def test_flow_paths_ignore_link_direction() -> None:
    # Links are written a -> b, but carried data travels both ways.
    links = [(1, 0, {"usage_data"}), (2, 1, {"usage_data"})]
    assert paths(3, links, [("usage_data", 0, 2), ("usage_data", 2, 0)]) == [[0, 1], [1, 0]]


def test_flow_paths_for_many_flows_from_one_source() -> None:
    links = [(0, 1, {"x"}), (1, 2, {"x"}), (1, 3, {"x"}), (3, 4, {"y"})]
    assert paths(5, links, [("x", 0, 2), ("x", 0, 3), ("x", 0, 4), ("x", 0, 0), ("y", 3, 4)]) == [[0, 1], [0, 2], [], [], [3]]


def test_compiled_flow_path_and_latency() -> None:
    doc = compile_text(
        """deployment "G" { utility u }
party u : utility
domain f : utility_edge
domain h : automated_network
device m : meter in f
device c : aggregator in f
device he : head_end in h
link slow : he -> m { carries dr_signal; latency 2m }
link hop1 : he -> c { carries dr_signal; latency 5s }
link hop2 : c -> m { carries dr_signal }
flow dr : dr_signal from he to m
flow reads : meter_reads from m to he
""",
        "g.ami",
    )
    dr, reads = doc["flows"]
    assert (dr["path"], dr["path_found"], dr["path_latency_s"], dr["path_latency_complete"]) == ([0], True, 120, True)
    assert (reads["path"], reads["path_found"], reads["path_latency_s"], reads["path_latency_complete"]) == ([], False, 0, True)


# --- properties against brute force ------------------------------------------------------------
@st.composite
def graphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]], list[int]]:
    n = draw(st.integers(1, 9))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=14))
    heads = sorted(draw(st.sets(st.integers(0, n - 1), max_size=3)))
    return n, edges, heads


def bfs(n: int, edges: list[tuple[int, int]], sources: list[int], removed: int | None = None) -> list[int | None]:
    dist: list[int | None] = [None] * n
    queue = deque(s for s in sources if s != removed)
    for s in queue:
        dist[s] = 0
    while queue:
        u = queue.popleft()
        for a, b in edges:
            for x, y in ((a, b), (b, a)):
                if x == u and y != removed and dist[y] is None:
                    dist[y] = dist[u] + 1  # type: ignore[operator]
                    queue.append(y)
    return dist


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_reach_hops_and_cut_match_brute_force(graph: tuple[int, list[tuple[int, int]], list[int]]) -> None:
    n, edges, heads = graph
    f = facts(n, edges, heads)
    dist = bfs(n, edges, heads)
    assert f.hops == dist
    assert f.reaches == [d is not None for d in dist]
    for v in range(n):
        if dist[v] is None or v in heads:
            assert f.cut[v] == []
            continue
        # w is on every path from v to a head end exactly when removing w leaves v with none.
        expected = [w for w in range(n) if w != v and bfs(n, edges, heads, removed=w)[v] is None]
        assert sorted(f.cut[v]) == expected
        assert len(f.cut[v]) == len(set(f.cut[v]))


@settings(max_examples=200, deadline=None)
@given(graphs(), st.data())
def test_flow_paths_are_shortest_walks_over_carrying_links(graph: tuple[int, list[tuple[int, int]], list[int]], data: st.DataObject) -> None:
    n, edges, _ = graph
    carries = [data.draw(st.sets(st.sampled_from(["x", "y"]))) for _ in edges]
    src, dst = data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1))
    (path,) = paths(n, [(a, b, c) for (a, b), c in zip(edges, carries)], [("x", src, dst)])
    usable = [e for e, c in zip(edges, carries) if "x" in c]
    shortest = bfs(n, usable, [src])[dst]
    if src == dst or shortest is None:
        assert path == []
        return
    assert len(path) == shortest
    node = src
    for li in path:
        assert "x" in carries[li]
        a, b = edges[li]
        assert node in (a, b)
        node = b if node == a else a
    assert node == dst
