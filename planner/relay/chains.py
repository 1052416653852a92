"""When a demand's key is delivered once chains through ground stations are order-free.

Trusted-node XORs commute (docs/reference.md §1, §6): a station ``v`` may share key with ``b``
before it shares key with ``a``; ``b`` holds usable key shared with ``a`` only once every
segment of a chain exists. The key delivered by time ``t`` is therefore the maximum flow from
``a`` to ``b`` through the relay hops made up to ``t`` (each hop an edge whose capacity is its
bits), plus partial key carried in ground storage from an earlier plan (an edge ``a -> v``).
At the end of a valid plan this equals the key relayed into ``b``.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Mapping


def max_flow(edges: Mapping[tuple[str, str], float], source: str, sink: str) -> float:
    """Maximum flow from ``source`` to ``sink`` [the edges' unit] (Edmonds–Karp).

    Parameters
    ----------
    edges
        Capacity of each directed edge ``(from, to)``; parallel hops already summed.
    source, sink
        The two end stations.
    """
    residual: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for (u, v), capacity in edges.items():
        if capacity > 0 and u != v:
            residual[u][v] += capacity
            residual[v][u] += 0.0
    total = 0.0
    while True:
        parent = {source: None}
        queue = deque([source])
        while queue and sink not in parent:
            u = queue.popleft()
            for v, capacity in residual[u].items():
                if capacity > 1e-12 and v not in parent:
                    parent[v] = u
                    queue.append(v)
        if sink not in parent:
            return total
        path, v = [], sink
        while parent[v] is not None:
            path.append((parent[v], v))
            v = parent[v]
        push = min(residual[u][v] for u, v in path)
        for u, v in path:
            residual[u][v] -= push
            residual[v][u] += push
        total += push


def delivery_steps(hops: Iterable[tuple[object, str, str, float]], source: str, sink: str,
                   carried: Mapping[str, float] | None = None) -> list[tuple[object, float]]:
    """Key delivered at each hop time of one demand, chains completed in any order.

    Parameters
    ----------
    hops
        ``(time, from_station, to_station, bits)`` of the demand's hops (any order).
    source, sink
        The demand's stations ``a`` and ``b``.
    carried
        Partial key held at intermediate stations when the plan starts [bit].

    Returns
    -------
    list of (time, bits)
        Times at which delivered key grows, and by how much (times in increasing order).
    """
    by_time: dict[object, list[tuple[str, str, float]]] = defaultdict(list)
    for when, src, dst, bits in hops:
        by_time[when].append((src, dst, float(bits)))
    edges: dict[tuple[str, str], float] = defaultdict(float)
    for station, bits in (carried or {}).items():
        if bits > 0:
            edges[(source, station)] += float(bits)
    steps, before = [], 0.0
    for when in sorted(by_time):
        for src, dst, bits in by_time[when]:
            edges[(src, dst)] += bits
        now = max_flow(edges, source, sink)
        if now > before:
            steps.append((when, now - before))
            before = now
    return steps
