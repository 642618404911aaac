"""DNS rebinding: an allowed name whose answer holds an internal address never hands that
address to the command — awf strips it from the answer (and refuses it at connect time)."""

from __future__ import annotations

from test_dns import answers, dig_script, split_outputs, status

import vnet as V


def test_internal_addresses_stripped_from_answers(awf, vnet):
    r = awf(["-d", "private.test,metadata.test,allowed.test"],
            dig_script(awf, ["private.test"], ["metadata.test"], ["allowed.test"],
                       ["+tcp", "private.test"]))
    outs = split_outputs(r.stdout)
    assert status(outs[0]) == "NOERROR" and answers(outs[0]) == [], r.describe()
    assert status(outs[1]) == "NOERROR" and answers(outs[1]) == [], r.describe()
    assert answers(outs[2]) == [V.ALLOWED4], r.describe()
    assert status(outs[3]) == "NOERROR" and answers(outs[3]) == [], r.describe()
    private = r.audit_for("private.test", kind="dns", action="allow")
    assert private and "removed internal addresses: 10.99.0.10" in private[0]["reason"], private
    metadata = r.audit_for("metadata.test", kind="dns", action="allow")
    assert metadata and "169.254.169.254" in metadata[0]["reason"], metadata
    clean = r.audit_for("allowed.test", kind="dns", action="allow")
    assert clean and "removed" not in clean[0]["reason"], clean
