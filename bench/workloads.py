"""The traffic workloads (README "Workloads" 1-5): plain HTTP (wrk), bulk copies (curl), TLS
interception, new tunnels (tunnel_rate); the samples they collect; and run_all(), the order of
every workload. The other workloads are in resources.py (memory, startup, policy) and
perfprofile.py (profile)."""

from __future__ import annotations

import json
import os
import re
import shlex
import time
from pathlib import Path

import knobs as K
import servers as S
from network import BenchNet
from runner import execute, measure

CURL_STATS = ["-w", "%{http_code} %{size_download} %{speed_download}\\n"]


def curl_route(target: str, kind: str) -> list[str]:
    """curl options that send a request of `kind` to the origin by way of `target`: "http" (a
    plain GET), "tunnel" (CONNECT, plain HTTP inside) or "tls" (HTTPS). HAProxy is a reverse
    proxy: curl connects to its HTTP front end, or to its TCP relays for the tunnel kinds."""
    if target == "direct":
        return []
    if target == "haproxy":
        port, origin_port = {"http": (S.HAPROXY_HTTP, 80), "tunnel": (S.HAPROXY_TCP80, 80),
                             "tls": (S.HAPROXY_TCP443, 443)}[kind]
        return ["--connect-to", f"{K.NAME}:{origin_port}:127.0.0.1:{port}"]
    return ["-x", S.proxy_url(target)] + (["--proxytunnel"] if kind == "tunnel" else [])


def curl_cmd(net: BenchNet, target: str, kind: str, path: str, *extra, cacert=True) -> list[str]:
    """curl GETs `path`; over TLS it trusts the bench CA unless `cacert` is False (then only
    the defaults: awf's sandbox makes those trust an intercepting awf's CA)."""
    url = f"https://{K.NAME}{path}" if kind == "tls" else f"http://{K.NAME}{path}"
    ca = ["--cacert", net.ca] if kind == "tls" and cacert else []
    return ["curl", "-sS", "-o", "/dev/null", *extra, *curl_route(target, kind), *ca, url]


def tunnel_cmd(net: BenchNet, target: str, *extra) -> list:
    where = {"direct": ["--direct", f"{K.ORIGIN4}:443"],
             "haproxy": ["--direct", f"127.0.0.1:{S.HAPROXY_TCP443}"]}.get(target)
    where = where or ["--proxy", f"127.0.0.1:{S.FORWARD_PORTS[target]}"]
    return [K.TOOLS_DIR / "tunnel_rate", *where, "--host", K.NAME, "--cafile", net.ca, *extra]


WRK_LUA = """
-- {form} requests for {name}
wrk.path = "{path}"
wrk.headers["Host"] = "{name}"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCHJSON {{\\"requests\\":%d,\\"duration_us\\":%d,\\"bytes\\":%d,\\"mean_us\\":%.1f," ..
    "\\"p50_us\\":%d,\\"p90_us\\":%d,\\"p99_us\\":%d,\\"max_us\\":%d,\\"err_connect\\":%d," ..
    "\\"err_read\\":%d,\\"err_write\\":%d,\\"err_status\\":%d,\\"err_timeout\\":%d}}\\n",
    summary.requests, summary.duration, summary.bytes, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def wrk_cmd(net: BenchNet, target: str, conns: int, seconds: int) -> list[str]:
    """wrk with 1 KiB GETs: origin-form to nginx or HAProxy, absolute-URI to a forward proxy."""
    origin_form = target in ("direct", "haproxy")
    kind = "origin" if origin_form else "proxy"
    f = net.dir / f"wrk-{kind}.lua"
    if not f.exists():
        f.write_text(WRK_LUA.format(form="origin-form" if origin_form else "absolute-URI",
                                    name=K.NAME, path="/1k" if origin_form else f"http://{K.NAME}/1k"))
        os.chmod(f, 0o644)
    url = {"direct": f"http://{K.NAME}/", "haproxy": f"http://127.0.0.1:{S.HAPROXY_HTTP}/"}.get(target)
    url = url or S.proxy_url(target) + "/"
    return ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--timeout", "5s", "-s", str(f), url]


class Bench:
    def __init__(self, net: BenchNet):
        self.net = net
        self.samples: dict = {}     # metric -> target -> [values]
        self.errors: dict = {}      # metric -> target -> [messages]
        self.available = list(K.TARGETS)
        self.extra: dict = {}

    def add(self, metric: str, target: str, value):
        self.samples.setdefault(metric, {}).setdefault(target, []).append(value)

    def err(self, metric: str, target: str, msg: str):
        msg = msg.strip().replace("\n", " | ")[-400:]
        self.errors.setdefault(metric, {}).setdefault(target, []).append(msg)
        K.log(f"  {metric} {target}: ERROR {msg}")

    def targets(self, with_direct=True, rep=0):
        """The available targets in run order; in odd repetitions awf runs before awf-before
        (ABBA), so that a drift of the machine does not favour either binary."""
        ts = [t for t in self.available if with_direct or t != "direct"]
        if rep % 2 and "awf" in ts and "awf-before" in ts:
            i, j = ts.index("awf-before"), ts.index("awf")
            ts[i], ts[j] = ts[j], ts[i]
        return ts

    def awfs(self, rep=0):
        return [t for t in self.targets(rep=rep) if S.is_awf(t)]

    # ---- preflight -------------------------------------------------------------------
    def preflight(self):
        """One plain, one CONNECT-plain and one HTTPS request per target; a target that fails is
        left out (and said so). For awf, its access.log must hold exactly these records."""
        for t in list(self.available):
            checks = [curl_cmd(self.net, t, kind, "/1k", "-w", "%{http_code} %{size_download}\\n",
                               "--max-time", "10") for kind in ("http", "tunnel", "tls")]
            access: list[str] = []

            def read_access(logs_dir):
                try:
                    access.extend(Path(logs_dir, "access.log").read_text().splitlines())
                except OSError:
                    pass
            rc, out, err = execute(self.net, t, ["sh", "-c", " && ".join(map(shlex.join, checks))],
                                   timeout=60, logs_check=read_access)
            ok = rc == 0 and out.split() == ["200", "1024"] * len(checks)
            if ok and S.is_awf(t):
                K.log(f"preflight {t}: {len(access)} access.log records "
                      f"({', '.join(a.split()[5] + ' ' + a.split()[8] for a in access if len(a.split()) > 8)})")
                if len(access) != len(checks):
                    ok, err = False, f"{t}'s access.log has {len(access)} records, expected {len(checks)}"
            if ok:
                K.log(f"preflight {t}: ok")
                continue
            K.log(f"preflight {t}: FAILED (rc={rc}) out={out!r} err={err.strip()[-800:]!r}; "
                  f"{t} is left out")
            self.available.remove(t)
            self.extra.setdefault("preflight_failures", {})[t] = (err or out)[-800:]

    # ---- 1. plain HTTP (wrk) -------------------------------------------------------------
    def log_sizes(self, target: str, logs_dir: str):
        """awf's record sizes: bytes per line of access.log and of audit.jsonl."""
        for name, metric in (("access.log", "log_access_bytes"), ("audit.jsonl", "log_audit_bytes")):
            try:
                data = Path(logs_dir, name).read_bytes()
            except OSError:
                continue
            if data.count(b"\n"):
                self.add(metric, target, len(data) / data.count(b"\n"))

    def wrk_once(self, target: str, conns: int, duration: int) -> dict:
        rc, out, err, cpu = measure(self.net, target, wrk_cmd(self.net, target, conns, duration),
                                    timeout=duration + 30,
                                    logs_check=lambda d: self.log_sizes(target, d))
        m = re.search(r"BENCHJSON (\{.*\})", out)
        if rc != 0 or not m:
            raise RuntimeError(f"wrk rc={rc}: {out[-500:]} {err[-500:]}")
        r = json.loads(m.group(1))
        r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
        r["errors"] = sum(r[k] for k in ("err_connect", "err_read", "err_write", "err_status",
                                         "err_timeout"))
        r["cpu_s"] = cpu
        return r

    def http_sample(self, key: str, t: str, r: dict) -> str:
        self.add(f"{key}_rps", t, r["rps"])
        self.add(f"{key}_p50_ms", t, r["p50_us"] / 1000)
        self.add(f"{key}_p99_ms", t, r["p99_us"] / 1000)
        self.add(f"{key}_mean_ms", t, r["mean_us"] / 1000)
        self.add(f"{key}_socket_errors", t, r["errors"])
        if r["cpu_s"] is None:
            return ""
        self.add(f"{key}_cpu_us", t, r["cpu_s"] * 1e6 / r["requests"])
        return f"  proxy CPU {r['cpu_s'] * 1e6 / r['requests']:.1f} µs/req"

    def w_http(self):
        for conns in K.CONNS:
            key = f"http{conns}"
            for rep in range(K.REPS):
                for t in self.targets(rep=rep):
                    try:
                        r = self.wrk_once(t, conns, K.DURATION)
                    except Exception as e:
                        self.err(f"{key}_rps", t, str(e))
                        continue
                    if r["err_status"] or r["requests"] == 0:
                        self.err(f"{key}_rps", t, f"{r['err_status']} non-2xx answers of {r['requests']}")
                        continue
                    cpu = self.http_sample(key, t, r)
                    K.log(f"  http c={conns} rep {rep + 1}/{K.REPS} {t:10s} {r['rps']:9.0f} req/s  "
                          f"p50 {r['p50_us'] / 1000:.2f} ms  p99 {r['p99_us'] / 1000:.2f} ms  "
                          f"socket errors {r['errors']}{cpu}")

    # ---- 2./3. bulk transfers (curl) -----------------------------------------------------
    def curl_bulk(self, target: str, kind: str, awf_args=(), logs_check=None, cacert=True):
        """One BULK_MIB MiB GET of /bulk: (bytes/s, proxy CPU seconds or None)."""
        cmd = curl_cmd(self.net, target, kind, "/bulk", "--max-time", "120", *CURL_STATS,
                       cacert=cacert)
        rc, out, err, cpu = measure(self.net, target, cmd, timeout=150, awf_args=awf_args,
                                    logs_check=logs_check)
        parts = out.split()
        if rc != 0 or len(parts) < 3 or parts[0] != "200" or int(parts[1]) != K.BULK_MIB * K.MIB:
            raise RuntimeError(f"curl rc={rc} out={out.strip()!r} err={err.strip()[-300:]!r}")
        return float(parts[2]), cpu

    def w_bulk(self, kinds):
        curl_kind = {"connect_plain": "tunnel", "connect_tls": "tls", "http_bulk": "http"}
        for rep in range(K.REPS):
            for kind in kinds:
                for t in self.targets(rep=rep):
                    try:
                        bps, cpu = self.curl_bulk(t, curl_kind[kind])
                    except Exception as e:
                        self.err(f"{kind}_mbs", t, str(e))
                        continue
                    self.add(f"{kind}_mbs", t, bps / 1e6)
                    extra = ""
                    if cpu is not None:
                        per_gb = cpu * 1000 / (K.BULK_MIB * K.MIB / 1e9)
                        self.add(f"{kind}_cpu_ms_per_gb", t, per_gb)
                        extra = f"  proxy CPU {per_gb:.0f} ms/GB"
                    K.log(f"  {kind} rep {rep + 1}/{K.REPS} {t:10s} {bps / 1e6:8.0f} MB/s{extra}")

    # ---- 3b. TLS interception (awf --ssl-bump) against splicing and direct ---------------
    def intercept_once(self, target: str, mode: str):
        """One BULK_MIB MiB HTTPS download of /bulk: direct (curl trusts the bench CA), spliced
        (CONNECT through awf, the origin's TLS relayed untouched) or intercepted (awf
        --ssl-bump: curl gets no --cacert and must trust the run's CA through the sandbox's
        defaults). Returns (MiB/s, awf CPU seconds or None)."""
        url = f"https://{K.NAME}/bulk"
        audit: list[dict] = []

        def read_audit(logs_dir):
            audit.extend(r for r in K.V.read_jsonl(Path(logs_dir, "audit.jsonl")) if "_error" not in r)
        bump = mode == "intercepted"
        args = ["--ssl-bump", "--allow-urls", f"https://{K.NAME}/*", "--ssl-bump-ca-file",
                self.net.ca] if bump else []
        bps, cpu = self.curl_bulk(target, "tls", awf_args=args, logs_check=read_audit, cacert=not bump)
        check_intercept_audit(mode, url, audit)
        return bps / K.MIB, cpu

    def w_intercept(self):
        if "awf" not in self.available:
            self.err("intercept_mibs", "awf", "awf is not among the available targets")
        # Squid as a further way needs ssl-bump (a build with ssl-crtd); Debian 12's has none.
        has = "enable-ssl-crtd" in K.run(["squid", "-v"], check=False, timeout=10).stdout
        msg = ("squid: this build has ssl-crtd, but the harness has no Squid ssl-bump run yet"
               if has else "squid: no ssl-bump support in this build")
        K.log(f"  {msg}")
        self.extra.setdefault("notes", []).append(f"intercept: {msg}")
        for rep in range(K.REPS):
            ways = [("direct", "direct")] if "direct" in self.available else []
            ways += [(t, m) for t in self.awfs(rep) for m in ("spliced", "intercepted")]
            for t, mode in ways:
                way = t if mode == "direct" else f"{t}-{mode}"
                try:
                    mibs, cpu = self.intercept_once(t, mode)
                except Exception as e:
                    self.err("intercept_mibs", way, str(e))
                    continue
                self.add("intercept_mibs", way, mibs)
                extra = ""
                if cpu is not None:
                    self.add("intercept_cpu_s_per_gib", way, cpu / (K.BULK_MIB / 1024))
                    extra = f"  awf CPU {cpu / (K.BULK_MIB / 1024):.2f} s/GiB"
                K.log(f"  intercept rep {rep + 1}/{K.REPS} {way:22s} {mibs:8.0f} MiB/s{extra}")

    # ---- 3c. a streamed model answer through awf's API proxy ------------------------------
    def api_once(self, target: str):
        """One API_MIB MiB SSE answer (www/stream.sse) fetched by curl: direct over HTTPS, or
        from awf's API proxy (127.0.0.1:10000, forwarded over TLS to nginx, key injected, usage
        accounted). Returns (time to first byte s, MiB/s, awf CPU seconds or None, records)."""
        records: list[dict] = []

        def read_usage(logs_dir):
            records.extend(K.V.read_jsonl(Path(logs_dir, "api-proxy-logs", "token-usage.jsonl")))
        stats = ["-w", "%{http_code} %{size_download} %{time_starttransfer} %{speed_download}\\n"]
        if target == "direct":
            cmd = ["curl", "-sS", "-o", "/dev/null", "--max-time", "120", *stats,
                   "--cacert", self.net.ca, f"https://{K.NAME}/stream.sse"]
            args, env = (), None
        else:
            cmd = ["curl", "-sS", "-o", "/dev/null", "--max-time", "120", *stats,
                   "http://127.0.0.1:10000/stream.sse"]
            args = ["--enable-api-proxy", "--openai-api-target", f"{K.NAME}:443",
                    "--api-proxy-ca-file", self.net.ca]
            env = {"OPENAI_API_KEY": "sk-bench-key"}
        rc, out, err, cpu = measure(self.net, target, cmd, timeout=150, awf_args=args,
                                    logs_check=read_usage, env=env)
        parts = out.split()
        if rc != 0 or len(parts) < 4 or parts[0] != "200":
            raise RuntimeError(f"curl rc={rc} out={out.strip()!r} err={err.strip()[-300:]!r}")
        size = int(parts[1])
        return float(parts[2]), float(parts[3]) / K.MIB, cpu, size, records

    def w_api(self):
        for rep in range(K.REPS):
            ts = (["direct"] if "direct" in self.available else []) + self.awfs(rep)
            for t in ts:
                try:
                    ttfb, mibs, cpu, size, records = self.api_once(t)
                except Exception as e:
                    self.err("api_sse_mibs", t, str(e))
                    continue
                self.add("api_sse_ttfb_ms", t, ttfb * 1000)
                self.add("api_sse_mibs", t, mibs)
                extra = ""
                if cpu is not None:
                    per_mib = cpu * 1000 / (size / K.MIB)
                    self.add("api_sse_cpu_ms_per_mib", t, per_mib)
                    extra = f"  awf CPU {per_mib:.2f} ms/MiB"
                if t == "awf" and [r.get("input_tokens") for r in records] != [1000]:
                    self.err("api_sse_usage", t, f"token-usage.jsonl holds {records!r}")
                K.log(f"  api sse rep {rep + 1}/{K.REPS} {t:10s} ttfb {ttfb * 1000:6.1f} ms  "
                      f"{mibs:8.0f} MiB/s{extra}  usage records {len(records)}")

    # ---- 4. new tunnels per second (tunnel_rate) -----------------------------------------
    def tunnels_once(self, t: str, rep: int):
        cmd = tunnel_cmd(self.net, t, "--concurrency", K.TUNNEL_CONCURRENCY, "--duration",
                         K.DURATION, "--path", "/1k")
        rc, out, err, cpu = measure(self.net, t, cmd, timeout=K.DURATION + 60)
        m = re.search(r"(\{\"mode\":\"rate\".*\})", out)
        if not m:
            self.err("tunnels_per_s", t, f"rc={rc} {out[-300:]} {err[-300:]}")
            return
        r = json.loads(m.group(1))
        if r["ok"] == 0:
            self.err("tunnels_per_s", t, f"no tunnel completed: {r['first_error']}")
            return
        for key in ("rate", "p50_ms", "p99_ms", "errors"):
            self.add("tunnels_per_s" if key == "rate" else f"tunnels_{key}", t, r[key])
        extra = ""
        if cpu is not None:
            self.add("tunnels_cpu_us", t, cpu * 1e6 / r["ok"])
            extra = f"  proxy CPU {cpu * 1e6 / r['ok']:.0f} µs/tunnel"
        if r["errors"]:
            self.err("tunnels_errors", t, f"{r['errors']} failed tunnels: {r['first_error']}")
        K.log(f"  tunnels rep {rep + 1}/{K.REPS} {t:10s} {r['rate']:8.0f} tunnels/s  "
              f"p99 {r['p99_ms']:.1f} ms  errors {r['errors']}{extra}")

    def w_tunnels(self):
        for rep in range(K.REPS):
            for t in self.targets(rep=rep):
                self.tunnels_once(t, rep)

    # ---- everything --------------------------------------------------------------------
    def steps(self):
        import perfprofile
        import resources
        return [("http", "plain HTTP forward proxying, 1 KiB (wrk)", self.w_http),
                ("connect", "CONNECT tunnel bulk, plain and TLS (curl)",
                 lambda: self.w_bulk(["connect_plain", "connect_tls"])),
                ("bulk", "plain HTTP bulk (curl)", lambda: self.w_bulk(["http_bulk"])),
                ("intercept", "HTTPS bulk: direct, awf spliced, awf intercepted (--ssl-bump) (curl)",
                 self.w_intercept),
                ("api", f"streamed API answer, {K.API_MIB} MiB SSE through the API proxy (curl)",
                 self.w_api),
                ("tunnels", "new tunnels/s: TCP + CONNECT + TLS + GET (tunnel_rate)", self.w_tunnels),
                ("memory", f"proxy RSS idle and with {K.HOLD_TUNNELS} idle TLS tunnels",
                 lambda: resources.w_memory(self)),
                ("startup", "startup overhead (hyperfine)", lambda: resources.w_startup(self)),
                ("policy", "policy engine (Google Benchmark)", lambda: resources.w_policy(self)),
                ("profile", "awf profile (perf, cpu-clock)", lambda: perfprofile.w_profile(self))]

    def run_all(self):
        t0 = time.monotonic()
        self.preflight()
        for key, title, fn in self.steps():
            if key not in K.WORKLOADS or (key not in ("startup", "policy") and not self.available):
                continue
            s, load = time.monotonic(), os.getloadavg()[0]
            K.log(f"== {title} (load average {load:.2f})")
            if load > (os.cpu_count() or 1) * 0.5:
                K.log("   warning: the machine is busy with other work; expect noisy figures")
            fn()
            self.extra.setdefault("workload_seconds", {})[key] = round(time.monotonic() - s, 1)
            self.extra.setdefault("loadavg_1m_at_start", {})[key] = round(load, 2)
        self.extra["total_seconds"] = round(time.monotonic() - t0, 1)
        if self.net.exit_hangs:
            self.extra["awf_exit_hangs"] = self.net.exit_hangs
            self.errors.setdefault("awf_exit", {}).setdefault("awf", []).append(
                f"{len(self.net.exit_hangs)} awf run(s) did not exit within {K.EXIT_GRACE} s after "
                f"the command ended (measurement kept, awf killed), e.g. {self.net.exit_hangs[0]}")


def check_intercept_audit(mode: str, url: str, audit: list[dict]):
    """The path really was the one named: an intercepted GET is in awf's audit log as a kind
    "intercept" record (with the URL and status); a spliced tunnel is one "connect" record."""
    kinds = [a.get("kind") for a in audit]
    if mode == "intercepted" and not any(
            a.get("kind") == "intercept" and a.get("url") == url and a.get("status") == 200
            and a.get("action") == "allow" for a in audit):
        raise RuntimeError(f"no kind 'intercept' record for {url} in awf's audit.jsonl: {kinds}")
    if mode == "spliced" and ("intercept" in kinds or "connect" not in kinds):
        raise RuntimeError(f"the spliced run's audit.jsonl is not one CONNECT tunnel: {kinds}")
