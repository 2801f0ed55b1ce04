"""``results.md`` from ``results.json``: the tables a reader compares, in plain Markdown.

Also usable alone, to re-render a results file: ``python bench/report.py results.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

LABELS = {
    "client_credentials": "client_credentials",
    "auth_code": "auth_code (round trip)",
    "refresh_token": "refresh_token",
    "introspection": "introspection",
    "discovery": "discovery",
    "jwks": "jwks",
    "resource_bare": "resource: bare handler",
    "resource_jwt": "resource: JWT-protected",
    "resource_dpop": "resource: JWT-protected, DPoP-bound + proof",
    "resource_demo": "resource: demo API /api/notes",
    "login": "login (GET form + POST)",
    "cc_closedloop": "client_credentials, closed loop (Bearer)",
    "cc_dpop": "client_credentials, closed loop, DPoP proof",
}
ORDER = list(LABELS)


def fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float | int):
        return f"{value:,.{digits}f}"
    return str(value)


def cpu_ms_per_op(r: dict[str, Any], key: str = "median_server_cpu_pct") -> float | None:
    cpu, rps = r.get(key), r.get("median_rps")
    return None if cpu is None or not rps else round(cpu * 10 / rps, 3)


def pick(
    results: list[dict[str, Any]], *, target: str, scenario: str, conc: int, level: int | None
) -> dict[str, Any] | None:
    for r in results:
        if (
            r.get("target", "tokenpath") == target
            and r["scenario"] == scenario
            and r["concurrency"] == conc
            and (level is None or r.get("level", 0) == level)
        ):
            return r
    return None


def _ops(r: dict[str, Any] | None) -> str:
    if r is None:
        return "-"
    if r.get("error"):
        return "failed"
    return fmt(r["median_rps"])


def _scenarios(results: list[dict[str, Any]], target: str) -> list[str]:
    present = {r["scenario"] for r in results if r.get("target", "tokenpath") == target}
    return [s for s in ORDER if s in present] + sorted(present - set(ORDER))


def machine_table(m: dict[str, Any]) -> list[str]:
    load = m.get("load_before") or {}
    busiest = ", ".join(f"{p['name']} {p['cpu_pct']} %" for p in load.get("busiest", [])[:3])
    rows = [
        ("CPU", m.get("cpu_model") and f"{m['cpu_model']}, {m.get('cores')} cores"),
        ("RAM", m.get("ram_gib") and f"{m['ram_gib']} GiB"),
        ("kernel", m.get("kernel")),
        ("OS", m.get("os") or m.get("platform")),
        ("Python", m.get("python")),
        ("SQLite", m.get("sqlite")),
        ("PostgreSQL", m.get("postgresql")),
        ("Redis", m.get("redis")),
        ("Node", m.get("node")),
        ("tokenpath commit", m.get("tokenpath_commit")),
        (
            "load before the run",
            load
            and f"loadavg {' '.join(load.get('loadavg', []))}; other processes "
            f"{load.get('other_cpu_pct')} % of one core over {load.get('window_s')} s"
            + (f" (busiest: {busiest})" if busiest else ""),
        ),
        ("libraries", ", ".join(f"{k} {v}" for k, v in (m.get("libraries") or {}).items())),
    ]
    lines = ["| | |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in rows if v]
    return lines


def tokenpath_table(doc: dict[str, Any], level: int) -> list[str]:
    results, concs = doc["results"], doc["settings"]["concurrency"]
    tail = 32 if 32 in concs else max(concs)
    head = ["scenario"]
    for c in concs:
        head += [f"ops/s c={c}", f"p50 ms c={c}", f"p99 ms c={c}"]
    head += [f"p99/p50 c={tail}", f"server CPU ms/op c={concs[0]}", "other CPU % (max)", "errors"]
    lines = ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for scenario in _scenarios(results, "tokenpath"):
        cells = [LABELS.get(scenario, scenario)]
        errors, other = 0, None
        for c in concs:
            r = pick(results, target="tokenpath", scenario=scenario, conc=c, level=level)
            if r is None or r.get("error"):
                cells += [_ops(r), "-", "-"]
                continue
            cells += [fmt(r["median_rps"]), fmt(r["median_p50_ms"], 2), fmt(r["median_p99_ms"], 2)]
            errors += r.get("total_errors") or 0
            if r.get("median_other_cpu_pct") is not None:
                other = max(other or 0.0, r["median_other_cpu_pct"])
        last = pick(results, target="tokenpath", scenario=scenario, conc=tail, level=level)
        ratio = None
        if last and not last.get("error") and last.get("median_p50_ms"):
            ratio = last["median_p99_ms"] / last["median_p50_ms"]
        first = pick(results, target="tokenpath", scenario=scenario, conc=concs[0], level=level)
        per_op = cpu_ms_per_op(first) if first and not first.get("error") else None
        cells += [fmt(ratio, 1), fmt(per_op, 3), fmt(other, 0), str(errors)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def resource_notes(doc: dict[str, Any], level: int) -> list[str]:
    lines = []
    for c in doc["settings"]["concurrency"]:
        got = {
            s: pick(doc["results"], target="tokenpath", scenario=s, conc=c, level=level)
            for s in ("resource_bare", "resource_jwt")
        }
        bare, jwt = got["resource_bare"], got["resource_jwt"]
        if not bare or not jwt or bare.get("error") or jwt.get("error"):
            continue
        if not bare["median_rps"] or not jwt["median_rps"]:
            continue
        loss = 100 * (1 - jwt["median_rps"] / bare["median_rps"])
        text = (
            f"* c={c}: validating the bearer JWT costs {loss:.1f} % of throughput "
            f"({fmt(bare['median_rps'])} -> {fmt(jwt['median_rps'])} ops/s), "
            f"p50 {fmt(bare['median_p50_ms'], 2)} -> {fmt(jwt['median_p50_ms'], 2)} ms"
        )
        cpu_bare, cpu_jwt = cpu_ms_per_op(bare), cpu_ms_per_op(jwt)
        if cpu_bare and cpu_jwt:
            text += (
                f"; server CPU +{1000 * (cpu_jwt - cpu_bare):.0f} us per request "
                f"(+{100 * (cpu_jwt / cpu_bare - 1):.0f} %)"
            )
        lines.append(text + ".")
        dpop = pick(
            doc["results"], target="tokenpath", scenario="resource_dpop", conc=c, level=level
        )
        if dpop and not dpop.get("error") and dpop["median_rps"]:
            loss = 100 * (1 - dpop["median_rps"] / jwt["median_rps"])
            text = (
                f"* c={c}: checking a DPoP proof as well costs {loss:.1f} % more "
                f"({fmt(jwt['median_rps'])} -> {fmt(dpop['median_rps'])} ops/s), "
                f"p50 {fmt(jwt['median_p50_ms'], 2)} -> {fmt(dpop['median_p50_ms'], 2)} ms"
            )
            cpu_dpop = cpu_ms_per_op(dpop)
            if cpu_jwt and cpu_dpop:
                text += f"; server CPU +{1000 * (cpu_dpop - cpu_jwt):.0f} us per request"
            lines.append(text + ".")
    return lines


def login_notes(doc: dict[str, Any], level: int) -> list[str]:
    a = doc.get("argon2")
    if not a:
        return []
    p = a["params"]
    lines = [
        f"* raw argon2id in-process (t={p['time_cost']}, m={p['memory_cost_kib']} KiB, "
        f"p={p['parallelism']}, the stored hashes' parameters; best of {a.get('best_of', 1)} "
        f"window(s) of {a['window_s']} s): "
        f"{fmt(a['verify_per_s_1_thread'])} verifications/s on 1 thread "
        f"({fmt(a['ms_per_verify'], 2)} ms each), {fmt(a['verify_per_s_all_cores'])}/s on "
        f"{a['threads']} threads"
        + (
            f" (other processes used {a['other_cpu_pct'][0]} / {a['other_cpu_pct'][1]} % of a "
            "core meanwhile)."
            if a.get("other_cpu_pct")
            else "."
        )
    ]
    for c in doc["settings"]["concurrency"]:
        r = pick(doc["results"], target="tokenpath", scenario="login", conc=c, level=level)
        if r and not r.get("error") and a["verify_per_s_all_cores"]:
            share = 100 * r["median_rps"] / a["verify_per_s_all_cores"]
            lines.append(
                f"* c={c}: {fmt(r['median_rps'])} sign-ins/s = {share:.0f} % of raw argon2id "
                f"on {a['threads']} threads."
            )
    return lines


def growth_table(doc: dict[str, Any]) -> list[str]:
    levels = [g["level"] for g in doc.get("growth", [])]
    if not levels:
        return []
    base = levels[0]
    results, concs = doc["results"], doc["settings"]["concurrency"]
    lines: list[str] = []
    measured = {r["scenario"] for r in results if r.get("level", 0) != base and not r.get("error")}
    head = ["scenario", "c"]
    for lv in levels:
        head += [f"{lv:,} ops/s", f"{lv:,} p99 ms"]
        if lv != base:
            head += ["ops/s change", "p99 change"]
    if len(levels) > 1:
        lines += ["| " + " | ".join(head) + " |", "|---|---:|" + "---:|" * (len(head) - 2)]
    for scenario in _scenarios(results, "tokenpath") if len(levels) > 1 else []:
        if scenario not in measured:
            continue  # measured at the first level only (reads nothing that grows)
        for c in concs:
            ref = pick(results, target="tokenpath", scenario=scenario, conc=c, level=base)
            cells = [LABELS.get(scenario, scenario), str(c)]
            for lv in levels:
                r = pick(results, target="tokenpath", scenario=scenario, conc=c, level=lv)
                ok = r is not None and not r.get("error")
                cells += [_ops(r), fmt(r["median_p99_ms"], 2) if ok else "-"]
                if lv == base:
                    continue
                if ok and ref and not ref.get("error") and ref["median_rps"]:
                    d_ops = 100 * (r["median_rps"] / ref["median_rps"] - 1)
                    d_p99 = 100 * (r["median_p99_ms"] / ref["median_p99_ms"] - 1)
                    cells += [f"{d_ops:+.1f} %", f"{d_p99:+.1f} %"]
                else:
                    cells += ["-", "-"]
            lines.append("| " + " | ".join(cells) + " |")
    if lines:
        lines.append("")
    for g in doc["growth"]:
        rows = ", ".join(f"{k} {v:,}" for k, v in (g.get("rows") or {}).items())
        others = [
            r["median_other_cpu_pct"]
            for r in results
            if r.get("level") == g["level"]
            and r.get("target", "tokenpath") == "tokenpath"
            and r.get("median_other_cpu_pct") is not None
        ]
        busy = f"; other processes used up to {max(others):.0f} % of a core" if others else ""
        lines.append(
            f"* level {g['level']:,}: {g['inserted']:,} grants added in {g['seconds']} s; "
            f"rows now: {rows}{busy}."
        )
    cleanup = doc.get("cleanup")
    if cleanup:
        lines.append(
            f"* `tokenpath db cleanup` on the {cleanup['level']:,} level took "
            f"{cleanup['seconds']} s (server stopped; includes the no-op migration check): "
            f"{cleanup.get('output') or cleanup.get('error')}"
        )
    return lines


def peers_section(doc: dict[str, Any], level: int) -> list[str]:
    peers = doc.get("peers") or {}
    if not peers:
        return []
    results, concs = doc["results"], doc["settings"]["concurrency"]
    names = list(peers)
    head = ["scenario", "c", "tokenpath ops/s"]
    for n in names:
        head += [f"{n} ops/s", f"tokenpath / {n}"]
    grown = f" tokenpath figures are those of growth level {level:,}." if doc.get("growth") else ""
    lines = [
        "## tokenpath vs peers",
        "",
        "Same run, same machine, same load generator. `tokenpath / peer` = tokenpath ops/s "
        "divided by the peer's: above 1 tokenpath is faster. `-`: the peer does not offer the "
        f"scenario (or it was not selected); `failed`: see the notes below.{grown}",
        "",
        "| " + " | ".join(head) + " |",
        "|---|---:|" + "---:|" * (len(head) - 2),
    ]
    scenarios = [s for s in ORDER if any(r["scenario"] == s for r in results)]
    for scenario in scenarios:
        for c in concs:
            ours = pick(results, target="tokenpath", scenario=scenario, conc=c, level=level)
            theirs = [pick(results, target=n, scenario=scenario, conc=c, level=None) for n in names]
            offered = any(scenario in peers[n].get("scenarios", []) for n in names)
            if all(t is None for t in theirs) and not offered:
                continue
            cells = [LABELS.get(scenario, scenario), str(c), _ops(ours)]
            for n, t in zip(names, theirs, strict=True):
                if not peers[n].get("ok") and scenario in peers[n].get("scenarios", [scenario]):
                    cells += ["**did not run**", "-"]
                    continue
                ratio = "-"
                if (
                    t is not None
                    and ours is not None
                    and not t.get("error")
                    and not ours.get("error")
                    and t["median_rps"]
                ):
                    ratio = f"{ours['median_rps'] / t['median_rps']:.2f}"
                cells += [_ops(t), ratio]
            lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Peers:", ""]
    for n, p in peers.items():
        if p.get("ok"):
            state = f"ran; peak RSS {p.get('peak_rss_mb')} MiB"
        else:
            state = f"**DID NOT RUN: {p.get('problem')}**"
        note = f" Note: {p['notes']}." if p.get("notes") else ""
        lines.append(f"* `{n}`: {p.get('what')}; storage {p.get('storage')}. {state}.{note}")
    failed = [r for r in results if r.get("target") in peers and r.get("error")]
    for r in failed:
        lines.append(f"* `{r['target']}` {r['scenario']} c={r['concurrency']}: {r['error']}")
    lines += [
        "",
        "CPU per operation: server = the server's process tree; storage = Redis or the "
        "PostgreSQL server tree (SQLite runs inside tokenpath, so it is in the server column).",
        "",
        "| server | scenario | c | ops/s | p50 ms | p99 ms | server CPU ms/op | storage CPU ms/op "
        "| errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in ["tokenpath", *names]:
        rows = [r for r in results if r.get("target", "tokenpath") == n and not r.get("error")]
        if n == "tokenpath":
            rows = [r for r in rows if r.get("level", 0) == level and r["scenario"] in scenarios]
            rows = [
                r
                for r in rows
                if any(x.get("target") in names and x["scenario"] == r["scenario"] for x in results)
            ]
        for r in rows:
            lines.append(
                f"| {n} | {LABELS.get(r['scenario'], r['scenario'])} | {r['concurrency']} | "
                f"{fmt(r['median_rps'])} | {fmt(r['median_p50_ms'], 2)} | "
                f"{fmt(r['median_p99_ms'], 2)} | {fmt(cpu_ms_per_op(r), 3)} | "
                f"{fmt(cpu_ms_per_op(r, 'median_storage_cpu_pct'), 3)} | {r['total_errors']} |"
            )
    return lines


def _normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """Results files from before the peers/growth harness: one concurrency, tokenpath only."""
    if "settings" in doc:
        return doc
    first = doc["results"][0] if doc["results"] else {}
    concs = sorted({r["concurrency"] for r in doc["results"]}) or [8]
    settings = {k: first.get(f"{k}_s", first.get(k)) for k in ("duration", "warmup", "repeat")}
    return {**doc, "settings": {**settings, "concurrency": concs}}


def render(doc: dict[str, Any]) -> str:
    doc = _normalise(doc)
    s = doc["settings"]
    levels = [g["level"] for g in doc.get("growth", [])] or [0]
    base = levels[0]
    failed = [r for r in doc["results"] if r.get("target", "tokenpath") == "tokenpath"]
    failed = [r for r in failed if r.get("error")]
    lines = [
        f"# tokenpath benchmark {doc.get('stamp', '')}",
        "",
        f"tokenpath, {doc['db']}, {doc['workers']} worker(s); peak RSS {doc['peak_rss_mb']} MiB; "
        f"{s['repeat']} x {s['duration']} s per cell after {s['warmup']} s warm-up. Every figure "
        "is a median over the repetitions; compare figures only within one run (or runs made "
        "the same way on the same, equally quiet machine).",
        "",
        "## Machine",
        "",
        *machine_table(doc["machine"]),
        "",
        "## tokenpath" + (f" (growth level {base:,})" if doc.get("growth") else ""),
        "",
        *tokenpath_table(doc, base),
    ]
    for r in failed:
        lines.append(f"\n**FAILED** {r['scenario']} c={r['concurrency']}: {r['error']}")
    for error in doc.get("tokenpath_errors") or []:
        lines.append(f"\n**tokenpath could not be measured**: {error}")
    notes = resource_notes(doc, base)
    if notes:
        lines += ["", "Resource server (JWT validation overhead, same handler):", "", *notes]
    notes = login_notes(doc, base)
    if notes:
        lines += ["", "Login vs raw argon2id:", "", *notes]
    growth = growth_table(doc)
    if growth:
        lines += ["", "## Growth", "", *growth]
    peers = peers_section(doc, base)
    if peers:
        lines += ["", *peers]
    return "\n".join(lines) + "\n"


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "results.json")
    sys.stdout.write(render(json.loads(path.read_text())))


if __name__ == "__main__":
    main()
