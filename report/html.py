"""HTML report: one self-contained file (inline CSS, script and SVG; nothing is fetched).

The content of the Markdown report — verdict, evidence, counts by severity, findings with
rationale and controls, waiver register, per-rule table, traceability matrix — plus a topology
picture of each deployment coloured by result, and filters (status, severity, text) that work
in any browser without a network. Without script everything is simply shown.
"""
from __future__ import annotations

import os
from html import escape
from typing import Any, TextIO

from amisec.policies.catalog import SEVERITIES
from amisec.results.model import STATUSES, DeploymentReport, Report, RuleResult

from .common import (
    STATUS_LABELS,
    control_label,
    expected_actual,
    provenance,
    result_order,
    severity_status_table,
    trace_rows,
    verdict,
)
from .topology import to_svg

LAYOUT_ENV = "AMISEC_LAYOUT"  # builtin (default, reproducible) | dot | auto

_CSS = """
:root{--fail:#cf222e;--fail-bg:#ffebe9;--waived:#bf8700;--waived-bg:#fff8c5;--pass:#1a7f37;--pass-bg:#dafbe1;
--na:#6e7781;--na-bg:#f6f8fa;--line:#d0d7de;--muted:#57606a}
*{box-sizing:border-box}
body{font:14px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#1f2328;margin:0;background:#f6f8fa}
main{max-width:1240px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 8px}h2{font-size:21px;margin:36px 0 8px;border-bottom:1px solid var(--line);padding-bottom:6px}
h3{font-size:16px;margin:24px 0 8px}section.deployment>h2:first-child{margin-top:0}
section.deployment,header.report{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin-bottom:20px}
code,.mono{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.verdict{display:inline-block;font-weight:700;padding:2px 10px;border-radius:14px;color:#fff}
.verdict.FAIL{background:var(--fail)}.verdict.PASS{background:var(--pass)}
.badge{display:inline-block;font-size:12px;font-weight:600;padding:0 8px;border-radius:10px;border:1px solid}
.badge.fail{color:var(--fail);background:var(--fail-bg)}.badge.waived{color:var(--waived);background:var(--waived-bg)}
.badge.pass{color:var(--pass);background:var(--pass-bg)}.badge.not_applicable{color:var(--na);background:var(--na-bg)}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num,th.num{text-align:right}td.rule-id{white-space:nowrap}
table.evidence td:first-child{white-space:nowrap;color:var(--muted)}table.evidence td{word-break:break-all}
article.finding{border:1px solid var(--line);border-left:6px solid var(--fail);border-radius:6px;padding:10px 14px;margin:10px 0}
article.finding.waived{border-left-color:var(--waived)}
article.finding h4{margin:0 0 4px;font-size:15px}
.meta{color:var(--muted);font-size:12px}
blockquote{margin:6px 0;padding:2px 12px;border-left:3px solid var(--line);color:#424a53}
ul.elements{margin:6px 0;padding-left:20px}
.filters{position:sticky;top:0;z-index:2;background:#fff;border:1px solid var(--line);border-radius:8px;padding:8px 14px;
margin-bottom:20px;display:flex;flex-wrap:wrap;gap:8px 18px;align-items:center}
.filters label{white-space:nowrap}.filters input[type=search]{min-width:240px;padding:3px 6px}
.filters .count{color:var(--muted);margin-left:auto}
figure.topology{margin:8px 0;overflow-x:auto;border:1px solid var(--line);border-radius:6px;background:#fff}
figure.topology figcaption{padding:6px 10px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
.hidden{display:none!important}
"""

# Filters: a row shows when its status and severity are ticked and its text holds the search words.
_SCRIPT = """
(function(){
  var bar=document.getElementById('filters');if(!bar)return;bar.classList.remove('hidden');
  var items=[].slice.call(document.querySelectorAll('[data-status]'));
  function ticked(name){return [].slice.call(bar.querySelectorAll('input[name='+name+']:checked')).map(function(e){return e.value;});}
  function apply(){
    var st=ticked('status'),sev=ticked('severity');
    var words=bar.querySelector('input[type=search]').value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown=0;
    items.forEach(function(el){
      var text=el.textContent.toLowerCase();
      var ok=st.indexOf(el.dataset.status)>=0&&sev.indexOf(el.dataset.severity)>=0&&words.every(function(w){return text.indexOf(w)>=0;});
      el.classList.toggle('hidden',!ok);if(ok&&el.tagName==='ARTICLE')shown++;
    });
    bar.querySelector('.count').textContent=shown+' finding'+(shown===1?'':'s')+' shown';
  }
  bar.addEventListener('input',apply);apply();
})();
"""


def _badge(status: str) -> str:
    return f'<span class="badge {status}">{escape(STATUS_LABELS[status])}</span>'


def _verdict(results: list[RuleResult] | tuple[RuleResult, ...], fail_on: str) -> str:
    word, why = verdict(results, fail_on)
    return f'<p><span class="verdict {word}">{word}</span> {escape(why)}</p>'


def _filters() -> str:
    statuses = "".join(
        f'<label><input type="checkbox" name="status" value="{s}" checked> {escape(STATUS_LABELS[s])}</label>' for s in STATUSES
    )
    severities = "".join(f'<label><input type="checkbox" name="severity" value="{s}" checked> {s}</label>' for s in SEVERITIES)
    return (
        '<form id="filters" class="filters hidden" onsubmit="return false">'
        f"<strong>Filter</strong> {statuses} <span class=\"meta\">|</span> {severities} "
        '<input type="search" placeholder="rule, element, control, text…" aria-label="search">'
        '<span class="count"></span></form>'
    )


def _evidence(report: Report) -> str:
    rows = "".join(f"<tr><td>{escape(k)}</td><td class=\"mono\">{escape(v)}</td></tr>" for k, v in provenance(report))
    return f'<table class="evidence"><tbody>{rows}</tbody></table>'


def _counts(deployment: DeploymentReport) -> str:
    head = "".join(f'<th class="num">{escape(STATUS_LABELS[s])}</th>' for s in STATUSES)
    rows = "".join(
        f"<tr><td>{s}</td>" + "".join(f'<td class="num">{c[st]}</td>' for st in STATUSES) + "</tr>"
        for s, c in severity_status_table(deployment.results)
    )
    totals = deployment.counts()
    rows += "<tr><th>total</th>" + "".join(f'<th class="num">{totals[st]}</th>' for st in STATUSES) + "</tr>"
    return f"<table><thead><tr><th>severity</th>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _finding(result: RuleResult) -> str:
    rule = result.rule
    items = []
    for finding in result.findings:
        s = finding.subject
        waived = " <em>(waived)</em>" if finding.waived else ""
        waiver = ""
        if finding.waiver is not None:
            waiver = f'<br><span class="meta">waiver at <code>{escape(finding.waiver.location)}</code>: {escape(finding.waiver.describe())}</span>'
        items.append(f"<li><code>{escape(s.location)}</code> {escape(s.kind)} <code>{escape(s.id)}</code>{waived}: "
                     f"{escape(finding.message)} <span class=\"meta\">({escape(expected_actual(finding))})</span>{waiver}</li>")
    controls = "; ".join(escape(control_label(c)) for c in result.controls) or "—"
    return (
        f'<article class="finding {result.status}" data-status="{result.status}" data-severity="{rule.severity}">'
        f"<h4>{_badge(result.status)} {escape(rule.id)} — {escape(rule.title)}</h4>"
        f'<div class="meta">{escape(rule.severity)} · {escape(rule.principle)} · AMI security architecture §{escape(rule.section)}</div>'
        f"<blockquote>{escape(rule.objective)}</blockquote>"
        f"<p>{escape(rule.description)}</p>"
        f"<p><strong>Result:</strong> {escape(result.reason)}</p>"
        f'<ul class="elements">{"".join(items)}</ul>'
        f"<p><strong>Fix:</strong> {escape(rule.remediation)}</p>"
        f"<p><strong>Controls:</strong> {controls}</p>"
        "</article>"
    )


def _findings(deployment: DeploymentReport) -> str:
    chosen = [r for r in sorted(deployment.results, key=result_order) if r.status in ("fail", "waived")]
    return "".join(_finding(r) for r in chosen) or "<p>No findings.</p>"


def _rule_detail(result: RuleResult) -> str:
    if result.findings:
        return "<br>".join(
            f"<code>{escape(f.subject.id)}</code> {escape(f.subject.location)}{' (waived)' if f.waived else ''}" for f in result.findings
        )
    return escape(result.evidence if result.status == "pass" else result.reason)


def _rules(deployment: DeploymentReport) -> str:
    rows = "".join(
        f'<tr data-status="{r.status}" data-severity="{r.rule.severity}"><td>{_badge(r.status)}</td>'
        f"<td class=\"mono rule-id\">{escape(r.rule.id)}</td><td>{r.rule.severity}</td><td>{escape(r.rule.title)}</td>"
        f"<td>{_rule_detail(r)}</td></tr>"
        for r in sorted(deployment.results, key=result_order)
    )
    return ("<table><thead><tr><th>status</th><th>rule</th><th>severity</th><th>title</th><th>elements or evidence</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>")


def _trace(deployment: DeploymentReport) -> str:
    severity = {r.rule.id: r.rule.severity for r in deployment.results}
    rows = "".join(
        f'<tr data-status="{row.status}" data-severity="{severity[row.rule]}"><td>{escape(row.section)}</td>'
        f"<td>{escape(row.objective)}</td><td class=\"mono rule-id\">{escape(row.rule)}</td><td>{_badge(row.status)}</td>"
        f"<td>{'<br>'.join(escape(c) for c in row.controls) or '—'}</td>"
        f"<td>{'<br>'.join(escape(e) for e in row.elements) or '—'}</td></tr>"
        for row in trace_rows(deployment)
    )
    return ("<table><thead><tr><th>§</th><th>objective</th><th>rule</th><th>status</th><th>controls</th><th>elements</th>"
            f"</tr></thead><tbody>{rows}</tbody></table>")


def _topology(deployment: DeploymentReport, layout: str) -> str:
    if deployment.topology is None:
        return ""
    caption = ("Domains (boxes) in columns: edge, communication, network and enterprise; devices inside them; links "
               "between them. Colour: the element's worst result — red fail, amber waived, green pass, grey not applicable. "
               "Hover for details.")
    return (f'<h3>Topology</h3><figure class="topology">{to_svg(deployment.topology, layout)}'
            f"<figcaption>{escape(caption)}</figcaption></figure>")


def _deployment(deployment: DeploymentReport, fail_on: str, layout: str) -> str:
    notes = ""
    if deployment.waiver_notes:
        notes = "<h3>Waiver register</h3><ul>" + "".join(
            f"<li>{escape(n.kind)}: {escape(n.message)}</li>" for n in deployment.waiver_notes) + "</ul>"
    return (
        '<section class="deployment">'
        f"<h2>{escape(deployment.name or deployment.file)}</h2>"
        f'<p class="meta">File <code>{escape(deployment.file)}</code> · sha256 <code>{escape(deployment.sha256)}</code></p>'
        f"{_verdict(deployment.results, fail_on)}"
        f"<h3>Counts by severity</h3>{_counts(deployment)}"
        f"{_topology(deployment, layout)}"
        f"<h3>Findings</h3>{_findings(deployment)}"
        f"{notes}"
        f"<h3>Rules</h3>{_rules(deployment)}"
        "<h3>Traceability matrix</h3>"
        '<p class="meta">Objective (AMI security architecture section) → rule → standard controls → deployment elements.</p>'
        f"{_trace(deployment)}"
        "</section>"
    )


def to_text(report: Report, fail_on: str = "info", layout: str | None = None) -> str:
    """The whole report as one HTML document."""
    layout = layout or os.environ.get(LAYOUT_ENV) or "builtin"
    all_results = [r for d in report.deployments for r in d.results]
    names = ", ".join(d.name or d.file for d in report.deployments)
    body = "".join(_deployment(d, fail_on, layout) for d in report.deployments)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<meta name=\"generator\" content=\"amisec {escape(report.tool_version)}\">\n"
        f"<title>amisec report — {escape(names)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f'<header class="report"><h1>amisec report</h1>{_verdict(all_results, fail_on)}{_evidence(report)}</header>\n'
        f"{_filters()}\n{body}\n</main>\n<script>{_SCRIPT}</script>\n</body>\n</html>\n"
    )


def render(report: Report, out: TextIO, *, fail_on: str = "info", layout: str | None = None, **options: Any) -> None:
    """Write the HTML report."""
    out.write(to_text(report, fail_on, layout))
