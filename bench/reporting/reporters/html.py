"""A standalone HTML leaderboard page: sortable tables, CIs, coverage and reproduce commands."""

from __future__ import annotations

import html

from bench.reporting.leaderboard import Table
from bench.reporting.reporters.cells import ARROWS, fmt_number

STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:1rem 0 2rem}
th,td{border:1px solid #ccc;padding:.35rem .6rem;text-align:right;vertical-align:top}
th{background:#f0f0f0;cursor:pointer;user-select:none}
td.method{text-align:left;font-weight:600}
td.best{background:#e3f5e1;font-weight:700}
td.partial{background:#fff4d6}
td.na{color:#888;text-align:center}
.ci{color:#666;font-size:.85em;display:block}
code{font-size:.8em;color:#444}
td.cmd{text-align:left}
caption{text-align:left;font-size:1.1em;font-weight:600;margin-bottom:.3rem}
"""

SCRIPT = """
function sortTable(t, col, asc){
  var body=t.tBodies[0], rows=Array.from(body.rows);
  rows.sort(function(a,b){
    var x=a.cells[col].dataset.v, y=b.cells[col].dataset.v;
    var nx=parseFloat(x), ny=parseFloat(y);
    if(isNaN(nx)&&isNaN(ny)){x=a.cells[col].textContent;y=b.cells[col].textContent;
      return asc? x.localeCompare(y) : y.localeCompare(x);}
    if(isNaN(nx)) return 1; if(isNaN(ny)) return -1;
    return asc? nx-ny : ny-nx;});
  rows.forEach(function(r){body.appendChild(r);});
  t.tHead.rows[0].cells[col].dataset.order = asc ? 'asc' : 'desc';
}
document.querySelectorAll('table.board').forEach(function(t){
  Array.from(t.tHead.rows[0].cells).forEach(function(th, col){
    th.addEventListener('click', function(){ sortTable(t, col, th.dataset.order !== 'asc'); });
  });
});
// Shareable sorted views: ?sort=<metric>&order=asc|desc sorts every table with that column.
var q = new URLSearchParams(location.search);
if (q.get('sort')) {
  document.querySelectorAll('table.board').forEach(function(t){
    Array.from(t.tHead.rows[0].cells).forEach(function(th, col){
      if (th.dataset.metric === q.get('sort')) sortTable(t, col, q.get('order') === 'asc');
    });
  });
}
"""


def _td(table: Table, row, metric: str) -> str:
    c = row.cells.get(metric)
    if c is None or c.value is None:
        why = html.escape(c.message or c.status) if c else ""
        return f'<td class="na" data-v="" title="{why}">n/a</td>'
    cls = []
    if row.label in table.best(metric):
        cls.append("best")
    if c.partial:
        cls.append("partial")
    inner = html.escape(fmt_number(c.value))
    if c.ci:
        inner += f'<span class="ci">[{fmt_number(c.ci[0])}, {fmt_number(c.ci[1])}]</span>'
    if c.partial:
        inner += f'<span class="ci">⚠ {c.n_scored}/{c.n_total} scored</span>'
    if row.groups.get(metric):
        rank = row.ranks.get(metric)
        span = "" if rank is None else f", rank {rank[0]}" + (f"–{rank[1]}" if rank[1] != rank[0] else "")
        inner += f'<span class="ci">group {html.escape(row.groups[metric])}{span}</span>'
    return f'<td class="{" ".join(cls)}" data-v="{c.value!r}">{inner}</td>'


def render(tables: list[Table]) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Leaderboard: "
             f"{html.escape(tables[0].task)}</title><style>{STYLE}</style></head><body>",
             f"<h1>Leaderboard: {html.escape(tables[0].task)}</h1>",
             "<p>Built from run records by <code>bench leaderboard</code>. Cells show the value "
             "and its 95% bootstrap confidence interval; green marks the best value, yellow a "
             "metric scored on only part of the split. Click a header to sort.</p>"]
    for t in tables:
        parts.append(f'<table class="board"><caption>{html.escape(t.dataset)} / '
                     f'{html.escape(t.split)}</caption><thead><tr><th>method</th>')
        parts += [f'<th data-metric="{html.escape(m)}">{html.escape(m)} {ARROWS[d]}</th>'
                  for m, d in t.metrics]
        parts.append("<th>N</th><th>reproduce</th></tr></thead><tbody>")
        for r in t.rows:
            name = html.escape(r.method) + (" <small>(reference)</small>" if r.reference else "")
            if r.origin == "run":
                name += " <small><b>(your run)</b></small>"
            parts.append(f'<tr><td class="method" data-v="">{name}</td>')
            parts += [_td(t, r, m) for m, _ in t.metrics]
            parts.append(f'<td data-v="{r.n_total}">{r.n_total}</td>'
                         f'<td class="cmd" data-v=""><code>{html.escape(r.reproduce)}</code></td></tr>')
        parts.append("</tbody></table>")
        parts += [f'<p><img src="{html.escape(i)}" alt="{html.escape(i)}" style="max-width:100%">'
                  f"</p>" for i in t.images]
    parts.append(f"<script>{SCRIPT}</script></body></html>")
    return "\n".join(parts)
