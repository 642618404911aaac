"""URL and https:// rules cannot be tunnelled around, black-box.

1. With `--ssl-bump --allow-urls https://allowed.test/ok/*`, `curl --proxytunnel
   http://allowed.test:80/no/...` used to reach the origin in cleartext, the log showing only a
   CONNECT. A CONNECT to any port but 443 of a host the patterns mention is now refused.
2. With `--allow-domains https://allowed.test`, `CONNECT allowed.test:80` carried cleartext HTTP.
   Under an https:// rule the tunnel must now begin with TLS.
Each with a control: the same request as a plain GET is refused, and where the rules allow it,
the tunnel works."""

from __future__ import annotations

import vnet as V

OK = "https://allowed.test/ok/*"


def through_tunnel(awf, url: str) -> list[str]:
    return awf.curl("--proxytunnel", "-o", "/dev/null", "-w", "%{http_code}", url)


def test_url_rules_cannot_be_tunnelled_around_on_port_80(awf, vnet):
    m = vnet.mark()
    r = awf(["-d", "allowed.test", "--ssl-bump", "--ssl-bump-ca-file", vnet.ca_path,
             "--allow-urls", OK], through_tunnel(awf, "http://allowed.test:80/no/secret"))
    assert r.stdout.strip() != "200", r.describe()
    assert not [q for q in vnet.origin_requests(m) if "/no/secret" in q.get("path", "")]
    recs = r.audit_for("allowed.test", kind="connect", action="deny")
    assert recs and "they apply on port 443 only" in recs[0]["reason"], r.describe()
    assert any(a["method"] == "CONNECT" and a["status"] == 403 for a in r.access), r.describe()


def test_control_url_rules_as_a_plain_get_were_already_refused(awf, vnet):
    r = awf(["-d", "allowed.test", "--ssl-bump", "--ssl-bump-ca-file", vnet.ca_path,
             "--allow-urls", OK], awf.curl("-o", "/dev/null", "-w", "%{http_code}",
                                           "http://allowed.test/no/secret"))
    assert r.stdout.strip() == "403", r.describe()


def test_https_rule_admits_only_tls_in_a_tunnel(awf, vnet):
    m = vnet.mark()
    r = awf(["-d", "https://allowed.test"], through_tunnel(awf, "http://allowed.test:80/plain"))
    assert r.stdout.strip() != "200", r.describe()
    assert not [q for q in vnet.origin_requests(m) if q.get("path") == "/plain"], r.describe()
    recs = r.audit_for("allowed.test", kind="connect", action="deny")
    assert recs and "is allowed for https:// only" in recs[0]["reason"], r.describe()


def test_control_https_rule_still_carries_tls_and_a_both_rule_carries_plain(awf, vnet):
    tls = awf(["-d", "https://allowed.test"], awf.curl("-o", "/dev/null", "-w", "%{http_code}",
                                                        "https://allowed.test/tls"))
    assert tls.stdout.strip() == "200", tls.describe()
    plain = awf(["-d", "allowed.test"], through_tunnel(awf, "http://allowed.test:80/plain"))
    assert plain.stdout.strip() == "200", plain.describe()
