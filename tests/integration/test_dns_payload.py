"""DNS payload, black-box: for an allowed name, only the question leaves the host. Data a
command hides in a query's additional section, an EDNS option, the answer section, trailing
bytes (UDP up to 4 KB, TCP up to 64 KB) or the letter case of the name never reaches the
network; awf rebuilds the upstream query from the parsed question. The vnet's authoritative
server logs every byte it receives (`hex`), which is what these tests read."""

from __future__ import annotations

import os
import socket
import struct

import vnet as V

PROBE = r'''
import socket, struct, sys

marker = sys.argv[1].encode()
server = next(l.split()[1] for l in open("/etc/resolv.conf") if l.startswith("nameserver"))

def name(labels):
    return b"".join(bytes([len(l)]) + l for l in labels) + b"\0"

def txt(data):  # a TXT record owned by the question's name
    return b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, 60, len(data) + 1) + bytes([len(data)]) + data

def opt(option):  # EDNS OPT with one private option
    return b"\0" + struct.pack("!HHIH", 41, 4096, 0, 4 + len(option)) + \
        struct.pack("!HH", 65001, len(option)) + option

def query(qid, labels, an=b"", ar=b"", tail=b""):
    head = struct.pack("!HHHHHH", qid, 0x0100, 1, 1 if an else 0, 0, 1 if ar else 0)
    return head + name(labels) + struct.pack("!HH", 1, 1) + an + ar + tail

def ask_udp(message):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(message, (server, 53))
    reply = s.recv(4096)
    return reply[3] & 15, reply[12:12 + len(message)]

def ask_tcp(message):
    s = socket.create_connection((server, 53), timeout=5)
    s.sendall(struct.pack("!H", len(message)) + message)
    n = struct.unpack("!H", s.recv(2, socket.MSG_WAITALL))[0]
    reply = s.recv(n, socket.MSG_WAITALL)
    return reply[3] & 15, reply

allowed = [b"allowed", b"test"]
cases = {
    "additional-udp": ask_udp(query(1, allowed, ar=txt(marker + b"-additional"))),
    "answer-udp": ask_udp(query(2, allowed, an=txt(marker + b"-answer"))),
    "edns-udp": ask_udp(query(3, allowed, ar=opt(marker + b"-edns"))),
    "tail-udp": ask_udp(query(4, allowed, tail=marker + b"-tail" + b"x" * 3900)),
    "tail-tcp": ask_tcp(query(5, allowed, tail=marker + b"-tcptail" + b"y" * 60000)),
    "additional-tcp": ask_tcp(query(6, allowed, ar=txt(marker + b"-tcpadditional"))),
}
for label, (rcode, _) in cases.items():
    print(label, rcode)
rcode, reply = ask_udp(query(7, [b"AlLoWeD", b"TeSt"]))
print("case", rcode, b"AlLoWeD" in reply)
'''


def write_probe(vnet, nonce: str) -> str:
    path = os.path.join(vnet.scratch_dir, f"dns-payload-{nonce}.py")
    with open(path, "w") as f:
        f.write(PROBE)
    os.chmod(path, 0o644)
    return path


def test_only_the_question_leaves(awf, vnet, nonce):
    marker = f"smuggle{nonce}"
    m = vnet.mark()
    r = awf(["-d", "allowed.test"], [V.PY, write_probe(vnet, nonce), marker], timeout=60)
    assert r.rc == 0, r.describe()
    lines = dict(l.split(" ", 1) for l in r.stdout.splitlines())
    for label in ("additional-udp", "answer-udp", "edns-udp", "tail-udp", "tail-tcp",
                  "additional-tcp"):
        assert lines.get(label) == "0", r.describe()  # answered (NOERROR) through awf
    # The client's case comes back in the answer's question (resolvers using 0x20 check it).
    assert lines.get("case") == "0 True", r.describe()
    arrived = [q for q in vnet.dns_queries(m) if q.get("name", "").lower() == "allowed.test"]
    assert len(arrived) >= 7, arrived  # the queries were forwarded...
    for q in arrived:  # ...as the bare question (plus at most a bare OPT record)
        raw = bytes.fromhex(q["hex"])
        assert marker.encode() not in raw, q
        assert len(raw) <= 12 + 14 + 4 + 11, q
        assert q["name"] == "allowed.test", q  # lower case went up
    assert marker not in open(vnet.dns_log).read()
    audit = [e for e in r.audit if e.get("kind") == "dns" and e.get("name") == "allowed.test"]
    assert len(audit) >= 7 and all(e.get("action") == "allow" for e in audit), r.describe()


def test_control_the_server_logs_what_it_receives(vnet, nonce):
    """Without awf, the same smuggled bytes reach the server's log: the test above can fail."""
    marker = f"direct{nonce}".encode()
    m = vnet.mark()
    head = struct.pack("!HHHHHH", 9, 0x0100, 1, 0, 0, 0)
    qname = b"\x07allowed\x04test\x00"
    message = head + qname + struct.pack("!HH", 1, 1) + marker
    script = ("import socket,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); "
              "s.settimeout(5); s.sendto(bytes.fromhex(sys.argv[1]),(sys.argv[2],53)); s.recv(4096)")
    vnet.host_run([V.PY, "-c", script, message.hex(), V.DNS4], check=True)
    raws = [bytes.fromhex(q["hex"]) for q in vnet.dns_queries(m) if "hex" in q]
    assert any(marker in raw for raw in raws), raws
