"""Smaller views of a traced graph: each module call as one node, long runs of ops as one node.

Both transforms take a ``Graph`` and return a new one (the input is not modified); the drawer
applies them for ``collapse=True`` so that large models stay legible.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace as replace_fields

from .graph import Edge, Graph, Node, gc_paused


def _remap(graph: Graph, nodes: dict[str, Node], replace: dict[str, str]) -> Graph:
    """A graph with ``nodes``, edges redirected through ``replace``, self-loops and repeats
    dropped (the first edge between two nodes keeps its argument index)."""
    edges: list[Edge] = []
    seen: set[tuple[str, str]] = set()
    for e in graph.edges:
        src, dst = replace.get(e.src, e.src), replace.get(e.dst, e.dst)
        if src == dst or (src, dst) in seen:
            continue
        seen.add((src, dst))
        edges.append(Edge(src, dst, e.index))
    # NOTE: all tensors stay referenced: a collapsed module's hidden parameters give its gradient
    return Graph(nodes, edges, list(graph.roots), dict(graph.modules), dict(graph.tensors),
                 dict(graph.functions))


def leaf_modules(graph: Graph) -> set[str]:
    """Called modules that contain no other called module (the "layers")."""
    has_child = {info.parent for info in graph.modules.values() if info.parent is not None}
    return {name for name in graph.modules if name not in has_child}


def collapse_modules(graph: Graph, depth: int | None = None) -> Graph:
    """Draw each module call as one node of kind "module".

    ``depth=None`` collapses the innermost modules (each layer); ``depth=k`` collapses the
    modules ``k`` levels below the outermost one (0 = the whole model), and any innermost module
    above that level. A tensor produced inside a collapsed module stays visible when something
    outside reads it (the module's output), so shapes between layers remain on the drawing.
    Repeated calls of one module merge into one node.
    """
    if not graph.modules:
        return graph
    depths = {name: graph.module_depth(name) for name in graph.modules}
    leaves = leaf_modules(graph)
    if depth is None:
        targets = leaves
    else:
        targets = {n for n, d in depths.items() if d == depth or (d < depth and n in leaves)}

    # the collapsed module each module's nodes disappear into, if any
    owner: dict[str, str | None] = {}
    for name in graph.modules:
        current: str | None = name
        while current is not None and current not in targets:
            current = graph.modules[current].parent
        owner[name] = current

    def owner_of(node_id: str) -> str | None:
        module = graph.nodes[node_id].module
        return None if module is None else owner.get(module)

    consumers: dict[str, list[str]] = {}
    for e in graph.edges:
        consumers.setdefault(e.src, []).append(e.dst)

    module_ids = {name: f"mod{i}" for i, name in enumerate(sorted(targets))}
    members: dict[str, list[str]] = {name: [] for name in targets}
    replace: dict[str, str] = {}
    nodes: dict[str, Node] = {}
    placed: set[str] = set()
    for node_id, node in graph.nodes.items():
        target = owner_of(node_id)
        if target is None:
            nodes[node_id] = node
            continue
        members[target].append(node_id)
        read_outside = any(owner_of(c) != target for c in consumers.get(node_id, ()))
        if node.kind == "tensor" and (node.is_root or read_outside):
            # the module's output: keep it, drawn in the enclosing module
            nodes[node_id] = replace_fields(node, module=graph.modules[target].parent)
        else:
            replace[node_id] = module_ids[target]
        if target not in placed:
            placed.add(target)
            info = graph.modules[target]
            module_id = module_ids[target]
            nodes[module_id] = Node(
                module_id, "module", op=info.type,
                shape=info.output_shapes[0] if info.output_shapes else None,
                name=target, module=info.parent,
            )
    for target, ids in members.items():
        if target in placed:
            nodes[module_ids[target]].members = tuple(ids)
    return _remap(graph, nodes, replace)


def collapse_chains(graph: Graph, min_ops: int = 3) -> Graph:
    """Draw every run of at least ``min_ops`` ops as one node of kind "chain".

    A run is a path op -> tensor -> op -> ... where each intermediate tensor is unnamed, not a
    root, and read by the next op only. Constants read only inside the run (the ``2.0`` of
    ``x * 2.0``) disappear into it; the run's final tensor stays visible.
    """
    with gc_paused():
        return _collapse_chains(graph, min_ops)


def _collapse_chains(graph: Graph, min_ops: int) -> Graph:
    nodes = graph.nodes
    readers: dict[str, list[str]] = {}  # node -> the nodes its edges lead to (an op: its output)
    for e in graph.edges:
        readers.setdefault(e.src, []).append(e.dst)

    # next_op[a] = b when a's output is read by b alone, so the output may disappear into a run
    next_op: dict[str, str] = {}
    incoming: dict[str, int] = {}
    for a, op in nodes.items():
        if op.kind != "op":
            continue
        t = nodes[readers[a][0]]
        reads = readers.get(t.id, ())
        if len(reads) != 1 or t.is_root or t.name:
            continue
        b = nodes[reads[0]]
        if b.kind == "op" and b.module == op.module:
            next_op[a] = b.id
            incoming[b.id] = incoming.get(b.id, 0) + 1
    next_op = {a: b for a, b in next_op.items() if incoming[b] == 1}
    has_prev = set(next_op.values())

    replace: dict[str, str] = {}
    chains: dict[str, Node] = {}  # first op of a run -> the chain node replacing the run
    members: dict[str, list[str]] = {}  # chain id -> the nodes it replaces
    for first in next_op:
        if first in has_prev:
            continue
        run = [first]
        while run[-1] in next_op:
            run.append(next_op[run[-1]])
        if len(run) < min_ops:
            continue
        chain_id = f"chain{len(chains)}"
        members[chain_id] = run + [readers[o][0] for o in run[:-1]]
        for member in members[chain_id]:
            replace[member] = chain_id
        counts = Counter(nodes[o].op for o in run)
        last = nodes[readers[run[-1]][0]]
        chains[first] = Node(
            chain_id, "chain", op=", ".join(f"{name} x{k}" for name, k in counts.most_common()),
            shape=last.shape, dtype=last.dtype, module=nodes[first].module,
        )

    # constants read only by ops of one chain disappear into it
    for node_id, node in nodes.items():
        if node.kind != "tensor" or not node.is_leaf or node.requires_grad or node.name:
            continue
        owners = {replace.get(r) for r in readers.get(node_id, ())}
        if len(owners) == 1 and None not in owners and not node.is_root:
            chain_id = owners.pop()
            assert chain_id is not None
            replace[node_id] = chain_id
            members[chain_id].append(node_id)

    kept: dict[str, Node] = {}
    for node_id, node in nodes.items():
        if node_id not in replace:
            kept[node_id] = node
        elif node_id in chains:  # the run's first op: the chain node takes its place
            chain = chains[node_id]
            chain.members = tuple(members[chain.id])
            kept[chain.id] = chain
    return _remap(graph, kept, replace)
