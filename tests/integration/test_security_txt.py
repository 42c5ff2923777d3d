"""test_security_txt.py - GET /.well-known/security.txt (RFC 9116): plain text,
Contact: from [ingress] security_contact, Expires: an RFC 3339 time in the
future, no later than [ingress] security_txt_days from now."""

import datetime
import re

import sembark
from sembark import security_header_problems

RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def fields(text):
    out = {}
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        k, sep, v = line.partition(":")
        assert sep, "line without a field: %r" % line
        out.setdefault(k.strip().lower(), []).append(v.strip())
    return out


def parse_time(s):
    assert RFC3339.match(s), "Expires %r is not RFC 3339" % s
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


def test_security_txt(shared_stack):
    r = shared_stack.get("/.well-known/security.txt")
    assert r.status_code == 200, (r.status_code, r.text)
    ctype = r.headers.get("Content-Type", "")
    assert ctype.split(";")[0].strip().lower() == "text/plain", ctype
    if "charset" in ctype.lower():
        assert "utf-8" in ctype.lower(), ctype
    assert security_header_problems(r) == [], dict(r.headers)
    f = fields(r.text)
    assert f.get("contact") == [sembark.SECURITY_CONTACT], f
    assert len(f.get("expires", [])) == 1, f
    exp = parse_time(f["expires"][0])
    now = datetime.datetime.now(datetime.timezone.utc)
    assert exp > now + datetime.timedelta(days=1), exp
    assert exp <= now + datetime.timedelta(days=181), "Expires %s beyond the 180-day default" % exp


def test_security_txt_follows_config(make_stack):
    s = make_stack(config={"ingress": {"security_contact": "https://example.com/report",
                                       "security_txt_days": "7"}})
    r = s.get("/.well-known/security.txt")
    assert r.status_code == 200, r.text
    f = fields(r.text)
    assert f.get("contact") == ["https://example.com/report"], f
    exp = parse_time(f["expires"][0])
    now = datetime.datetime.now(datetime.timezone.utc)
    assert now + datetime.timedelta(days=6) < exp <= now + datetime.timedelta(days=7, minutes=5), exp
