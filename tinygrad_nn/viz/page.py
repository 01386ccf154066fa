"""One self-contained, offline HTML page of drawings: hover a node for its numbers, click to pin
them; several drawings become frames with a slider and play button (the backward steps).

No network, no external script: the SVGs (from Graphviz's ``dot``), the node descriptions
(describe.py, as JSON) and ~60 lines of JavaScript are all in the one file. Without ``dot``
each frame shows its DOT text and the install hint instead of the picture; the descriptions
still list every node.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .describe import describe
from .draw import draw_graph, fit
from .graph import Graph, trace
from .notebook import GRAPHVIZ_HINT, dot_available, esc

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 12px; color: #222; }
#frames svg { max-width: 100%; height: auto; }
.frame { display: none; } .frame.shown { display: block; }
.caption { font-size: 14px; margin: 6px 0; white-space: pre-wrap; }
#controls { margin: 6px 0; } #controls button { font-size: 14px; min-width: 36px; }
#tip { position: fixed; display: none; background: #fffff0; border: 1px solid #888;
       padding: 6px 8px; font-size: 12px; max-width: 520px; pointer-events: none;
       box-shadow: 2px 2px 6px rgba(0,0,0,0.2); z-index: 10; }
#panel { border-top: 1px solid #ccc; margin-top: 8px; padding-top: 6px; font-size: 12px; }
.info td { padding: 1px 8px 1px 0; vertical-align: top; } .info td:first-child { color: #666; }
g.node { cursor: pointer; }
pre.dot { font-size: 10px; max-height: 400px; overflow: auto; background: #f6f6f6; }
"""

SCRIPT = """
const frames = Array.from(document.querySelectorAll('.frame'));
const tip = document.getElementById('tip');
const panel = document.getElementById('panel');
let current = 0, timer = null;
function table(info) {
  const t = document.createElement('table'); t.className = 'info';
  for (const [key, value] of info) {
    const row = t.insertRow();
    if (key === 'title') {  // the node itself: one bold line
      const cell = row.insertCell(); cell.colSpan = 2; cell.style.fontWeight = 'bold';
      cell.textContent = value; continue;
    }
    row.insertCell().textContent = key; row.insertCell().textContent = value;
  }
  return t;
}
function infoOf(element) {
  const frame = element.closest('.frame');
  return NODES[Number(frame.dataset.index)][element.id];
}
function show(i) {
  current = Math.max(0, Math.min(frames.length - 1, i));
  frames.forEach((f, k) => f.classList.toggle('shown', k === current));
  const slider = document.getElementById('slider');
  if (slider) { slider.value = current;
    document.getElementById('where').textContent = (current + 1) + ' / ' + frames.length; }
}
function play() {
  if (timer) { clearInterval(timer); timer = null; return; }
  if (current === frames.length - 1) show(0);
  timer = setInterval(() => {
    if (current >= frames.length - 1) { play(); } else { show(current + 1); }
  }, 1500);
}
document.querySelectorAll('g.node').forEach(node => {
  const info = infoOf(node);
  if (!info) return;
  node.querySelectorAll('title').forEach(t => t.remove());  // our tooltip, not the browser's
  node.querySelectorAll('a').forEach(a => a.removeAttribute('xlink:title'));
  node.addEventListener('mouseenter', e => {
    tip.replaceChildren(table(info)); tip.style.display = 'block';
    tip.style.left = (e.clientX + 14) + 'px'; tip.style.top = (e.clientY + 14) + 'px';
  });
  node.addEventListener('mousemove', e => {
    tip.style.left = (e.clientX + 14) + 'px'; tip.style.top = (e.clientY + 14) + 'px';
  });
  node.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
  node.addEventListener('click', () => { panel.replaceChildren(table(info)); });
});
const slider = document.getElementById('slider');
if (slider) {
  slider.addEventListener('input', () => show(Number(slider.value)));
  document.getElementById('prev').addEventListener('click', () => show(current - 1));
  document.getElementById('next').addEventListener('click', () => show(current + 1));
  document.getElementById('play').addEventListener('click', play);
  document.addEventListener('keydown', e => {
    if (e.key === 'ArrowRight') show(current + 1);
    if (e.key === 'ArrowLeft') show(current - 1);
  });
}
show(0);
"""


@dataclass
class Frame:
    """One picture of a page: its drawing, a caption, and {node id: [(field, text)]}."""

    drawing: Any  # a Drawing
    caption: str
    nodes: Mapping[str, Sequence[tuple[str, str]]]


def frame_body(frame: Frame) -> str:
    """The SVG of a frame, or (without ``dot``) its DOT text with the install hint."""
    if dot_available(frame.drawing.engine):
        svg = frame.drawing.pipe(format="svg", encoding="utf-8")
        return svg[svg.index("<svg"):]  # drop the XML prolog and DOCTYPE: inline SVG
    return (f"<p><b>Graphviz's `dot` program was not found: {esc(GRAPHVIZ_HINT)}</b></p>"
            f'<pre class="dot">{esc(frame.drawing.source)}</pre>')


def render_page(title: str, frames: Sequence[Frame]) -> str:
    """The whole HTML page (a string)."""
    bodies = []
    for i, frame in enumerate(frames):
        caption = f'<div class="caption">{esc(frame.caption)}</div>' if frame.caption else ""
        bodies.append(f'<div class="frame" data-index="{i}">{caption}{frame_body(frame)}</div>')
    controls = ""
    if len(frames) > 1:
        controls = (
            '<div id="controls"><button id="prev" title="previous (left arrow)">&#9664;</button>'
            '<button id="play" title="play / pause">&#9654;&#10074;&#10074;</button>'
            '<button id="next" title="next (right arrow)">&#9654;</button> '
            f'<input id="slider" type="range" min="0" max="{len(frames) - 1}" value="0"> '
            '<span id="where"></span></div>'
        )
    nodes = [{k: list(v) for k, v in f.nodes.items()} for f in frames]
    # NOTE: "</" inside a <script> would end it early: escape the slash for the JSON
    data = json.dumps(nodes).replace("</", "<\\/")
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
        f"<h3>{esc(title)}</h3>{controls}<div id=\"frames\">{''.join(bodies)}</div>"
        '<div id="panel">Hover over a node for its numbers; click to keep them here.</div>'
        '<div id="tip"></div>'
        f"<script>const NODES = {data};\n{SCRIPT}</script></body></html>\n"
    )


class Page:
    """An HTML page written by ``to_html`` or ``BackwardSteps.to_html``: ``.html`` is the text,
    ``.path`` the file (if one was written). In Jupyter it shows itself in an iframe."""

    def __init__(self, html: str, path: Path | None = None):
        self.html = html
        self.path = path

    def __repr__(self) -> str:
        where = f" written to {self.path}" if self.path else ""
        return f"<Page: {len(self.html):,} characters of self-contained HTML{where}>"

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{esc(self.html)}" style="width:100%;height:640px;'
                'border:1px solid #ddd"></iframe>')

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        self.path = path
        return path


def to_html(
    root: Any,
    path: str | Path | None = None,
    *,
    title: str = "tinygrad_nn: computation graph",
    collapse: bool | int = False,
    max_nodes: int = 2000,
    **draw_options: Any,
) -> Page:
    """One self-contained, offline HTML page of a graph: hovering a node shows its values and
    gradient (shape, first entries, statistics), and for an op the rule it applies backward;
    clicking keeps that below the picture.

    ``root`` is what ``draw_graph`` takes (a Graph, or a tensor: traced here); the other
    keyword arguments are ``draw_graph``'s. Written to ``path`` when given; the returned Page
    displays itself in Jupyter.
    """
    graph = root if isinstance(root, Graph) else trace(root)
    graph = fit(graph, collapse, max_nodes)
    drawing = draw_graph(graph, max_nodes=max_nodes, **draw_options)
    nodes = {n.id: list(describe(n, graph).items()) for n in graph.nodes.values()}
    page = Page(render_page(title, [Frame(drawing, "", nodes)]))
    if path is not None:
        page.write(path)
    return page
