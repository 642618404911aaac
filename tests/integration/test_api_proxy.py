"""The LLM API proxy (issue 6, credential isolation): awf holds the provider keys, the sandbox
gets placeholders and base URLs on 127.0.0.1:10000-10003 (Vertex's 10004: test_api_surface.py),
and awf injects the real key on the way out to the configured target over verified HTTPS.

The provider is fake_provider.py, an HTTPS origin (the vnet's server certificate) on port 8443
of every internet-namespace address, so `<provider>.allowed.test:8443` is a fine target and a
request steered anywhere else (evil.test:8443, other.test:8443) would show up in its log with
another local address. Its log (mode 0600, the sandbox cannot read it) records every header.

Traffic rule: every test names a target under .test with --<provider>-api-target, except the one
that checks that a default target outside --allow-domains is refused before any resolution
(and asserts that the test DNS server saw no query for it).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import uuid

import pytest

import vnet as V
from conftest import dns_seen, reached

FP_PORT = 8443
ALLOWED_ADDRS = {V.ALLOWED4, V.ALLOWED6}
EVIL_ADDRS = {V.EVIL4, V.EVIL6, V.OTHER4, V.OTHER6}
LIMIT = 10 * 1024 * 1024
NOTICE = "added to the allowed domains"

PROVIDERS = {
    "openai": {"port": 10000, "vars": ("OPENAI_API_KEY", "CODEX_API_KEY"),
               "header": "authorization", "fmt": "Bearer {}", "default": "api.openai.com",
               "sandbox_env": {"OPENAI_BASE_URL": "http://127.0.0.1:10000",
                               "OPENAI_API_KEY": "sk-placeholder-for-api-proxy",
                               "CODEX_API_KEY": "sk-placeholder-for-api-proxy"}},
    "anthropic": {"port": 10001, "vars": ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"),
                  "header": "x-api-key", "fmt": "{}", "default": "api.anthropic.com",
                  "sandbox_env": {
                      "ANTHROPIC_BASE_URL": "http://127.0.0.1:10001",
                      "ANTHROPIC_API_KEY": "sk-ant-placeholder-key-for-credential-isolation",
                      "ANTHROPIC_AUTH_TOKEN": "sk-ant-placeholder-key-for-credential-isolation"}},
    "copilot": {"port": 10002, "vars": ("COPILOT_GITHUB_TOKEN", "COPILOT_PROVIDER_API_KEY"),
                "header": "authorization", "fmt": "Bearer {}", "default": "api.githubcopilot.com",
                "sandbox_env": {"COPILOT_API_URL": "http://127.0.0.1:10002",
                                "COPILOT_PROVIDER_BASE_URL": "http://127.0.0.1:10002",
                                "COPILOT_GITHUB_TOKEN": "ghu_" + "a" * 36}},
    "gemini": {"port": 10003, "vars": ("GEMINI_API_KEY",),  # GOOGLE_API_KEY is Vertex's
               "header": "x-goog-api-key", "fmt": "{}",
               "default": "generativelanguage.googleapis.com",
               "sandbox_env": {
                   "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:10003",
                   "GEMINI_API_BASE_URL": "http://127.0.0.1:10003",
                   "GEMINI_API_KEY": "gemini-api-key-placeholder-for-credential-isolation"}},
}
KEY_VARS = [v for p in PROVIDERS.values() for v in p["vars"]]
CRED_HEADERS = ("authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key",
                "cookie")

# The test process must not hand awf a provider key of the machine it runs on: awf would turn the
# proxy on by itself (and a missing-key test would see a key).
for _name in KEY_VARS:
    os.environ.pop(_name, None)


def target(provider: str) -> str:
    return f"{provider}.allowed.test"


def target_args(vnet, *providers: str, ca: bool = True, enable: bool = True) -> list[str]:
    args = ["--enable-api-proxy"] if enable else []
    if ca:
        args += ["--api-proxy-ca-file", vnet.ca_path]
    for p in providers:
        args += [f"--{p}-api-target", f"{target(p)}:{FP_PORT}"]
    return args


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def provider(vnet):
    proc = vnet.start_fake_provider(FP_PORT)
    try:
        yield vnet
    finally:
        vnet.stop_host_service(proc)


@pytest.fixture
def secret():
    """The unique part of every real key of a test: scanning for it finds any leak."""
    return "s" + uuid.uuid4().hex[:15]


@pytest.fixture
def keys(secret):
    return {"openai": f"sk-real-{secret}-openai",
            "anthropic": f"sk-ant-real-{secret}-anthropic",
            "copilot": ("ghu_" + f"real{secret}" + "R" * 36)[:40],
            "gemini": f"AIza-real-{secret}-gemini"}


def key_env(keys, *providers: str) -> dict:
    return {PROVIDERS[p]["vars"][0]: keys[p] for p in providers}


class Seen:
    """The fake provider's records since a mark."""

    def __init__(self, vnet, mark: int):
        self.vnet, self.mark = vnet, mark

    def all(self) -> list[dict]:
        return self.vnet.fake_provider_requests(FP_PORT, self.mark)

    def requests(self, needle: str | None = None) -> list[dict]:
        return [r for r in self.all() if r.get("kind") == "request"
                and (needle is None or needle in str(r.get("path", "")))]


def seen(vnet) -> Seen:
    return Seen(vnet, vnet.fake_provider_mark(FP_PORT))


def header_values(rec: dict, name: str) -> list[str]:
    return [v for k, v in rec.get("header_list", []) if k.lower() == name.lower()]


def api_records(res, provider: str | None = None, **kw) -> list[dict]:
    return [r for r in res.audit if r.get("kind") == "api"
            and (provider is None or r.get("provider") == provider)
            and all(r.get(k) == v for k, v in kw.items())]


def env_of(stdout: str, begin: str = "ENV_BEGIN", end: str = "ENV_END") -> dict:
    """Parse a NUL-separated `env -0` dump between two markers."""
    m = re.search("^" + re.escape(begin) + r"\n(.*?)^" + re.escape(end) + "$", stdout,
                  re.S | re.M)
    assert m, stdout
    out = {}
    for item in m.group(1).split("\0"):
        item = item.lstrip("\n")
        if "=" in item:
            k, _, v = item.partition("=")
            out[k] = v
    return out


def status_of(stdout: str, tag: str = "STATUS") -> list[int]:
    return [int(x) for x in re.findall(rf"^{tag}=(\d+)$", stdout, re.M)]


def scan_for(texts: dict[str, str], needles) -> list[str]:
    return [f"{name}: {n}" for name, t in texts.items() for n in needles if n and n in t]


def files_text(*dirs: str) -> dict[str, str]:
    out = {}
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in files:
                p = os.path.join(root, f)
                try:
                    with open(p, "rb") as fh:
                        out[p] = fh.read().decode("latin-1")
                except OSError:
                    pass
    return out


# ------------------------------------------------------------------------ clients in the sandbox
# A raw HTTP/1.1 client: sends each request on ONE connection and reads each answer completely
# (Content-Length, chunked or close-delimited); records when every "data:" line arrived (seconds
# after the request was sent), and for a 101 sends `ws_send` and reads the echo. Prints JSON.
RAW_CLIENT = r'''
import json, socket, sys, time

port = int(sys.argv[1])
reqs = json.loads(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=30)
buf = b""
out = []


def fill():
    global buf
    d = s.recv(65536)
    if not d:
        raise EOFError("closed")
    buf += d


class Enough(Exception):
    pass


def note(res, t0, body):
    n = body.count(b"data:")
    while len(res["t_events"]) < n:
        res["t_events"].append(round(time.monotonic() - t0, 4))
    if res.get("close_after") and n >= res["close_after"]:
        raise Enough()  # the client goes away mid-response


def read_head(res):
    global buf
    while b"\r\n\r\n" not in buf:
        fill()
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    res["status"] = int(parts[1])
    res["status_line"] = lines[0]
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    res["headers"] = hdrs


for rq in reqs:
    res = {"t_events": []}
    if rq.get("close_after"):
        res["close_after"] = rq["close_after"]
    out.append(res)
    t0 = time.monotonic()
    try:
        s.sendall(rq["raw"].encode("latin-1"))
        body_len = rq.get("body_len", 0)
        if body_len:
            if rq.get("wait_first"):
                s.settimeout(rq["wait_first"])
                try:
                    fill()  # an early answer (e.g. 413) before the body was sent
                except socket.timeout:
                    pass
                s.settimeout(30)
            if buf.startswith(b"HTTP/1.1 100") and b"\r\n\r\n" in buf:
                buf = buf.partition(b"\r\n\r\n")[2]
            if not buf:
                piece = b"\0" * (1 << 20)
                left = body_len
                try:
                    while left > 0:
                        k = min(left, len(piece))
                        s.sendall(piece[:k])
                        left -= k
                except OSError as e:
                    res["send_error"] = repr(e)
        read_head(res)
        res["t_head"] = round(time.monotonic() - t0, 4)
        h = res["headers"]
        body = b""
        if res["status"] == 101:
            data = rq.get("ws_send", "").encode("latin-1")
            s.sendall(data)
            while len(buf) < len(data):
                fill()
            res["ws_echo"] = buf.decode("latin-1")
            buf = b""
            break
        elif rq["raw"].startswith("HEAD ") or res["status"] in (204, 304) or res["status"] < 200:
            pass
        elif "chunked" in h.get("transfer-encoding", "").lower():
            while True:
                while b"\r\n" not in buf:
                    fill()
                line, _, buf = buf.partition(b"\r\n")
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while b"\r\n" not in buf:
                        fill()
                    buf = buf.partition(b"\r\n")[2]
                    break
                while len(buf) < size + 2:
                    fill()
                    note(res, t0, body + buf[:size])
                body += buf[:size]
                buf = buf[size + 2:]
                note(res, t0, body)
        elif "content-length" in h:
            n = int(h["content-length"])
            while len(buf) < n:
                fill()
                note(res, t0, buf[:n])
            body, buf = buf[:n], buf[n:]
        else:
            try:
                while True:
                    note(res, t0, buf)
                    fill()
            except EOFError:
                pass
            body, buf = buf, b""
            res["closed"] = True
        note(res, t0, body)
        res["body"] = body.decode("latin-1")[:20000]
        res["t_end"] = round(time.monotonic() - t0, 4)
    except Enough:
        res["closed_early"] = True
        s.close()
        break
    except (EOFError, OSError, ValueError) as e:
        res["error"] = repr(e)
    if res.get("error") or res.get("closed"):
        break
print("RAW=" + json.dumps(out))
'''

# An SDK-shaped client: takes its base URLs and keys from the environment like the official
# SDKs do, calls OpenAI's chat completions and Anthropic's messages, and reports what it used.
SDK_CLIENT = r'''
import json, os, sys, urllib.request

def call(url, headers, body):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(req, timeout=20) as r:
        return r.status, json.loads(r.read())

out = {}
base = os.environ.get("OPENAI_BASE_URL", "https://api.openai.com/v1").rstrip("/")
key = os.environ.get("OPENAI_API_KEY", "")
st, j = call(base + "/chat/completions", {"Authorization": "Bearer " + key},
             {"model": "gpt-test", "messages": [{"role": "user", "content": "ping " + sys.argv[1]}]})
out["openai"] = {"status": st, "content": j["choices"][0]["message"]["content"], "key": key,
                 "base": base, "path": j["path"]}
abase = os.environ.get("ANTHROPIC_BASE_URL", "https://api.anthropic.com").rstrip("/")
akey = os.environ.get("ANTHROPIC_API_KEY", "")
st, j = call(abase + "/v1/messages", {"x-api-key": akey, "anthropic-version": "2023-06-01"},
             {"model": "claude-test", "max_tokens": 8,
              "messages": [{"role": "user", "content": "ping " + sys.argv[1]}]})
out["anthropic"] = {"status": st, "content": j["content"][0]["text"], "key": akey, "base": abase,
                    "path": j["path"]}
print("SDK=" + json.dumps(out))
'''


@pytest.fixture(scope="module")
def clients(provider):
    vnet = provider
    paths = {}
    for name, text in (("raw", RAW_CLIENT), ("sdk", SDK_CLIENT)):
        p = os.path.join(vnet.scratch_dir, f"apiproxy-{name}-client.py")
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o644)
        paths[name] = p
    return paths


def raw_cmd(clients, port: int, reqs: list[dict]) -> list[str]:
    return ["python3", clients["raw"], str(port), json.dumps(reqs)]


def raw_result(res) -> list[dict]:
    m = re.search(r"^RAW=(.*)$", res.stdout, re.M)
    assert m, res
    return json.loads(m.group(1))


def get(path: str, host: str = "127.0.0.1", extra: str = "", close: bool = False) -> dict:
    conn = "Connection: close\r\n" if close else ""
    return {"raw": f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}{conn}\r\n"}


# ============================================================== 1. the origin sees the real key
def client_script(provider: str, nonce: str) -> tuple[str, str]:
    """(a bash script that calls the provider's port with the placeholder in every credential
    header, the path the origin must see)."""
    p = PROVIDERS[provider]
    var = p["vars"][0]
    junk = f"junk-{nonce}"
    path = f"/v1/echo-{nonce}"
    query = ""
    expect = path
    if provider == "gemini":
        path = f"/v1beta/models/m-{nonce}:generateContent"
        query = f"?alt=sse&key=${var}&x={nonce}"
        expect = path + f"?alt=sse&x={nonce}"
    url = f"http://127.0.0.1:{p['port']}{path}{query}"
    script = "; ".join([
        "echo ENV_BEGIN; env -0; echo; echo ENV_END",
        f'echo "PLACEHOLDER=${var}"',
        f'curl -sS --max-time 15 -o /dev/null -w "STATUS=%{{http_code}}\\n" '
        f'-H "Authorization: Bearer ${var}" -H "x-api-key: ${var}" -H "x-goog-api-key: ${var}" '
        f'-H "api-key: {junk}" -H "Proxy-Authorization: Basic {junk}" -H "Cookie: s={junk}" '
        f'-H "X-Client-Marker: {nonce}" "{url}"',
    ])
    return script, expect


@pytest.mark.parametrize("name", list(PROVIDERS))
def test_origin_sees_the_real_key_while_the_command_sent_the_placeholder(awf, provider, nonce,
                                                                         keys, secret, name):
    vnet = provider
    p = PROVIDERS[name]
    s = seen(vnet)
    script, expect = client_script(name, nonce)
    res = awf(target_args(vnet, name), ["bash", "-c", script], env=key_env(keys, name))
    assert res.rc == 0, res
    placeholder = p["sandbox_env"][p["vars"][0]]
    assert f"PLACEHOLDER={placeholder}\n" in res.stdout, res
    env_in = env_of(res.stdout)
    for var, value in p["sandbox_env"].items():  # all of them, though only one key was set
        assert env_in.get(var) == value, (var, env_in.get(var), res)
    for other, q in PROVIDERS.items():  # providers without a key get nothing
        if other != name:
            assert not set(q["sandbox_env"]) & set(env_in), (other, env_in)
    assert status_of(res.stdout) == [200], res
    reqs = s.requests(nonce)
    assert len(reqs) == 1, (reqs, res)
    rec = reqs[0]
    assert rec["local"] in ALLOWED_ADDRS and rec["sni"] == target(name), rec
    assert rec["path"] == expect, rec
    assert rec["headers"].get("host", "").split(":")[0] == target(name), rec
    assert header_values(rec, p["header"]) == [p["fmt"].format(keys[name])], rec
    for h in CRED_HEADERS:
        if h != p["header"]:
            assert not header_values(rec, h), (h, rec)
    assert rec["headers"].get("x-client-marker") == nonce, rec  # other headers pass
    flat = json.dumps(rec)
    assert placeholder not in flat and f"junk-{nonce}" not in flat, rec
    # Logged: audit record and access.log line, with neither key.
    recs = api_records(res, name, transport="api-proxy", status=200)
    assert len(recs) == 1, res
    r = recs[0]
    assert r["name"] == target(name), res
    assert r["url"] == f"https://{target(name)}:{FP_PORT}{expect.split('?')[0]}", res
    assert r["method"] == "GET", res
    assert "bytes" in r or ("bytes_up" in r and "bytes_down" in r), res
    assert res.access_for(target(name)), res
    assert secret not in res.stdout + res.stderr, res
    assert not scan_for(files_text(res.logs_dir), [secret]), res


@pytest.mark.parametrize("name", [n for n, p in PROVIDERS.items() if len(p["vars"]) > 1])
def test_the_second_key_variable_is_used_when_the_first_is_empty(awf, provider, nonce, keys,
                                                                 name):
    vnet = provider
    p = PROVIDERS[name]
    s = seen(vnet)
    env = {p["vars"][0]: "", p["vars"][1]: keys[name]}
    res = awf(target_args(vnet, name),
              ["curl", "-sS", "--max-time", "15", "-o", "/dev/null", "-w", "STATUS=%{http_code}\n",
               f"http://127.0.0.1:{p['port']}/v1/second-{nonce}"], env=env)
    assert status_of(res.stdout) == [200], res
    reqs = s.requests(nonce)
    assert len(reqs) == 1 and header_values(reqs[0], p["header"]) == [p["fmt"].format(keys[name])], \
        (reqs, res)


def test_a_key_in_awfs_environment_turns_the_proxy_on_without_the_flag(awf, provider, nonce, keys):
    vnet = provider
    s = seen(vnet)
    res = awf(target_args(vnet, "openai", enable=False),
              ["curl", "-sS", "--max-time", "15", "-w", "\nSTATUS=%{http_code}\n",
               f"http://127.0.0.1:10000/v1/auto-{nonce}"], env=key_env(keys, "openai"))
    assert status_of(res.stdout) == [200], res
    reqs = s.requests(nonce)
    assert len(reqs) == 1 and header_values(reqs[0], "authorization") == [f"Bearer {keys['openai']}"]


# ================================================================ 2. no real key in the sandbox
def split_pattern(secret: str) -> str:
    """Shell assignments PAT_A, PAT_B whose concatenation is the secret: the script's own text
    (visible in /proc/1/cmdline, and maybe in awf's messages) never holds the secret whole."""
    half = len(secret) // 2
    return f"PAT_A={secret[:half]}; PAT_B={secret[half:]}\n"


SANDBOX_SCAN = r'''
echo ENV_BEGIN; env -0; echo; echo ENV_END
echo PRINTENV_BEGIN; printenv; echo PRINTENV_END
echo PROC_BEGIN; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do
  echo "== $f"; cat "$f" 2>/dev/null | tr '\0' '\n'; echo; done; echo PROC_END
curl -sS --max-time 15 -o /dev/null -w "STATUS=%{http_code}\n" \
  -H "Authorization: Bearer $OPENAI_API_KEY" http://127.0.0.1:10000/v1/scan-NONCE
echo GREP_BEGIN
timeout 150 grep -rlsF --devices=skip -e "$PAT_A$PAT_B" /etc /tmp /var/tmp /dev/shm /run /opt \
  /srv /home /root "$HOME" "$PWD" /proc/self/environ /proc/1/environ 2>/dev/null
echo "GREP_END rc=$?"
'''


@pytest.mark.parametrize("extra", [[], ["--env-all"], ["--env-all", "-e-real"]],
                         ids=["default", "env-all", "env-all-and-e"])
def test_no_real_key_inside_the_sandbox_or_in_any_log(awf, provider, nonce, keys, secret, extra):
    vnet = provider
    s = seen(vnet)
    env = {}
    for name, p in PROVIDERS.items():
        for var in p["vars"]:
            env[var] = keys[name]  # both variables of every provider hold the real key
    env[f"AWF_IT_MARK_{nonce}"] = "passed"
    for p in PROVIDERS.values():  # the host's own base URLs must not win over the proxy's
        for var in p["sandbox_env"]:
            if var.endswith(("_URL", "BASE_URL")):
                env[var] = f"https://host-setting-{nonce}.invalid/v1"
    workdir = os.path.join(vnet.scratch_dir, f"ws-{nonce}")
    os.makedirs(workdir)
    os.chmod(workdir, 0o777)
    audit_dir = os.path.join(vnet.new_logs_dir("audit"), "audit")
    args = [*target_args(vnet, *PROVIDERS), "--log-level", "debug", "--audit-dir", audit_dir,
            "--container-workdir", workdir]
    for e in extra:
        if e == "-e-real":
            for name, p in PROVIDERS.items():
                args += ["-e", f"{p['vars'][0]}={keys[name]}"]
        else:
            args.append(e)
    script = split_pattern(secret) + SANDBOX_SCAN.replace("NONCE", nonce)
    res = awf(args, ["bash", "-c", script], env=env, timeout=240)
    assert res.rc == 0, res
    assert status_of(res.stdout) == [200], res
    # The proxy did have the key (the origin saw it), yet nothing in the sandbox holds it.
    reqs = s.requests(f"scan-{nonce}")
    assert len(reqs) == 1 and header_values(reqs[0], "authorization") == [f"Bearer {keys['openai']}"]
    problems = []
    m = re.search(r"^GREP_BEGIN\n(.*?)^GREP_END rc=(\d+)$", res.stdout, re.S | re.M)
    assert m and m.group(2) != "124", res  # the scan finished
    if m.group(1).strip():
        problems.append(f"readable files holding the key: {m.group(1).split()}")
    env_in = env_of(res.stdout)
    for p in PROVIDERS.values():
        for var, value in p["sandbox_env"].items():
            if env_in.get(var) != value:
                problems.append(f"{var}={env_in.get(var)!r}, expected {value!r}")
    assert (env_in.get(f"AWF_IT_MARK_{nonce}") == "passed") == ("--env-all" in extra), res
    # Where in the command's output the key shows up (environment, /proc, ...).
    for section in ("ENV", "PRINTENV", "PROC"):
        mm = re.search(rf"^{section}_BEGIN\n(.*?)^{section}_END$", res.stdout, re.S | re.M)
        text = mm.group(1) if mm else ""
        where = section
        for line in text.replace("\0", "\n").splitlines():
            if line.startswith("== /proc/"):
                where = line[3:]
            elif secret in line:
                problems.append(f"{where}: {line[:200]!r}")
    if secret in res.stdout and not problems:
        problems.append("the key is in the command's output")
    # awf's own outputs: stdout/stderr, access.log, audit.jsonl, the --audit-dir files.
    if secret in res.stderr:
        problems.append("awf's stderr holds the key")
    texts = files_text(res.logs_dir, audit_dir)
    assert any(f.endswith("audit.jsonl") for f in texts) and os.listdir(audit_dir), texts.keys()
    problems += scan_for(texts, [secret, secret[:10]])
    assert api_records(res, "openai", status=200), res
    assert not problems, problems


# ===================================================== 3. base paths and custom target routing
@pytest.mark.parametrize("name", ["openai", "anthropic", "gemini"])
def test_base_path_is_prepended_and_the_custom_target_is_allowed_with_a_notice(
        awf, provider, nonce, keys, name):
    vnet = provider
    p = PROVIDERS[name]
    s = seen(vnet)
    mark = vnet.mark()
    res = awf([*target_args(vnet, name), f"--{name}-api-base-path", "/serving-endpoints"],
              ["curl", "-sS", "--max-time", "15", "-o", "/dev/null", "-w", "STATUS=%{http_code}\n",
               f"http://127.0.0.1:{p['port']}/v1/chat/completions?x={nonce}"],
              env=key_env(keys, name))
    assert status_of(res.stdout) == [200], res
    reqs = s.requests(nonce)
    assert len(reqs) == 1, (reqs, res)
    assert reqs[0]["path"] == f"/serving-endpoints/v1/chat/completions?x={nonce}", reqs
    assert reqs[0]["local"] in ALLOWED_ADDRS and reqs[0]["sni"] == target(name), reqs
    notices = [l for l in res.stderr_lines if NOTICE in l]
    assert notices and any(target(name) in l for l in notices), res
    recs = api_records(res, name, status=200)
    assert recs and recs[0]["url"] == \
        f"https://{target(name)}:{FP_PORT}/serving-endpoints/v1/chat/completions", res
    # The default target was never looked up.
    assert not dns_seen(vnet, mark, p["default"]), vnet.dns_names_seen(mark)


def test_https_prefix_on_the_target_is_tolerated(awf, provider, nonce, keys):
    vnet = provider
    s = seen(vnet)
    res = awf(["--enable-api-proxy", "--api-proxy-ca-file", vnet.ca_path,
               "--openai-api-target", f"https://{target('openai')}:{FP_PORT}"],
              ["curl", "-sS", "--max-time", "15", "-o", "/dev/null", "-w", "STATUS=%{http_code}\n",
               f"http://127.0.0.1:10000/v1/prefix-{nonce}"], env=key_env(keys, "openai"))
    assert status_of(res.stdout) == [200], res
    assert len(s.requests(nonce)) == 1, res


@pytest.mark.parametrize("bad", ["http://openai.allowed.test:8443", "openai.allowed.test/v1",
                                 "https://openai.allowed.test:8443/v1"],
                         ids=["http-scheme", "path", "https-with-path"])
def test_bad_target_is_refused_before_the_command_runs(awf, provider, nonce, keys, bad):
    vnet = provider
    marker = os.path.join(vnet.scratch_dir, f"ran-{nonce}")
    s = seen(vnet)
    res = awf(["--enable-api-proxy", "--api-proxy-ca-file", vnet.ca_path,
               "--openai-api-target", bad], ["touch", marker], env=key_env(keys, "openai"))
    assert res.rc == 1, res
    assert "--openai-api-target" in res.stderr, res  # the error names the flag
    assert not os.path.exists(marker), res
    assert not s.all(), res


def test_unreadable_ca_file_is_refused(awf, provider, nonce, keys):
    vnet = provider
    marker = os.path.join(vnet.scratch_dir, f"ran-{nonce}")
    res = awf(["--enable-api-proxy", "--api-proxy-ca-file",
               os.path.join(vnet.scratch_dir, f"missing-{nonce}.pem"),
               "--openai-api-target", f"{target('openai')}:{FP_PORT}"],
              ["touch", marker], env=key_env(keys, "openai"))
    assert res.rc == 1, res
    assert "--api-proxy-ca-file" in res.stderr, res  # the error names the flag
    assert not os.path.exists(marker), res


# ================================================================================ 4. streaming
@pytest.mark.parametrize("route", ["stream", "stream-close"], ids=["chunked", "close-delimited"])
def test_sse_events_arrive_incrementally(awf, provider, clients, nonce, keys, route):
    vnet = provider
    s = seen(vnet)
    body = json.dumps({"model": "gpt-test", "stream": True})
    raw = (f"POST /v1/{route}?n=6&gap=0.4&id={nonce} HTTP/1.1\r\nHost: 127.0.0.1:10000\r\n"
           f"Authorization: Bearer sk-placeholder-for-api-proxy\r\nAccept: text/event-stream\r\n"
           f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
           f"Connection: close\r\n\r\n{body}")
    res = awf(target_args(vnet, "openai"), raw_cmd(clients, 10000, [{"raw": raw}]),
              env=key_env(keys, "openai"))
    assert res.rc == 0, res
    out = raw_result(res)[0]
    assert out.get("status") == 200 and "error" not in out, out
    assert "text/event-stream" in out["headers"].get("content-type", ""), out
    assert "data: [DONE]" in out["body"] and out["body"].count("data:") == 7, out
    t = out["t_events"]
    assert len(t) == 7, out
    # The origin spends 6 x 0.4 s: a buffering proxy delivers everything at the end.
    assert t[-1] - t[0] >= 1.6, t
    assert t[0] <= t[-1] - 1.6, t
    gaps = [b - a for a, b in zip(t, t[1:])]
    assert sum(1 for g in gaps if g >= 0.2) >= 5, t
    assert len(s.requests(nonce)) == 1, res
    recs = api_records(res, "openai", status=200)
    assert recs, res
    # The record times the whole exchange: the stream took at least 6 x 0.4 s at the origin.
    assert all(r.get("duration_ms", 0) >= 1600 for r in recs), recs


def test_chunked_json_response_arrives_intact(awf, provider, clients, nonce, keys):
    vnet = provider
    res = awf(target_args(vnet, "openai"),
              raw_cmd(clients, 10000, [get(f"/v1/chunked?id={nonce}", close=True)]),
              env=key_env(keys, "openai"))
    assert res.rc == 0, res
    out = raw_result(res)[0]
    assert out.get("status") == 200 and "error" not in out, out
    assert json.loads(out["body"])["path"] == f"/v1/chunked?id={nonce}", out


def test_large_response_and_chunked_request_body_pass_intact(awf, provider, clients, nonce,
                                                              keys):
    vnet = provider
    s = seen(vnet)
    n = 5 * 1024 * 1024 + 7
    expected = hashlib.sha256(((b"0123456789abcdef" * (n // 16 + 1))[:n])).hexdigest()
    body = b"chunked-request-" + nonce.encode()
    upload = os.path.join(vnet.scratch_dir, f"upload-{nonce}")
    with open(upload, "wb") as f:
        f.write(body)
    os.chmod(upload, 0o644)
    script = "; ".join([
        f"curl -sS --max-time 30 http://127.0.0.1:10000/v1/bytes/{n} | sha256sum",
        f"curl -sS --max-time 15 -o /dev/null -w 'STATUS=%{{http_code}}\\n' "
        f"-H 'Transfer-Encoding: chunked' --data-binary @{upload} "
        f"http://127.0.0.1:10000/v1/upload-{nonce}",
    ])
    res = awf(target_args(vnet, "openai"), ["bash", "-c", script], env=key_env(keys, "openai"))
    assert res.rc == 0, res
    assert f"{expected}  -" in res.stdout, res
    assert status_of(res.stdout) == [200], res
    up = s.requests(f"upload-{nonce}")
    assert len(up) == 1 and up[0]["body_len"] == len(body) and \
        up[0]["body_sha256"] == hashlib.sha256(body).hexdigest(), up


@pytest.mark.parametrize("status", [401, 429, 500])
def test_provider_error_status_passes_through(awf, provider, nonce, keys, status):
    vnet = provider
    res = awf(target_args(vnet, "openai"),
              ["curl", "-sS", "--max-time", "15", "-w", "\nSTATUS=%{http_code}\n",
               f"http://127.0.0.1:10000/v1/err-{nonce}/status/{status}"],
              env=key_env(keys, "openai"))
    assert status_of(res.stdout) == [status], res
    assert f'"path": "/v1/err-{nonce}/status/{status}"' in res.stdout, res  # the provider's body
    assert api_records(res, "openai", status=status), res


def test_parallel_streams_are_not_serialized(awf, provider, clients, nonce, keys):
    # Close-delimited streams: this is about concurrency, chunked framing has its own tests.
    vnet = provider
    runs = []
    for i in range(4):
        raw = (f"GET /v1/stream-close?n=5&gap=0.5&id={nonce}-{i} HTTP/1.1\r\n"
               "Host: 127.0.0.1:10000\r\nConnection: close\r\n\r\n")
        runs.append(shlex.join(raw_cmd(clients, 10000, [{"raw": raw}])) + " &")
    script = "echo T0=$(date +%s.%N); " + " ".join(runs) + " wait; echo T1=$(date +%s.%N)"
    res = awf(target_args(vnet, "openai"), ["bash", "-c", script], env=key_env(keys, "openai"),
              timeout=90)
    assert res.rc == 0, res
    outs = [json.loads(line[4:]) for line in res.stdout.splitlines() if line.startswith("RAW=")]
    assert len(outs) == 4, res
    for o in outs:
        assert o[0].get("status") == 200 and len(o[0]["t_events"]) == 6, outs
    t0 = float(re.search(r"^T0=(\S+)$", res.stdout, re.M).group(1))
    t1 = float(re.search(r"^T1=(\S+)$", res.stdout, re.M).group(1))
    # One stream takes ~2.5 s; four in a row would take ~10 s.
    assert t1 - t0 < 6.0, (t1 - t0, res)


def test_client_leaving_mid_stream_does_not_break_the_proxy(awf, provider, clients, nonce, keys):
    vnet = provider
    s = seen(vnet)
    first = {"raw": (f"GET /v1/stream-close?n=20&gap=0.3&id={nonce} HTTP/1.1\r\n"
                     "Host: 127.0.0.1:10000\r\n\r\n"), "close_after": 1}
    script = (shlex.join(raw_cmd(clients, 10000, [first])) + "; sleep 0.5; " +
              shlex.join(raw_cmd(clients, 10000, [get(f"/v1/after-{nonce}", close=True)])))
    res = awf(target_args(vnet, "openai"), ["bash", "-c", script], env=key_env(keys, "openai"),
              timeout=60)
    assert res.rc == 0, res
    outs = [json.loads(line[4:]) for line in res.stdout.splitlines() if line.startswith("RAW=")]
    assert len(outs) == 2, res
    assert outs[0][0].get("closed_early") and outs[0][0].get("status") == 200, outs
    assert outs[1][0].get("status") == 200, outs
    assert len(s.requests(f"after-{nonce}")) == 1, res
    assert res.duration < 20, res  # awf did not wait for the abandoned 6 s stream


# ================================================================================= 5. steering
def test_absolute_uri_and_connect_are_refused_and_reach_nobody(awf, provider, clients, nonce,
                                                               keys):
    vnet = provider
    s = seen(vnet)
    mark = vnet.mark()
    tries = [
        get(f"http://evil.test:{FP_PORT}/steer-abs-{nonce}", host=f"evil.test:{FP_PORT}",
            close=True),
        get(f"http://{target('openai')}:{FP_PORT}@evil.test:{FP_PORT}/steer-at-{nonce}",
            host=f"evil.test:{FP_PORT}", close=True),
        get(f"https://evil.test:{FP_PORT}/steer-https-{nonce}", host="evil.test", close=True),
        {"raw": f"CONNECT evil.test:{FP_PORT} HTTP/1.1\r\nHost: evil.test:{FP_PORT}\r\n\r\n"
                f"GET /steer-connect-{nonce} HTTP/1.1\r\nHost: evil.test\r\n\r\n"},
    ]
    script = " ; ".join(shlex.join(raw_cmd(clients, 10000, [t])) for t in tries)
    # curl as an SDK with a proxy setting pointing at the API port would do the same.
    script += " ; " + shlex.join(["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w",
                                  "STATUS=%{http_code}\n", "--proxy", "http://127.0.0.1:10000",
                                  f"http://evil.test:{FP_PORT}/steer-curl-{nonce}"])
    res = awf(target_args(vnet, "openai"), ["bash", "-c", script], env=key_env(keys, "openai"))
    outs = [json.loads(line[4:]) for line in res.stdout.splitlines() if line.startswith("RAW=")]
    assert len(outs) == len(tries), res
    for o in outs:
        assert o[0].get("status") == 400, (o, res)
    assert status_of(res.stdout) == [400], res
    assert not s.all(), s.all()  # nothing reached any address on the provider port
    assert not [r for r in reached(vnet, mark) if r.get("origin") in EVIL_ADDRS], res
    assert not dns_seen(vnet, mark, "evil.test"), vnet.dns_names_seen(mark)
    recs = api_records(res, "openai")
    assert recs and all(r.get("status") == 400 for r in recs), res


def test_host_header_and_path_tricks_only_reach_the_configured_target(awf, provider, clients,
                                                                      nonce, keys):
    vnet = provider
    s = seen(vnet)
    mark = vnet.mark()
    tries = [
        get(f"/v1/host-{nonce}", host=f"evil.test:{FP_PORT}",
            extra=f"X-Forwarded-Host: evil.test\r\nForwarded: host=evil.test\r\n"),
        get(f"//evil.test:{FP_PORT}/v1/dslash-{nonce}", host=f"evil.test:{FP_PORT}"),
        get(f"/v1/dup-{nonce}", host="127.0.0.1:10000", extra=f"Host: evil.test:{FP_PORT}\r\n"),
        get(f"/v1/end-{nonce}", close=True),
    ]
    script = " ; ".join(shlex.join(raw_cmd(clients, 10000, [t])) for t in tries)
    res = awf(target_args(vnet, "openai"), ["bash", "-c", script], env=key_env(keys, "openai"))
    outs = [json.loads(line[4:]) for line in res.stdout.splitlines() if line.startswith("RAW=")]
    assert len(outs) == len(tries), res
    assert outs[0][0].get("status") == 200, outs
    for o in outs[1:3]:
        assert o[0].get("status") in (200, 400), outs  # forwarded to the target, or refused
    assert outs[3][0].get("status") == 200, outs
    got = s.requests(nonce)
    assert got, res
    for r in got:
        assert r["local"] in ALLOWED_ADDRS and r["sni"] == target("openai"), r
        assert header_values(r, "host") and all(
            v.split(":")[0] == target("openai") for v in header_values(r, "host")), r
    assert not [r for r in s.all() if r.get("local") in EVIL_ADDRS], s.all()
    assert not [r for r in reached(vnet, mark) if r.get("origin") in EVIL_ADDRS], res
    assert not dns_seen(vnet, mark, "evil.test"), vnet.dns_names_seen(mark)


# ============================================================= 6. upstream certificate failure
def test_upstream_certificate_failure_is_502_and_logged(awf, provider, nonce, keys, secret):
    vnet = provider
    s = seen(vnet)
    res = awf(target_args(vnet, "openai", ca=False),
              ["curl", "-sS", "--max-time", "15", "-w", "\nSTATUS=%{http_code}\n",
               "-H", "Authorization: Bearer sk-placeholder-for-api-proxy",
               f"http://127.0.0.1:10000/v1/cert-{nonce}"], env=key_env(keys, "openai"))
    assert status_of(res.stdout) == [502], res
    assert not s.requests(), s.all()  # the handshake failed: no request, so no key, was sent
    recs = api_records(res, "openai", status=502)
    assert len(recs) == 1, res
    assert recs[0]["name"] == target("openai") and recs[0]["method"] == "GET", res
    assert recs[0]["url"] == f"https://{target('openai')}:{FP_PORT}/v1/cert-{nonce}", res
    assert [a for a in res.access_for(target("openai")) if a["status"] == 502], res
    assert secret not in res.stdout + res.stderr, res
    assert not scan_for(files_text(res.logs_dir), [secret]), res


def test_upstream_connect_failure_is_502_or_504(awf, provider, nonce, keys):
    vnet = provider
    res = awf(["--enable-api-proxy", "--api-proxy-ca-file", vnet.ca_path,
               "--openai-api-target", f"{target('openai')}:8449"],  # nothing listens there
              ["curl", "-sS", "--max-time", "30", "-o", "/dev/null", "-w", "STATUS=%{http_code}\n",
               f"http://127.0.0.1:10000/v1/refused-{nonce}"], env=key_env(keys, "openai"))
    st = status_of(res.stdout)
    assert st and st[0] in (502, 504), res
    assert api_records(res, "openai", status=st[0]), res


# ============================================================ 7. no key configured, /health
NO_KEY_SCRIPT = r'''
for port in 10000 10001 10002 10003; do
  echo "BEGIN $port"
  curl -sS --max-time 10 -w "\nSTATUS=%{http_code}\n" http://127.0.0.1:$port/v1/nokey-NONCE
  echo "END $port"
  echo "HEALTH $port $(curl -sS --max-time 10 http://127.0.0.1:$port/health)"
done
echo ENV_BEGIN; env -0; echo; echo ENV_END
'''


def health_of(stdout: str) -> dict[int, dict]:
    out = {}
    for m in re.finditer(r"^HEALTH (\d+) (.*)$", stdout, re.M):
        try:
            out[int(m.group(1))] = json.loads(m.group(2))
        except ValueError:
            out[int(m.group(1))] = {"_raw": m.group(2)}
    return out


def test_no_key_configured_gives_503_naming_the_variable(awf, provider, nonce):
    vnet = provider
    s = seen(vnet)
    mark = vnet.mark()
    res = awf(["--enable-api-proxy"], ["bash", "-c", NO_KEY_SCRIPT.replace("NONCE", nonce)])
    assert res.rc == 0, res
    assert status_of(res.stdout) == [503, 503, 503, 503], res
    for name, p in PROVIDERS.items():
        m = re.search(rf"^BEGIN {p['port']}\n(.*?)^END {p['port']}$", res.stdout, re.S | re.M)
        assert m and p["vars"][0] in m.group(1), (name, res)
    health = health_of(res.stdout)
    for name, p in PROVIDERS.items():
        assert health.get(p["port"]) == {"status": "healthy", "provider": name,
                                         "configured": False}, (name, health, res)
    env_in = env_of(res.stdout)
    for p in PROVIDERS.values():
        for var in p["sandbox_env"]:
            assert var not in env_in, (var, env_in)
    assert not s.all(), res
    for p in PROVIDERS.values():
        assert not dns_seen(vnet, mark, p["default"]), vnet.dns_names_seen(mark)
    # Refused requests are records too (/health is not).
    for name in PROVIDERS:
        recs = api_records(res, name)
        assert [r for r in recs if r.get("status") == 503], (name, res)
        assert not [r for r in recs if "/health" in str(r.get("url"))], (name, res)


def test_health_reports_configured_without_contacting_the_provider(awf, provider, nonce, keys):
    vnet = provider
    s = seen(vnet)
    mark = vnet.mark()
    res = awf(target_args(vnet, "openai"),
              ["bash", "-c", "for port in 10000 10001; do echo \"HEALTH $port "
               "$(curl -sS --max-time 10 http://127.0.0.1:$port/health)\"; done; "
               "curl -sS --max-time 10 -o /dev/null -w 'CTYPE=%{content_type}\\n' "
               "http://127.0.0.1:10000/health"],
              env=key_env(keys, "openai"))
    assert res.rc == 0, res
    health = health_of(res.stdout)
    assert health.get(10000) == {"status": "healthy", "provider": "openai", "configured": True}, res
    assert health.get(10001) == {"status": "healthy", "provider": "anthropic",
                                 "configured": False}, res
    assert re.search(r"(?m)^CTYPE=application/json", res.stdout), res
    assert not s.all(), s.all()
    assert not [r for r in reached(vnet, mark)], res
    assert not api_records(res), res


# ============================================================ 8. body limit and keep-alive
def test_body_over_the_limit_is_413_before_any_upstream_contact(awf, provider, clients, nonce,
                                                                keys):
    vnet = provider
    s = seen(vnet)
    over = {"raw": (f"POST /v1/big-over-{nonce} HTTP/1.1\r\nHost: 127.0.0.1:10000\r\n"
                    f"Content-Type: application/octet-stream\r\nContent-Length: {LIMIT + 1}\r\n"
                    "Connection: close\r\n\r\n"),
            "body_len": LIMIT + 1, "wait_first": 2.0}
    at = {"raw": (f"POST /v1/big-at-{nonce} HTTP/1.1\r\nHost: 127.0.0.1:10000\r\n"
                  f"Content-Type: application/octet-stream\r\nContent-Length: {LIMIT}\r\n"
                  "Connection: close\r\n\r\n"),
          "body_len": LIMIT, "wait_first": 0.0}
    script = (shlex.join(raw_cmd(clients, 10000, [over])) + " ; " +
              shlex.join(raw_cmd(clients, 10000, [at])))
    res = awf(target_args(vnet, "openai"), ["bash", "-c", script], env=key_env(keys, "openai"),
              timeout=120)
    outs = [json.loads(line[4:]) for line in res.stdout.splitlines() if line.startswith("RAW=")]
    assert len(outs) == 2, res
    assert outs[0][0].get("status") == 413, outs
    assert not s.requests(f"big-over-{nonce}"), s.all()
    assert outs[1][0].get("status") == 200, outs
    at_seen = s.requests(f"big-at-{nonce}")
    assert len(at_seen) == 1 and at_seen[0]["body_len"] == LIMIT, at_seen
    refused = api_records(res, "openai", status=413)
    assert refused, res
    assert refused[0]["url"] == f"https://{target('openai')}:{FP_PORT}/v1/big-over-{nonce}", res


def test_keep_alive_two_requests_on_one_connection_are_both_forwarded(awf, provider, clients,
                                                                      nonce, keys):
    vnet = provider
    s = seen(vnet)
    body = json.dumps({"model": "m", "n": nonce})
    post = {"raw": (f"POST /v1/ka2-{nonce} HTTP/1.1\r\nHost: 127.0.0.1:10000\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}")}
    reqs = [get(f"/v1/ka1-{nonce}"), post, get(f"/v1/ka3-{nonce}", close=True)]
    res = awf(target_args(vnet, "openai"), raw_cmd(clients, 10000, reqs),
              env=key_env(keys, "openai"))
    assert res.rc == 0, res
    outs = raw_result(res)
    assert [o.get("status") for o in outs] == [200, 200, 200], outs
    for i, o in enumerate(outs, 1):
        assert json.loads(o["body"])["path"] == f"/v1/ka{i}-{nonce}", o
    got = s.requests(nonce)
    assert [r["path"] for r in got] == [f"/v1/ka{i}-{nonce}" for i in (1, 2, 3)], got
    assert got[1]["method"] == "POST" and got[1]["body_len"] == len(body), got
    assert all(header_values(r, "authorization") == [f"Bearer {keys['openai']}"] for r in got), got
    assert len(api_records(res, "openai", status=200)) == 3, res


# ================================================================================= 9. WebSocket
def test_websocket_upgrade_passes_through(awf, provider, clients, nonce, keys):
    vnet = provider
    s = seen(vnet)
    key = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455's example: accept s3pPLMBiTxaQ9kYGzzhZRbK+xOo=
    raw = (f"GET /v1/realtime/ws?id={nonce} HTTP/1.1\r\nHost: 127.0.0.1:10000\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
           "Authorization: Bearer sk-placeholder-for-api-proxy\r\n\r\n")
    payload = f"\x81\x8bws-{nonce[:8]}" + f"frame-two-{nonce}"
    res = awf(target_args(vnet, "openai"),
              raw_cmd(clients, 10000, [{"raw": raw, "ws_send": payload}]),
              env=key_env(keys, "openai"))
    assert res.rc == 0, res
    out = raw_result(res)[0]
    assert out.get("status") == 101, out
    assert out["headers"].get("sec-websocket-accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", out
    assert out["headers"].get("upgrade", "").lower() == "websocket", out
    assert out.get("ws_echo") == payload, out
    got = s.requests(nonce)
    assert len(got) == 1 and header_values(got[0], "authorization") == [f"Bearer {keys['openai']}"]
    assert got[0]["headers"].get("upgrade", "").lower() == "websocket", got


# ============================================================= 10. gh-aw's documented invocation
def test_gh_aw_invocation_runs_an_sdk_client_with_no_key_inside(awf, provider, clients, nonce,
                                                                keys, secret):
    vnet = provider
    s = seen(vnet)
    workspace = os.path.join(vnet.scratch_dir, f"gh-workspace-{nonce}")
    runner_temp = os.path.join(vnet.scratch_dir, f"runner-temp-{nonce}")
    for d in (workspace, os.path.join(runner_temp, "gh-aw")):
        os.makedirs(d)
        os.chmod(d, 0o777)
    audit_dir = os.path.join(vnet.new_logs_dir("gh-aw-audit"), "audit")
    env = {**key_env(keys, "openai", "anthropic"), "GITHUB_WORKSPACE": workspace,
           "RUNNER_TEMP": runner_temp, "SOME_SECRET": f"other-{secret}",
           "GITHUB_TOKEN": f"ghp_{secret}"}
    args = ["--container-workdir", workspace,
            "--mount", f"{runner_temp}/gh-aw:{runner_temp}/gh-aw:ro",
            "--mount", f"{runner_temp}/gh-aw:/host{runner_temp}/gh-aw:ro",
            "--env-all", "--exclude-env", "SOME_SECRET",
            "--allow-domains", "api.github.com,github.com,host.docker.internal",
            "--log-level", "info", "--audit-dir", audit_dir,
            "--enable-host-access", "--image-tag", "0.25.18", "--skip-pull", "--enable-api-proxy",
            "--api-proxy-ca-file", vnet.ca_path,
            "--openai-api-target", f"{target('openai')}:{FP_PORT}",
            "--anthropic-api-target", f"{target('anthropic')}:{FP_PORT}"]
    # The sandbox's /tmp is its own: the client comes in with the workspace, as gh-aw's do.
    sdk_client = shutil.copy(clients["sdk"], workspace)
    agent = (split_pattern(secret) + f"echo agent-start; python3 {shlex.quote(sdk_client)} "
             f'{nonce}; echo "LEAKS=$(env | grep -c "$PAT_A$PAT_B")"; echo agent-end')
    res = awf(args, ["/bin/bash", "-c", agent], env=env)
    assert res.rc == 0, res
    m = re.search(r"^SDK=(.*)$", res.stdout, re.M)
    assert m, res
    sdk = json.loads(m.group(1))
    assert sdk["openai"] == {"status": 200, "content": "pong",
                             "key": "sk-placeholder-for-api-proxy",
                             "base": "http://127.0.0.1:10000",
                             "path": "/chat/completions"}, sdk
    assert sdk["anthropic"] == {"status": 200, "content": "pong",
                                "key": "sk-ant-placeholder-key-for-credential-isolation",
                                "base": "http://127.0.0.1:10001", "path": "/v1/messages"}, sdk
    assert "agent-end" in res.stdout and "LEAKS=0\n" in res.stdout, res
    assert secret not in res.stdout + res.stderr, res
    got = s.requests()
    oa = [r for r in got if r["path"] == "/chat/completions" and r["sni"] == target("openai")]
    an = [r for r in got if r["path"] == "/v1/messages" and r["sni"] == target("anthropic")]
    assert len(oa) == 1 and header_values(oa[0], "authorization") == [f"Bearer {keys['openai']}"], got
    assert len(an) == 1 and header_values(an[0], "x-api-key") == [keys["anthropic"]], got
    assert an[0]["headers"].get("anthropic-version") == "2023-06-01", an
    assert not scan_for(files_text(res.logs_dir, audit_dir), [secret]), res


# ============================================================ 11. default target not allowed
def test_default_target_outside_the_allowlist_is_403_without_a_dns_query(awf, provider, nonce,
                                                                         keys, secret):
    vnet = provider
    s = seen(vnet)
    mark = vnet.mark()
    # No --openai-api-target: the default api.openai.com is not in --allow-domains, so the policy
    # refuses before anything is resolved (the vnet's DNS would REFUSE it anyway).
    res = awf(["--enable-api-proxy", "-d", "allowed.test"],
              ["curl", "-sS", "--max-time", "15", "-w", "\nSTATUS=%{http_code}\n",
               f"http://127.0.0.1:10000/v1/default-{nonce}"], env=key_env(keys, "openai"))
    assert status_of(res.stdout) == [403], res
    assert not dns_seen(vnet, mark, "openai.com"), vnet.dns_names_seen(mark)
    assert not s.all(), s.all()
    assert NOTICE not in res.stderr, res
    recs = api_records(res, "openai", status=403)
    assert len(recs) == 1 and recs[0]["name"] == "api.openai.com", res
    assert recs[0]["url"].startswith("https://api.openai.com") and \
        recs[0]["url"].endswith(f"/v1/default-{nonce}"), res
    assert secret not in res.stdout + res.stderr, res


def test_blocked_custom_target_is_403(awf, provider, nonce, keys):
    vnet = provider
    s = seen(vnet)
    mark = vnet.mark()
    res = awf(["--enable-api-proxy", "--api-proxy-ca-file", vnet.ca_path,
               "--block-domains", "evil.test", "--openai-api-target", f"evil.test:{FP_PORT}"],
              ["curl", "-sS", "--max-time", "15", "-o", "/dev/null", "-w", "STATUS=%{http_code}\n",
               f"http://127.0.0.1:10000/v1/blocked-{nonce}"], env=key_env(keys, "openai"))
    assert status_of(res.stdout) == [403], res
    assert not s.all(), s.all()
    assert not [r for r in reached(vnet, mark) if r.get("origin") in EVIL_ADDRS], res
    assert api_records(res, "openai", status=403), res


# ============================================================== awf started without privileges
def test_rootless_awf_injects_the_key_and_keeps_it_out(awf, provider, nonce, keys, secret):
    """awf as uid 65534 (the sandbox in a user namespace, the command under the same uid as awf
    itself): the proxy still works and the key is still nowhere the command can look."""
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    vnet = provider
    s = seen(vnet)
    logs = os.path.join(vnet.scratch_dir, f"rootless-api-{nonce}")  # awf (as 65534) creates it
    script = split_pattern(secret) + "\n".join([
        "echo ENV_BEGIN; env -0; echo; echo ENV_END",
        "echo PROC_BEGIN; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do",
        '  echo "== $f"; cat "$f" 2>/dev/null | tr \'\\0\' \'\\n\'; echo; done; echo PROC_END',
        'curl -sS --max-time 15 -o /dev/null -w "STATUS=%{http_code}\\n" '
        f'-H "Authorization: Bearer $OPENAI_API_KEY" http://127.0.0.1:10000/v1/rootless-{nonce}',
        'echo "LEAKS=$(grep -rlsF --devices=skip -e "$PAT_A$PAT_B" /tmp /etc "$HOME" '
        '/proc/self/environ 2>/dev/null | wc -l)"',
    ])
    setpriv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    res = awf(target_args(vnet, "openai"), ["bash", "-c", script], logs_dir=logs, prefix=setpriv,
              env=key_env(keys, "openai"), timeout=240)
    assert res.rc == 0, res
    assert status_of(res.stdout) == [200], res
    got = s.requests(f"rootless-{nonce}")
    assert len(got) == 1 and header_values(got[0], "authorization") == [f"Bearer {keys['openai']}"]
    env_in = env_of(res.stdout)
    assert env_in.get("OPENAI_API_KEY") == "sk-placeholder-for-api-proxy", res
    assert env_in.get("OPENAI_BASE_URL") == "http://127.0.0.1:10000", res
    assert "LEAKS=0\n" in res.stdout, res
    assert secret not in res.stdout + res.stderr, res
    assert not scan_for(files_text(logs), [secret]), res


def test_key_with_a_line_break_cannot_inject_headers(awf, provider, nonce):
    """Beyond the letter of the spec (security): a key variable holding CR/LF must not smuggle
    extra header lines into the upstream request. Refusing to start, refusing the request or
    sanitizing the value are all fine; forwarding `X-Smuggled` is not."""
    vnet = provider
    s = seen(vnet)
    res = awf(target_args(vnet, "openai"),
              ["curl", "-sS", "--max-time", "15", "-o", "/dev/null", "-w", "STATUS=%{http_code}\n",
               f"http://127.0.0.1:10000/v1/crlf-{nonce}"],
              env={"OPENAI_API_KEY": f"sk-real-{nonce}\r\nX-Smuggled: {nonce}"})
    for r in s.requests():
        assert not header_values(r, "x-smuggled"), r
        assert not [v for _, v in r.get("header_list", []) if "\r" in v or "\n" in v], r
    assert res.rc is not None, res
