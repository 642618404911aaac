"""The table: medians per metric and target, awf's ratios to HAProxy, Squid, direct and (with
AWF_BEFORE) to the "before" binary, the issue's targets as PASS/MISS; the machine; the results
files (results/<stem>.json and .txt)."""

from __future__ import annotations

import json
import os
import platform

import knobs as K
from workloads import Bench

# Ratio columns: awf's median over the column's (only those whose target is in the table).
RATIOS = [("awf/haproxy", "haproxy"), ("awf/squid", "squid"), ("awf/direct", "direct"),
          ("awf/before", "awf-before")]


def fmt(v, unit):
    if v is None:
        return "-"
    if unit in ("req/s", "MB/s", "MiB/s", "tunnels/s"):
        return f"{v:,.0f}"
    if unit == "×":
        return f"{v:.2f}×"
    if unit == "s":
        return f"{v:.2f}"
    if unit in ("ns", "B"):
        return f"{v:.0f}"
    if unit == "µs":
        return f"{v:.1f}" if v < 100 else f"{v:.0f}"
    if unit in ("ms", "MiB"):
        return f"{v:.2f}" if v < 10 else (f"{v:.1f}" if v < 100 else f"{v:.0f}")
    return f"{v:.3g}"


def ratio(a, c):
    return a / c if a is not None and c else None


def cmp(a, op, c):
    if a is None or c is None:
        return None
    return {">=": a >= c, "<=": a <= c, "<": a < c}[op]


def at_least(a, factor, c):
    """a >= factor × c, None when either is unknown."""
    return cmp(a, ">=", factor * c if c else None)


class Rows:
    def __init__(self, b: Bench):
        self.b = b
        self.med = {m: {t: K.median(v) for t, v in per.items()} for m, per in b.samples.items()}
        self.rows: list[dict] = []

    def g(self, metric, target):
        return self.med.get(metric, {}).get(target)

    def row(self, metric, label, unit, targets_spec=None, cols=None) -> dict:
        cols = cols or {t: self.g(metric, t) for t in K.columns()}
        awf = cols.get("awf")
        r = {"metric": metric, "label": label, "unit": unit, "values": cols,
             "ratios": {name: ratio(awf, cols.get(t)) for name, t in RATIOS},
             "samples": self.b.samples.get(metric, {}), "errors": self.b.errors.get(metric, {}),
             "target": None, "status": None}
        if targets_spec:
            text, checks = targets_spec
            r["target"] = text
            results = [fn() for _, fn in checks]
            if any(x is None for x in results):
                r["status"] = "n/a"
            else:
                failed = [name for (name, _), ok in zip(checks, results) if not ok]
                r["status"] = "PASS" if not failed else "MISS"
                r["missed"] = failed
        self.rows.append(r)
        return r

    def http(self):
        g = self.g
        for conns in K.CONNS:
            k = f"http{conns}"
            rps = lambda t, k=k: g(f"{k}_rps", t)  # noqa: E731
            self.row(f"{k}_rps", f"HTTP 1 KiB, {conns} conns", "req/s",
                     ("≥3× squid, ≥0.5× direct",
                      [("≥3× squid", lambda rps=rps: at_least(rps("awf"), 3, rps("squid"))),
                       ("≥0.5× direct", lambda rps=rps: at_least(rps("awf"), 0.5, rps("direct")))]))
            self.row(f"{k}_p50_ms", f"  latency p50, {conns} conns", "ms")
            self.row(f"{k}_p99_ms", f"  latency p99, {conns} conns", "ms",
                     ("p99 < squid p50", [("p99 < squid p50", lambda k=k: cmp(
                         g(f"{k}_p99_ms", "awf"), "<", g(f"{k}_p50_ms", "squid")))]))
            self.row(f"{k}_cpu_us", f"  proxy CPU per request, {conns} conns", "µs")
        self.row("log_access_bytes", "  awf access.log bytes per record", "B")
        self.row("log_audit_bytes", "  awf audit.jsonl bytes per record", "B")

    def bulk(self):
        cp = lambda t: self.g("connect_plain_mbs", t)  # noqa: E731
        self.row("connect_plain_mbs", f"CONNECT bulk {K.BULK_MIB} MiB, plain HTTP inside", "MB/s",
                 ("≥0.9× direct, ≥1.5× squid",
                  [("≥0.9× direct", lambda: at_least(cp("awf"), 0.9, cp("direct"))),
                   ("≥1.5× squid", lambda: at_least(cp("awf"), 1.5, cp("squid")))]))
        self.row("connect_plain_cpu_ms_per_gb", "  proxy CPU per GB, CONNECT plain", "ms")
        self.row("connect_tls_mbs", f"CONNECT bulk {K.BULK_MIB} MiB, TLS", "MB/s")
        self.row("connect_tls_cpu_ms_per_gb", "  proxy CPU per GB, CONNECT TLS", "ms")
        hb = lambda t: self.g("http_bulk_mbs", t)  # noqa: E731
        self.row("http_bulk_mbs", f"plain HTTP bulk {K.BULK_MIB} MiB", "MB/s",
                 ("≥0.7× direct (≥4× squid)",
                  [("≥0.7× direct", lambda: at_least(hb("awf"), 0.7, hb("direct"))),
                   ("≥4× squid", lambda: at_least(hb("awf"), 4, hb("squid")))]))
        self.row("http_bulk_cpu_ms_per_gb", "  proxy CPU per GB, plain HTTP", "ms")

    def intercept(self):
        samples, errors = self.b.samples, self.b.errors
        for mode, label in (("spliced", "awf spliced (CONNECT)"),
                            ("intercepted", "awf intercepted (--ssl-bump)")):
            im = lambda w: self.g("intercept_mibs", w)  # noqa: E731
            r = self.row(f"intercept_{mode}_mibs", f"HTTPS bulk {K.BULK_MIB} MiB, {label}", "MiB/s",
                         cols={"direct": im("direct"), "awf-before": im(f"awf-before-{mode}"),
                               "awf": im(f"awf-{mode}")})
            r["samples"], r["errors"] = samples.get("intercept_mibs", {}), errors.get("intercept_mibs", {})
        by_way = self.med.get("intercept_mibs", {})
        self.row("intercept_ratio", "  intercepted / spliced (awf col)", "×",
                 cols={t: ratio(by_way.get(f"{t}-intercepted"), by_way.get(f"{t}-spliced"))
                       for t in K.AWF_TARGETS})
        for mode in ("spliced", "intercepted"):
            ic = lambda t: self.g("intercept_cpu_s_per_gib", f"{t}-{mode}")  # noqa: E731
            r = self.row(f"intercept_{mode}_cpu", f"  awf CPU per GiB, {mode}", "s",
                         cols={t: ic(t) for t in K.AWF_TARGETS})
            r["samples"] = samples.get("intercept_cpu_s_per_gib", {})

    def api(self):
        self.row("api_sse_ttfb_ms", f"API proxy SSE {K.API_MIB} MiB, time to first byte", "ms",
                 cols={t: self.g("api_sse_ttfb_ms", t) for t in ("direct", *K.AWF_TARGETS)})
        self.row("api_sse_mibs", "  API proxy SSE throughput", "MiB/s",
                 cols={t: self.g("api_sse_mibs", t) for t in ("direct", *K.AWF_TARGETS)})
        self.row("api_sse_cpu_ms_per_mib", "  awf CPU per streamed MiB", "ms",
                 cols={t: self.g("api_sse_cpu_ms_per_mib", t) for t in K.AWF_TARGETS})

    def tunnels_memory(self):
        g = self.g
        self.row("tunnels_per_s", f"new TLS tunnels, {K.TUNNEL_CONCURRENCY} parallel", "tunnels/s",
                 ("≥3× squid", [("≥3× squid", lambda: at_least(g("tunnels_per_s", "awf"), 3,
                                                               g("tunnels_per_s", "squid")))]))
        self.row("tunnels_p50_ms", "  tunnel setup+GET p50", "ms")
        self.row("tunnels_p99_ms", "  tunnel setup+GET p99", "ms")
        self.row("tunnels_cpu_us", "  proxy CPU per tunnel", "µs")
        self.row("rss_idle_mib", "proxy RSS idle (after 1 request)", "MiB",
                 ("≤10 MiB", [("≤10 MiB", lambda: cmp(g("rss_idle_mib", "awf"), "<=", 10))]))
        n = K.HOLD_TUNNELS
        self.row("rss_tunnels_mib", f"proxy RSS, {n} idle TLS tunnels", "MiB",
                 ("≤40 MiB" if n >= 1000 else f"≤40 MiB (at 1000; {n} here)",
                  [("≤40 MiB", lambda: cmp(g("rss_tunnels_mib", "awf"), "<=", 40))]))

    def startup(self):
        st = self.med.get("startup_ms", {})
        true = st.get("true")
        r = self.row("startup_ms", "startup, median (direct col = `true`)", "ms",
                     ("≤ `true` + 10 ms", [("≤ true+10ms", lambda: cmp(
                         st.get("awf"), "<=", true + 10 if true is not None else None))]),
                     cols={"direct": true, "awf-before": st.get("awf_before"), "awf": st.get("awf")})
        r["awf_minus_true_ms"] = st["awf"] - true if st.get("awf") is not None and true is not None else None
        r["unshare_ms"] = st.get("unshare")
        self.row("startup_unshare_ms", "  `unshare -n -m -p -f true` (direct col)", "ms",
                 cols={"direct": st.get("unshare")})
        self.row("startup_config1000_ms", "  awf with a gh-aw config of 1,000 domains", "ms",
                 cols={"awf-before": st.get("awf_config1000_before"), "awf": st.get("awf_config1000")})

    def policy(self):
        g = self.g
        for n in (10, 1000, 100000):
            tgt = ("≤100 ms", [("≤100 ms", lambda n=n: cmp(g(f"policy_build_{n}_ms", "awf"), "<=", 100))]) \
                if n == 100000 else None
            self.row(f"policy_build_{n}_ms", f"policy build, {n:,} rules", "ms", tgt)
        for n in (10, 1000, 100000):
            for kind in ("hit", "miss"):
                tgt = ("≤200 ns", [("≤200 ns", lambda n=n, kind=kind: cmp(
                    g(f"policy_{kind}_{n}_ns", "awf"), "<=", 200))]) if n == 100000 else None
                self.row(f"policy_{kind}_{n}_ns", f"policy lookup {kind}, {n:,} rules", "ns", tgt)


def build_rows(b: Bench) -> list[dict]:
    rows = Rows(b)
    for section in (rows.http, rows.bulk, rows.intercept, rows.api, rows.tunnels_memory,
                    rows.startup, rows.policy):
        section()
    return [r for r in rows.rows if any(v is not None for v in r["values"].values()) or r["errors"]]


def cells(r: dict, cols: list[str], ratio_cols: list[str]) -> list[str]:
    v = r["values"]
    out = [r["label"], r["unit"]]
    for t in cols:
        out.append("ERR" if r["errors"].get(t) and v.get(t) is None else fmt(v.get(t), r["unit"]))
    for name in ratio_cols:
        x = r["ratios"].get(name)
        if name == "awf/direct" and r["metric"] == "startup_ms" and r.get("awf_minus_true_ms") is not None:
            out.append(f"+{r['awf_minus_true_ms']:.2f} ms")
        else:
            out.append(f"{x:.2f}×" if x is not None else "")
    st = r["status"] or ""
    if st == "MISS":
        st = "MISS (" + ", ".join(r.get("missed", [])) + ")"
    return out + [r["target"] or "", st]


def table(rows: list[dict]) -> list[str]:
    cols = K.columns()
    ratio_cols = [name for name, t in RATIOS if t in cols]
    head = ["workload", "unit", *[("before" if t == "awf-before" else t) for t in cols],
            *ratio_cols, "target", "result"]
    body = [cells(r, cols, ratio_cols) for r in rows]
    widths = [max(len(c[i]) for c in [head] + body) for i in range(len(head))]
    right = set(range(2, 2 + len(cols) + len(ratio_cols)))

    def line(cs):
        return "| " + " | ".join(c.rjust(w) if i in right else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cs, widths))) + " |"
    rule = "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2))
                          for i, w in enumerate(widths)) + "|"
    return [line(head), rule] + [line(c) for c in body]


def render(rows: list[dict], b: Bench, header: str) -> str:
    out = [header, ""] + table(rows)
    errs = [(metric, t, msgs[0]) for metric, per in b.errors.items() for t, msgs in per.items()]
    if errs:
        out += ["", "Errors (first per metric and target):"]
        out += [f"  {m} / {t}: {msg[:300]}" for m, t, msg in errs]
    for t, msg in b.extra.get("preflight_failures", {}).items():
        out.append(f"  preflight {t}: {msg.strip()[:300]}")
    if b.extra.get("notes"):
        out += ["", "Notes:"] + [f"  {n}" for n in b.extra["notes"]]
    return "\n".join(out)


def first_line(cmd) -> str:
    try:
        p = K.run(cmd, check=False, timeout=10)
        return (p.stdout + p.stderr).strip().splitlines()[0]
    except Exception:
        return "?"


def machine() -> dict:
    cpu, mem = "?", 0
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                   if line.startswith("model name"))
        mem = next(int(line.split()[1]) // 1024 for line in open("/proc/meminfo")
                   if line.startswith("MemTotal"))
    except (OSError, StopIteration):
        pass
    git = K.run(["git", "-C", K.ROOT, "describe", "--always", "--dirty"], check=False, timeout=10)
    versions = {"awf": [K.AWF_BIN, "--version"], "squid": ["squid", "-v"],
                "tinyproxy": ["tinyproxy", "-v"], "haproxy": ["haproxy", "-v"],
                "nginx": ["nginx", "-v"], "wrk": ["wrk", "-v"], "curl": ["curl", "--version"],
                "openssl": ["openssl", "version"]}
    if K.AWF_BEFORE:
        versions["awf-before"] = [K.AWF_BEFORE, "--version"]
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_mib": mem, "kernel": platform.release(),
            "awf_source": git.stdout.strip() or "?", "awf_before": K.AWF_BEFORE or None,
            "loadavg_at_start": os.getloadavg(), "nice": os.nice(0),
            "versions": {k: first_line(v) for k, v in versions.items()}}


def header(started, info: dict, b: Bench) -> str:
    before = f" (before: {info['versions'].get('awf-before', '?')})" if K.AWF_BEFORE else ""
    nice = f", nice {info['nice']}" if info["nice"] else ""
    return (f"awf benchmark — {started.strftime('%Y-%m-%d %H:%M UTC')} — {info['cpu']}, "
            f"{info['cores']} cores, {info['mem_mib']} MiB, Linux {info['kernel']} — "
            f"awf {info['awf_source']}{before} — "
            f"{'QUICK, ' if K.QUICK else ''}medians of {K.REPS} (memory: {K.MEM_REPS}), "
            f"{b.extra.get('total_seconds', 0):.0f} s, load average at start "
            f"{info['loadavg_at_start'][0]:.2f}{nice}")


def write_results(started, info: dict, b: Bench) -> str:
    """Prints the table and writes results/<stem>.json and .txt; returns the table."""
    rows = build_rows(b)
    text = render(rows, b, header(started, info, b))
    print(text)
    K.RESULTS_DIR.mkdir(exist_ok=True)
    stem = K.result_stem()
    doc = {"started": started.isoformat(), "quick": K.QUICK,
           "config": {"reps": K.REPS, "mem_reps": K.MEM_REPS, "duration_s": K.DURATION,
                      "bulk_mib": K.BULK_MIB, "conns": K.CONNS,
                      "tunnel_concurrency": K.TUNNEL_CONCURRENCY, "hold_tunnels": K.HOLD_TUNNELS,
                      "startup_runs": K.STARTUP_RUNS, "workloads": K.WORKLOADS,
                      "targets": K.TARGETS},
           "machine": info, "rows": rows, "samples": b.samples, "errors": b.errors, "extra": b.extra}
    (K.RESULTS_DIR / f"{stem}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    (K.RESULTS_DIR / f"{stem}.txt").write_text(text + "\n")
    K.log(f"wrote {K.RESULTS_DIR / (stem + '.json')} and {stem}.txt")
    return text
