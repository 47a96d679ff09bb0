"""A self-contained HTML report of a run: summary, per-metric charts (inline SVG), per-case drill-down.

No scripts, no external assets (a Content-Security-Policy forbids loading any),
every value HTML-escaped. Cases are listed failures first (errors, then
failures, then passes), each in a <details> element with its metrics and
problems, its outputs (the Markdown as plain text), citations, notices and the
judge's verdicts.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape

from evals.models import CaseResult, RunSummary

BINS = 5
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",sans-serif;margin:2rem;
color:#1d2433;max-width:1200px}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #d5d9e0;padding:.3rem .6rem;text-align:left;
vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#17803d}.fail{color:#b42318}.error{color:#8a3ffc}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.chart{border:1px solid #e3e6eb;padding:.5rem;border-radius:6px}
details{border:1px solid #e3e6eb;border-radius:6px;margin:.4rem 0;padding:.3rem .6rem}
summary{cursor:pointer}pre{white-space:pre-wrap;background:#f6f8fa;padding:.6rem;max-height:28rem;overflow:auto}
.badge{display:inline-block;padding:0 .4rem;border-radius:4px;font-size:.85rem;border:1px solid currentColor}
ul.problems{margin:.2rem 0}
"""
_STATUS_ORDER = {"error": 0, "fail": 1, "pass": 2}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def histogram(scores: list[float]) -> list[int]:
    """Counts of scores in BINS equal bins over [0, 1] (1.0 falls in the last bin)."""
    counts = [0] * BINS
    for s in scores:
        counts[min(BINS - 1, int(s * BINS))] += 1
    return counts


def metric_chart(name: str, scores: list[float], mean: float) -> str:
    """An inline SVG: the score distribution as bars, and the mean as a marker line."""
    width, height, pad = 260, 120, 22
    counts = histogram(scores)
    top = max(counts) or 1
    bar_w = (width - 2 * pad) / BINS
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" role="img" '
        f'aria-label="{_e(name)} score distribution">',
        f'<text x="{pad}" y="14" font-size="12" font-weight="bold">{_e(name)}</text>',
    ]
    for i, count in enumerate(counts):
        h = (height - 40) * count / top
        x = pad + i * bar_w
        y = height - h
        color = "#17803d" if i == BINS - 1 else "#d97706" if i >= BINS // 2 else "#b42318"
        parts.append(f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" height="{h:.1f}" fill="{color}"/>')
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="10" text-anchor="middle">{count}</text>'
        )
        label = f"{i / BINS:.1f}–{(i + 1) / BINS:.1f}"
        parts.append(
            f'<text x="{x + bar_w / 2:.1f}" y="{height + 12}" font-size="9" text-anchor="middle">{label}</text>'
        )
    mx = pad + mean * (width - 2 * pad)
    parts.append(f'<line x1="{mx:.1f}" y1="24" x2="{mx:.1f}" y2="{height}" stroke="#1d4ed8" stroke-dasharray="3,2"/>')
    parts.append(f'<text x="{pad}" y="{height + 26}" font-size="11">mean {mean:.3f} · n {len(scores)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def latency_chart(by_skill: dict[str, tuple[float | None, float | None]]) -> str:
    """Horizontal bars of p50 and p95 latency per skill."""
    rows = [(k, v) for k, v in by_skill.items() if v[1] is not None]
    if not rows:
        return ""
    width, row_h, left = 420, 26, 90
    top = max(v[1] or 0.0 for _, v in rows) or 1.0
    height = row_h * len(rows) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
        'aria-label="latency per skill">',
        '<text x="4" y="14" font-size="12" font-weight="bold">latency p50 / p95 (ms)</text>',
    ]
    for n, (skill, (p50, p95)) in enumerate(rows):
        y = 24 + n * row_h
        w95 = (width - left - 70) * (p95 or 0.0) / top
        w50 = (width - left - 70) * (p50 or 0.0) / top
        parts.append(f'<text x="4" y="{y + 13}" font-size="11">{_e(skill)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w95:.1f}" height="16" fill="#bfdbfe"/>')
        parts.append(f'<rect x="{left}" y="{y + 4}" width="{w50:.1f}" height="8" fill="#1d4ed8"/>')
        parts.append(
            f'<text x="{left + w95 + 4:.1f}" y="{y + 13}" font-size="10">{p50 or 0.0:,.0f} / {p95 or 0.0:,.0f}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _summary_section(summary: RunSummary) -> str:
    rows = [
        ("suite", summary.suite),
        ("dataset", f"{summary.dataset} (sha256 {summary.dataset_sha256[:12]}…)"),
        ("provider / judge", f"{summary.provider} / {summary.judge_provider or 'none'}"),
        ("seed", summary.seed),
        ("cases", f"{summary.cases}: {summary.passed} passed, {summary.failed} failed, {summary.errors} errors"),
        ("case pass rate", f"{summary.case_pass_rate:.1%}"),
        ("latency p50 / p95", f"{_num(summary.latency_ms.p50, 0)} / {_num(summary.latency_ms.p95, 0)} ms"),
        ("tokens", f"{summary.prompt_tokens:,} prompt + {summary.completion_tokens:,} completion"),
        ("estimated cost", f"${summary.cost_usd:.4f}"),
        ("model calls / cache hits", f"{summary.model_calls} / {summary.cache_hits}"),
        ("modes", ", ".join(f"{k}: {v}" for k, v in summary.modes.items()) or "n/a"),
        ("wall time", f"{summary.wall_time_s:.1f} s"),
    ]
    if summary.judge.judged or summary.judge.failures:
        rows.append(
            (
                "judge",
                f"{summary.judge.judged} judged, overall {_num(summary.judge.overall)}; "
                f"{summary.judge.failures} judge failures (not scored)",
            )
        )
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    metrics = "".join(
        f'<tr><td>{_e(name)}</td><td class="num">{m.mean:.3f}</td><td class="num">{m.pass_rate:.1%}</td>'
        f'<td class="num">{m.n}</td></tr>'
        for name, m in summary.metrics.items()
    )
    out = f"<h2>Summary</h2><table>{body}</table>"
    out += f"<h2>Metrics</h2><table><tr><th>metric</th><th>mean</th><th>pass rate</th><th>n</th></tr>{metrics}</table>"
    if summary.judge.failure_messages:
        items = "".join(f"<li>{_e(m)}</li>" for m in summary.judge.failure_messages)
        out += f"<p>Judge failures:</p><ul>{items}</ul>"
    if summary.slices:
        columns = [c for c in next(iter(summary.slices.values())) if c != "n"]
        heads = "".join(f"<th>{_e({'recall@5': 'recall@5', 'mrr@10': 'MRR@10'}.get(c, c))}</th>" for c in columns)
        rows_html = "".join(
            f'<tr><td>{_e(n)}</td><td class="num">{int(r["n"])}</td>'
            + "".join(f'<td class="num">{r.get(c, 0.0):.3f}</td>' for c in columns)
            + "</tr>"
            for n, r in summary.slices.items()
        )
        title = "Retrieval by slice" if summary.suite == "retrieval" else "By slice"
        out += f"<h2>{title}</h2><table><tr><th>slice</th><th>n</th>{heads}</tr>{rows_html}</table>"
    return out


def _charts(summary: RunSummary, results: list[CaseResult]) -> str:
    scores: dict[str, list[float]] = defaultdict(list)
    for case in results:
        for m in case.metrics:
            scores[m.name].append(m.score)
    charts = [
        f'<div class="chart">{metric_chart(name, scores.get(name, []), m.mean)}</div>'
        for name, m in summary.metrics.items()
    ]
    latency = latency_chart({k: (v.p50, v.p95) for k, v in summary.latency_by_skill.items()})
    if latency:
        charts.append(f'<div class="chart">{latency}</div>')
    return f'<h2>Charts</h2><div class="charts">{"".join(charts)}</div>'


def _case(case: CaseResult) -> str:
    failed = case.failed_metrics()
    head = (
        f'<span class="badge {case.status}">{case.status}</span> <code>{_e(case.case_id)}</code> '
        f"{_e(case.lang or '')} {_e(case.scenario or '')} "
        + " ".join(f"· {_e(k)}: {_e(v)}" for k, v in case.tags.items() if k != "query")
    )
    if failed:
        head += f" — {len(failed)} failing metric(s)"
    parts = [f'<details id="case-{_e(case.case_id)}"><summary>{head}</summary>']
    if case.error:
        parts.append(f'<p class="error">Error: {_e(case.error)}</p>')
    if "query" in case.tags:
        parts.append(f"<p>Query: {_e(case.tags['query'])}</p>")
    rows = []
    for m in sorted(case.metrics, key=lambda m: (m.passed, m.skill or "", m.name)):
        problems = "".join(f"<li>{_e(p)}</li>" for p in m.problems)
        cls = "pass" if m.passed else "fail"
        rows.append(
            f'<tr><td>{_e(m.skill or "")}</td><td>{_e(m.name)}</td><td class="num {cls}">{m.score:.3f}</td>'
            f'<td><ul class="problems">{problems}</ul></td></tr>'
        )
    parts.append(
        "<table><tr><th>skill</th><th>metric</th><th>score</th><th>problems</th></tr>" + "".join(rows) + "</table>"
    )
    for output in case.outputs:
        meta = f"{output.skill} · {output.mode or '-'} · {output.language or '-'} · {output.latency_ms:,.0f} ms"
        parts.append(f"<h4>{_e(meta)}</h4>")
        if output.error:
            parts.append(f'<p class="error">{_e(output.error.type)}: {_e(output.error.message)}</p>')
        if output.notices:
            parts.append("<ul>" + "".join(f"<li>{_e(n)}</li>" for n in output.notices) + "</ul>")
        if output.text:
            parts.append(f"<pre>{_e(output.text)}</pre>")
        if output.citations:
            cites = "".join(f"<li>{_e(c.title)} <code>{_e(c.chunk_id)}</code></li>" for c in output.citations)
            parts.append(f"<details><summary>{len(output.citations)} citation(s)</summary><ul>{cites}</ul></details>")
    for j in case.judge:
        if j.error:
            parts.append(f"<p>Judge ({_e(j.skill)}): <span class='error'>failed: {_e(j.error)}</span></p>")
        else:
            crit = ", ".join(f"{_e(k)} {v}" for k, v in j.criteria.items())
            parts.append(f"<p>Judge ({_e(j.skill)}): {_num(j.overall)} — {crit}. {_e(j.rationale)}</p>")
    parts.append("</details>")
    return "".join(parts)


def render_report(summary: RunSummary, results: list[CaseResult]) -> str:
    ordered = sorted(results, key=lambda r: (_STATUS_ORDER[r.status], r.index))
    cases = "".join(_case(c) for c in ordered)
    title = f"Eval {summary.suite} · {summary.run_id}"
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f"{_summary_section(summary)}{_charts(summary, results)}"
        f"<h2>Cases ({len(results)}, failures first)</h2>{cases}"
        "</body></html>\n"
    )
