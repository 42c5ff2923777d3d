"""test_openapi.py - docs/openapi.json, the OpenAPI 3.1 document of the HTTP
API that sembark-ingressd serves at GET /api/openapi.json, held to what it
describes so that it cannot drift:

1. a real validator accepts it: @seriousme/openapi-schema-validator (the
   OpenAPI Initiative's JSON Schemas of 3.1, run by Ajv), installed at a
   pinned version by scripts/openapi-validator.sh into build/node; without
   npm or the registry this fails, it does not skip. The validator also
   refuses a broken copy, so a validator that accepts anything fails too;
2. its paths and methods are ingressd's route table exactly
   (`sembark-ingressd --routes`, the table the daemon routes with);
3. ingressd serves the file's bytes, without a session;
4. real answers: every operation driven through the real stack in its main
   success and error answers; each status must be documented for that
   operation, each JSON body must validate against the documented schema
   (python3-jsonschema, Draft 2020-12, $refs resolved in the document),
   each documented required header (Set-Cookie, Retry-After) must be
   there, and every operation must have had a documented 2xx answer.
"""
import copy
import json
import os
import subprocess
import tempfile
import time
import uuid
from datetime import datetime, timezone

import jsonschema
import pytest

import sembark
from client import PASSWORD, Bearer, Browser, invite_code, new_email, post_token, totp

DOC_PATH = os.path.join(sembark.REPO_ROOT, "docs", "openapi.json")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def load_doc():
    with open(DOC_PATH, "rb") as f:
        raw = f.read()
    return raw, json.loads(raw)


def doc_operations(doc):
    """{(METHOD, path)} of the document."""
    return {(m.upper(), p) for p, item in doc["paths"].items() for m in item if m in METHODS}


# ---- 1. the validator ---------------------------------------------------------------------------

def validator():
    r = subprocess.run(["sh", os.path.join(sembark.REPO_ROOT, "scripts", "openapi-validator.sh")],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, "cannot install the OpenAPI validator:\n" + r.stderr[-3000:]
    return r.stdout.strip().splitlines()[-1]


def validate(path):
    r = subprocess.run([validator(), path], capture_output=True, text=True, timeout=120)
    return r.returncode, r.stdout + r.stderr


def test_validator_accepts_the_document():
    rc, out = validate(DOC_PATH)
    assert rc == 0, out
    assert json.loads(out)["valid"] is True, out


@pytest.mark.parametrize("breakage", ["no info", "bad status key", "bad ref"])
def test_validator_refuses_a_broken_document(breakage):
    _, doc = load_doc()
    doc = copy.deepcopy(doc)
    if breakage == "no info":
        del doc["info"]
    elif breakage == "bad status key":
        doc["paths"]["/api/me"]["get"]["responses"]["2000"] = {"description": "x"}
    else:
        doc["paths"]["/api/me"]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"] = {"$ref": "#/components/schemas/NoSuchSchema"}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(doc, f)
    try:
        rc, out = validate(f.name)
    finally:
        os.unlink(f.name)
    assert rc != 0, "the validator accepted a document with %s:\n%s" % (breakage, out)


# ---- 2. the route table -------------------------------------------------------------------------

def ingressd_routes():
    r = subprocess.run([sembark.binary("ingressd"), "--routes"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    routes = [tuple(line.split(" ")) for line in lines]
    assert all(len(x) == 2 and x[1].startswith("/") for x in routes), lines
    assert len(set(routes)) == len(routes), "a route twice: %r" % lines
    return set(routes)


def test_routes_option_prints_the_table():
    routes = ingressd_routes()
    # a few rows of each origin: ingressd's own, authd's, telemetryd's, logd's
    for row in [("GET", "/healthz"), ("GET", "/api/openapi.json"), ("POST", "/api/teams"),
                ("PATCH", "/api/team/members/{id}"), ("POST", "/api/telemetry/events"),
                ("GET", "/api/audit")]:
        assert row in routes
    with open(os.path.join(sembark.REPO_ROOT, "ipc", "operations.def"), encoding="utf-8") as f:
        rows = [line for line in f if line.startswith("IPC_OP(")]
    assert len(routes) == len(rows) + 4  # /healthz, security.txt, /api/csrf, /api/openapi.json


def test_document_has_exactly_the_route_table():
    _, doc = load_doc()
    routes, documented = ingressd_routes(), doc_operations(doc)
    assert not routes - documented, "routes the document lacks: %s" % sorted(routes - documented)
    assert not documented - routes, "documented but not routed: %s" % sorted(documented - routes)


# ---- 3. served --------------------------------------------------------------------------------

def test_served_bytes_are_the_document(shared_stack):
    raw, _ = load_doc()
    for method in ("GET", "HEAD"):
        with Browser(shared_stack) as b:
            r = b.request(method, "/api/openapi.json")
        assert r.status_code == 200, (r.status_code, r.text[:300])
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert int(r.headers["Content-Length"]) == len(raw)
        assert "Set-Cookie" not in r.headers
        if method == "GET":
            assert r.content == raw


# ---- 4. real answers --------------------------------------------------------------------------

class Checker:
    """Checks answers against the document; remembers which were seen."""

    def __init__(self, doc):
        self.doc = doc
        self.resolver = jsonschema.RefResolver("", doc)
        self.seen = set()  # (METHOD, path, status)

    def _deref(self, obj):
        while "$ref" in obj:
            obj = self.resolver.resolve(obj["$ref"])[1]
        return obj

    def validate(self, schema, value, where):
        cls = jsonschema.Draft202012Validator
        errors = list(cls(schema, resolver=self.resolver,
                          format_checker=cls.FORMAT_CHECKER).iter_errors(value))
        assert not errors, "%s\n%s" % (where, "\n".join(e.message for e in errors[:5]))

    def __call__(self, method, path, r, status=None):
        where = "%s %s -> %d %s" % (method, path, r.status_code, r.text[:300])
        if status is not None:
            assert r.status_code == status, where
        op = self.doc["paths"][path][method.lower()]
        resp = op["responses"].get(str(r.status_code))
        assert resp is not None, "undocumented status: " + where
        resp = self._deref(resp)
        for name, h in resp.get("headers", {}).items():
            h = self._deref(h)
            if h.get("required"):
                assert name in r.headers, "documented header %s missing: %s" % (name, where)
            if name in r.headers and h["schema"].get("type") == "integer":
                assert r.headers[name].isdigit(), where
                self.validate(h["schema"], int(r.headers[name]), where)
        assert not (r.status_code in (429, 503) and "Retry-After" in r.headers and
                    "Retry-After" not in resp.get("headers", {})), "undocumented Retry-After: " + where
        content = resp.get("content")
        if not content:
            assert not r.content, "a body the document does not describe: " + where
        elif "application/json" in content:
            assert r.headers["Content-Type"].startswith("application/json"), where
            self.validate(content["application/json"]["schema"], r.json(), where)
        self.seen.add((method.upper(), path, r.status_code))
        return r


@pytest.fixture(scope="module")
def check():
    return Checker(load_doc()[1])


def event(kind="feature_interaction", attrs=None):
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return {"id": str(uuid.uuid4()), "type": kind, "occurred_at": now,
            "attrs": attrs if attrs is not None else {"feature": "invite.copy"}}


CLIENT = {"app_version": "2.4.1", "os_version": "macOS 14.5", "display": {"width": 2560, "height": 1440}}


def test_public_answers(shared_stack, check):
    with Browser(shared_stack) as b:
        check("GET", "/healthz", b.get("/healthz"), 200)
        check("GET", "/.well-known/security.txt", b.get("/.well-known/security.txt"), 200)
        check("GET", "/api/csrf", b.get("/api/csrf"), 204)
        check("GET", "/api/openapi.json", b.get("/api/openapi.json"), 200)


def test_account_answers(shared_stack, check):
    owner, evil = Browser(shared_stack), Browser(shared_stack)
    email = new_email("it-oa")
    body = {"team_name": "OpenAPI", "name": "Owner", "email": email, "password": PASSWORD}
    # sign-up: the errors, then the success
    check("POST", "/api/teams", owner.post("/api/teams", body, csrf="forged"), 419)
    check("POST", "/api/teams", evil.post("/api/teams", body, origin="http://evil.example"), 403)
    check("POST", "/api/teams", owner.post("/api/teams", data="{", content_type="application/json"), 400)
    check("POST", "/api/teams", owner.post("/api/teams", data="x", content_type="text/plain"), 415)
    check("POST", "/api/teams", owner.post("/api/teams", data="{\"a\":\"" + "x" * 70000 + "\"}"), 413)
    check("POST", "/api/teams", owner.post("/api/teams", dict(body, email="nope", password="short")), 422)
    check("POST", "/api/teams", owner.post("/api/teams", body), 201)
    check("POST", "/api/teams", Browser(shared_stack).post("/api/teams", body), 409)
    owner.email, owner.password = email, PASSWORD
    code = invite_code(owner.post("/api/team/invite/rotate").json()["invite_url"])

    # invites
    with Browser(shared_stack) as anon:
        check("GET", "/api/invites/{code}", anon.get("/api/invites/%s" % code), 200)
        check("GET", "/api/invites/{code}", anon.get("/api/invites/%s" % uuid.uuid4().hex), 404)
        check("POST", "/api/invites/{code}/accept",
              anon.post("/api/invites/%s/accept" % uuid.uuid4().hex,
                        {"name": "M", "email": new_email(), "password": PASSWORD}), 404)
        check("POST", "/api/invites/{code}/accept",
              anon.post("/api/invites/%s/accept" % code,
                        {"name": "M", "email": email, "password": PASSWORD}), 409)
        check("POST", "/api/invites/{code}/accept",
              anon.post("/api/invites/%s/accept" % code, {"name": "", "email": "x"}), 422)
    member = Browser(shared_stack)
    member.email, member.password = new_email("it-om"), PASSWORD
    check("POST", "/api/invites/{code}/accept",
          member.post("/api/invites/%s/accept" % code,
                      {"name": "Member", "email": member.email, "password": PASSWORD}), 201)

    # login and tokens
    with Browser(shared_stack) as b:
        check("POST", "/api/login", b.post("/api/login", {"email": email, "password": "wrong" * 3}), 401)
        check("POST", "/api/login", b.post("/api/login", {"email": email}), 422)
        check("POST", "/api/login", b.post("/api/login", {"email": email, "password": PASSWORD}), 200)
    check("POST", "/api/tokens", post_token(shared_stack, email, "wrong" * 3), 401)
    check("POST", "/api/tokens", post_token(shared_stack, "x", PASSWORD), 422)
    r = check("POST", "/api/tokens", post_token(shared_stack, email, PASSWORD, "phone"), 201)
    phone = Bearer(shared_stack, r.json()["token"])

    # me, password
    with Browser(shared_stack) as anon:
        check("GET", "/api/me", anon.get("/api/me"), 401)
        check("POST", "/api/logout", anon.post("/api/logout"), 401)
    check("GET", "/api/me", owner.get("/api/me"), 200)
    check("GET", "/api/me", phone.get("/api/me"), 200)
    check("POST", "/api/password", member.post("/api/password", {"current_password": "wrong" * 3,
                                                                 "new_password": PASSWORD + "!"}), 422)
    check("POST", "/api/password", member.post("/api/password", {"current_password": PASSWORD,
                                                                 "new_password": PASSWORD + "!"}), 204)
    check("POST", "/api/logout", member.post("/api/logout", csrf="forged"), 419)
    check("POST", "/api/logout", member.post("/api/logout"), 204)


def test_login_throttle_answers(shared_stack, check):
    owner = Browser(shared_stack)
    owner.signup()
    with Browser(shared_stack) as b:
        for _ in range(5):
            check("POST", "/api/login", b.post("/api/login", {"email": owner.email, "password": "w" * 12}),
                  401)
        r = check("POST", "/api/login", b.post("/api/login", {"email": owner.email, "password": PASSWORD}),
                  429)
    assert int(r.headers["Retry-After"]) >= 1


def test_team_and_session_answers(shared_stack, check):
    owner = Browser(shared_stack)
    owner.signup()
    admin, member = Browser(shared_stack), Browser(shared_stack)
    admin.join(owner.invite_url, email=new_email("it-oadm"))
    member.join(owner.invite_url)
    check("GET", "/api/team", member.get("/api/team"), 200)
    check("GET", "/api/team/invite", member.get("/api/team/invite"), 403)
    check("GET", "/api/team/invite", owner.get("/api/team/invite"), 200)
    check("POST", "/api/team/invite/rotate", member.post("/api/team/invite/rotate"), 403)
    check("POST", "/api/team/invite/rotate", owner.post("/api/team/invite/rotate"), 200)
    path, aid = "/api/team/members/{id}", admin.user["id"]
    check("PATCH", path, owner.patch("/api/team/members/%s" % aid, {"role": "owner"}), 422)
    check("PATCH", path, owner.patch("/api/team/members/%s" % uuid.uuid4(), {"role": "admin"}), 404)
    check("PATCH", path, owner.patch("/api/team/members/%s" % aid, {"role": "admin"}), 200)
    check("PATCH", path, admin.patch("/api/team/members/%s" % member.user["id"], {"role": "admin"}), 403)
    check("DELETE", path, admin.delete("/api/team/members/%s" % owner.user["id"]), 403)
    check("DELETE", path, admin.delete("/api/team/members/%s" % uuid.uuid4()), 404)
    check("DELETE", path, admin.delete("/api/team/members/%s" % member.user["id"]), 204)

    phone = owner.bearer("phone")
    r = check("GET", "/api/sessions", owner.get("/api/sessions"), 200)
    other = [s["id"] for s in r.json()["sessions"] if not s["current"]]
    assert other, r.text
    check("DELETE", "/api/sessions/{id}", owner.delete("/api/sessions/%s" % uuid.uuid4()), 404)
    check("DELETE", "/api/sessions/{id}", owner.delete("/api/sessions/%s" % other[0]), 204)
    check("GET", "/api/me", phone.get("/api/me"), 401)
    owner.bearer("tablet")
    check("POST", "/api/sessions/revoke-others", owner.post("/api/sessions/revoke-others"), 204)
    check("DELETE", "/api/sessions/{id}", owner.delete("/api/sessions/%s" % owner.session_id()), 204)


def test_telemetry_and_audit_answers(shared_stack, check):
    owner = Browser(shared_stack)
    owner.signup()
    member = Browser(shared_stack)
    member.join(owner.invite_url)
    phone = owner.bearer("phone")
    ev = "/api/telemetry/events"
    batch = {"client": CLIENT, "events": [event(), event("network_status", {"online": True}),
                                          event("connectivity", {"state": "connected"}),
                                          event("sign_in", {})]}
    r = check("POST", ev, phone.post(ev, batch), 202)
    assert r.json()["accepted"] == 3 and len(r.json()["rejected"]) == 1, r.text
    check("POST", ev, member.post(ev, {"client": CLIENT, "events": [event()]}), 202)
    check("POST", ev, phone.post(ev, {"client": CLIENT, "events": []}), 422)
    check("POST", ev, phone.post(ev, {"client": CLIENT, "events": [event("sign_out", {})]}), 422)
    check("POST", ev, member.post(ev, {"client": CLIENT, "events": [event()]}, csrf="forged"), 419)
    with Browser(shared_stack) as anon:
        check("POST", ev, anon.post(ev, {"client": CLIENT, "events": [event()]}), 401)
        check("GET", "/api/telemetry/summary", anon.get("/api/telemetry/summary"), 401)
        check("GET", "/api/audit", anon.get("/api/audit"), 401)
    sm = "/api/telemetry/summary"
    check("GET", sm, owner.get(sm + "?days=3"), 200)
    check("GET", sm, phone.get(sm), 200)
    check("GET", sm, owner.get(sm + "?days=99"), 422)
    check("GET", sm, member.get(sm), 403)
    r = check("GET", "/api/audit", owner.get("/api/audit?limit=1"), 200)
    assert r.json()["next"], r.text
    check("GET", "/api/audit", owner.get("/api/audit?limit=1&before=" + r.json()["next"]), 200)
    check("GET", "/api/audit", owner.get("/api/audit?limit=0"), 422)
    check("GET", "/api/audit", member.get("/api/audit"), 403)


def test_two_factor_answers(shared_stack, check):
    b = Browser(shared_stack)
    b.signup()
    m = Browser(shared_stack)
    m.join(b.invite_url)
    check("PATCH", "/api/team", b.patch("/api/team", {"require_two_factor": True}), 409)
    check("PATCH", "/api/team", b.patch("/api/team", {"require_two_factor": 1}), 422)
    check("PATCH", "/api/team", m.patch("/api/team", {"require_two_factor": True}), 403)
    check("GET", "/api/me/totp", b.get("/api/me/totp"), 200)
    check("POST", "/api/me/totp", b.post("/api/me/totp", {"password": "wrong" * 3}), 422)
    check("POST", "/api/me/totp/confirm", b.post("/api/me/totp/confirm", {"code": "123456"}), 409)
    r = check("POST", "/api/me/totp", b.post("/api/me/totp", {"password": b.password}), 200)
    secret, t0 = r.json()["secret"], time.time()
    check("POST", "/api/me/totp/confirm", b.post("/api/me/totp/confirm", {"code": "12"}), 422)
    check("POST", "/api/me/totp/confirm",
          b.post("/api/me/totp/confirm", {"code": totp(secret, t0)}), 200)
    with Browser(shared_stack) as c:
        r = check("POST", "/api/login", c.post("/api/login", {"email": b.email,
                                                            "password": b.password}), 202)
        ticket = r.json()["ticket"]
        check("POST", "/api/login/totp",
              c.post("/api/login/totp", {"ticket": ticket, "code": totp(secret, t0)}), 401)
        check("POST", "/api/login/totp", c.post("/api/login/totp", {"ticket": ticket}), 422)
        check("POST", "/api/login/totp",
              c.post("/api/login/totp", {"ticket": ticket, "code": totp(secret, t0 + 30)}), 200)
    check("POST", "/api/tokens", post_token(shared_stack, b.email, b.password), 401)
    check("PATCH", "/api/team", b.patch("/api/team", {"require_two_factor": True}), 200)
    check("GET", "/api/team", m.get("/api/team"), 403)
    check("POST", "/api/telemetry/events", m.post("/api/telemetry/events", {
        "client": CLIENT, "events": [event()]}), 403)
    check("PATCH", "/api/team", b.patch("/api/team", {"require_two_factor": False}), 200)
    check("DELETE", "/api/me/totp", b.request("DELETE", "/api/me/totp", {"password": b.password}),
          204)
    shared_stack.pg.query("DELETE FROM login_failures")


def test_privacy_answers(shared_stack, check):
    b = Browser(shared_stack)
    b.signup()
    m, m2 = Browser(shared_stack), Browser(shared_stack)
    m.join(b.invite_url)
    m2.join(b.invite_url)
    check("GET", "/api/me/export", m.get("/api/me/export"), 200)
    check("GET", "/api/me/export", Browser(shared_stack).get("/api/me/export"), 401)
    check("DELETE", "/api/me", m.request("DELETE", "/api/me", {"password": "wrong" * 3}), 422)
    check("DELETE", "/api/me", b.request("DELETE", "/api/me", {"password": b.password}), 409)
    check("DELETE", "/api/me", m.request("DELETE", "/api/me", {"password": m.password}), 204)
    check("DELETE", "/api/team", m2.request("DELETE", "/api/team", {"password": m2.password}),
          403)
    check("DELETE", "/api/team", b.request("DELETE", "/api/team", {"password": b.password}), 204)
    shared_stack.pg.query("DELETE FROM login_failures")


def test_recovery_answers(shared_stack, check):
    b = Browser(shared_stack)
    b.signup()
    c = Browser(shared_stack)
    check("POST", "/api/password/forgot", c.post("/api/password/forgot", {"email": b.email}), 202)
    check("POST", "/api/password/forgot", c.post("/api/password/forgot", {"email": "x"}), 422)
    token = shared_stack.pg.query("SELECT params->>'token' FROM mail_outbox WHERE to_addr = %s "
                                  "AND template = 'password_reset'", (b.email,))[0][0]
    check("POST", "/api/password/reset",
          c.post("/api/password/reset", {"token": "0" * 40, "new_password": "x" * 20}), 422)
    check("POST", "/api/password/reset",
          c.post("/api/password/reset", {"token": token, "new_password": "another long one 7"}),
          204)


def test_verification_answers(shared_stack, check):
    b = Browser(shared_stack)
    b.signup()
    check("GET", "/api/me/verification", b.get("/api/me/verification"), 200)
    check("POST", "/api/me/verification", b.post("/api/me/verification"), 202)
    token = shared_stack.pg.query("SELECT params->>'token' FROM mail_outbox WHERE to_addr = %s "
                                  "AND template = 'verify_email' ORDER BY id LIMIT 1",
                                  (b.email,))[0][0]
    c = Browser(shared_stack)
    check("POST", "/api/email/verify", c.post("/api/email/verify", {"token": "0" * 40}), 422)
    check("POST", "/api/email/verify",
          c.post("/api/email/verify", {"token": token}), 204)
    check("POST", "/api/me/verification", b.post("/api/me/verification"), 409)


def test_every_operation_answered_as_documented(check):
    """Runs after the tests above (file order): each operation had a
    documented 2xx answer, and the tests saw its errors too."""
    missing = [op for op in doc_operations(check.doc)
               if not any((op[0], op[1], s) in check.seen for s in range(200, 300))]
    assert not missing, "operations with no success answer checked: %s" % sorted(missing)
    errors = {s for (_, _, s) in check.seen if s >= 400}
    assert errors >= {400, 401, 403, 404, 409, 413, 415, 419, 422, 429}, sorted(errors)
