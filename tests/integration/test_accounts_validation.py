"""test_accounts_validation.py - API.md "Accounts" and "Conventions" field
rules against the real daemons: every field of sign-up, invite accept,
login, token, password change and member update - missing, null, the wrong
JSON type, empty, blank, too long (email 255 characters, name and team
name 101 code points), password 11 vs 12 code points (multibyte), 128 vs
129 bytes, on the shipped common list (case-insensitively, long entries and
passphrases too), equal to the email (case-insensitively) - answered 422
validation_failed with every bad field in "fields" at once, and the limits
themselves accepted. Nothing is created by a refused request. One stack for
the module."""

import uuid

import pytest

from client import PASSWORD, Browser, json_error, make_team, new_email

COMMON = "winniethepooh"  # on data/common-passwords.txt, 13 characters
# more of its long entries: a keyboard walk, a doubled word, a passphrase
LONG_COMMON = ("1qaz2wsx3edc", "PasswordPassword", "I need a new password")


def email_of_length(n):
    """A valid, unique email of exactly n characters."""
    tail = "@example.com"
    head = "v" + uuid.uuid4().hex[:12]
    return head + "x" * (n - len(head) - len(tail)) + tail


def invalid(r, fields):
    """422 validation_failed whose "fields" names exactly these fields."""
    j = json_error(r, "validation_failed", 422)
    assert isinstance(j.get("fields"), dict), j
    assert set(j["fields"]) == set(fields), "fields %r, expected %r" % (sorted(j["fields"]), sorted(fields))
    for k, v in j["fields"].items():
        assert isinstance(v, str) and v, j
    return j


# value -> what it is, for every string field
WRONG_TYPES = [("number", 123), ("list", ["x"]), ("object", {"a": "b"}), ("bool", True), ("null", None)]


@pytest.fixture(scope="module")
def team(shared_stack):
    return make_team(shared_stack)


def signup_body(**over):
    b = {"team_name": "Valid Team", "name": "Valid Name", "email": new_email("it-val"),
         "password": PASSWORD}
    b.update(over)
    return {k: v for k, v in b.items() if v is not MISSING}


class _Missing:
    pass


MISSING = _Missing()

TOO_LONG_NAME = "é" * 101           # 101 code points, 202 bytes
MAX_NAME = "é" * 100
PW_11 = "ñ" * 11                    # 11 code points, 22 bytes
PW_12 = "ñ" * 12
PW_128 = "é" * 64                   # 64 code points, 128 bytes
PW_129 = "é" * 64 + "a"             # 129 bytes


def name_cases(field):
    return [(field, v) for _, v in WRONG_TYPES] + [
        (field, MISSING), (field, ""), (field, "   "), (field, "\t\n"), (field, TOO_LONG_NAME),
        (field, "x" * 101), (field, " " + "y" * 101 + " "), (field, "a\u0001b"), (field, "a\x7fb"),
    ]


def email_cases(field="email"):
    return [(field, v) for _, v in WRONG_TYPES] + [
        (field, MISSING), (field, ""), (field, "   "), (field, email_of_length(255)),
        (field, "no-at-sign"), (field, "a@localhost"), (field, "a@@example.com"),
        (field, "a b@example.com"), (field, "@example.com"), (field, "a@"), (field, "a@.example.com"),
        (field, "a@exa mple.com"), (field, "a@example"),
    ]


def password_cases(field="password"):
    return [(field, v) for _, v in WRONG_TYPES] + [
        (field, MISSING), (field, ""), (field, "short"), (field, PW_11), (field, "x" * 11),
        (field, PW_129), (field, "y" * 129), (field, COMMON), (field, COMMON.upper()),
        (field, "WinnieThePooh"),
    ] + [(field, v) for v in LONG_COMMON]


def case_id(c):
    f, v = c
    if v is MISSING:
        return "%s-missing" % f
    return "%s-%s" % (f, repr(v)[:24])


SIGNUP_CASES = (name_cases("team_name") + name_cases("name") + email_cases() + password_cases())


@pytest.mark.parametrize("case", SIGNUP_CASES, ids=case_id)
def test_signup_field_invalid(shared_stack, case):
    field, value = case
    body = signup_body(**{field: value})
    b = Browser(shared_stack)
    invalid(b.post("/api/teams", body), [field])
    if isinstance(body.get("email"), str) and "@example.com" in body["email"]:
        assert shared_stack.pg.query("SELECT count(*) FROM users WHERE email = %s",
                                     (body["email"].strip().lower(),))[0][0] == 0
    assert b.token is None


def test_signup_all_errors_at_once(shared_stack):
    b = Browser(shared_stack)
    invalid(b.post("/api/teams", {}), ["team_name", "name", "email", "password"])
    invalid(b.post("/api/teams", {"team_name": 1, "name": [], "email": {}, "password": False}),
            ["team_name", "name", "email", "password"])
    invalid(b.post("/api/teams", {"team_name": "", "name": TOO_LONG_NAME, "email": "x",
                                  "password": PW_11}), ["team_name", "name", "email", "password"])
    invalid(b.post("/api/teams", {"team_name": "ok", "name": "", "email": "x", "password": PASSWORD}),
            ["name", "email"])
    # unknown fields are no error
    r = b.post("/api/teams", signup_body(extra="ignored", role="admin"))
    assert r.status_code == 201 and r.json()["user"]["role"] == "owner", r.text


def test_password_equal_to_email(shared_stack):
    b = Browser(shared_stack)
    email = new_email("it-same-as-password")
    for pw in (email, email.upper(), email.title()):
        invalid(b.post("/api/teams", signup_body(email=email, password=pw)), ["password"])
    # the email as typed (not yet normalised) counts too
    invalid(b.post("/api/teams", signup_body(email="  " + email.upper() + " ", password=email)),
            ["password"])


def test_signup_limits_accepted(shared_stack):
    """Exactly at each limit passes: 100 code points, 254-character email,
    12 code points of password, 128 bytes of password, any Unicode."""
    for body in (signup_body(team_name=MAX_NAME, name=MAX_NAME),
                 signup_body(team_name="x" * 100, name="  " + "y" * 100 + "  "),
                 signup_body(email=email_of_length(254)),
                 signup_body(password=PW_12),
                 signup_body(password=PW_128),
                 signup_body(password="x" * 128),
                 signup_body(password="パスワードは十二文字以上です"),
                 signup_body(password="winniethepooh!"),
                 signup_body(name="A", team_name="B")):
        b = Browser(shared_stack)
        r = b.post("/api/teams", body)
        assert r.status_code == 201, (body, r.status_code, r.text)
        j = r.json()
        assert j["team"]["name"] == body["team_name"].strip()
        assert j["user"]["name"] == body["name"].strip()
        assert j["user"]["email"] == body["email"]
        # and the password logs in, all of it
        c = Browser(shared_stack)
        c.login(body["email"], body["password"])
        if len(body["password"].encode()) > 1:
            json_error(c.login(body["email"], body["password"][:-1], expect=None),
                       "invalid_credentials", 401)


ACCEPT_CASES = name_cases("name") + email_cases() + password_cases()


@pytest.mark.parametrize("case", ACCEPT_CASES, ids=case_id)
def test_accept_field_invalid(shared_stack, team, case):
    field, value = case
    body = {"name": "Joiner", "email": new_email("it-join"), "password": PASSWORD}
    if value is MISSING:
        del body[field]
    else:
        body[field] = value
    code = team[0].invite_url.rsplit("/", 1)[1]
    b = Browser(shared_stack)
    invalid(b.post("/api/invites/%s/accept" % code, body), [field])
    assert b.token is None


def test_accept_all_errors_at_once(shared_stack, team):
    code = team[0].invite_url.rsplit("/", 1)[1]
    b = Browser(shared_stack)
    invalid(b.post("/api/invites/%s/accept" % code, {}), ["name", "email", "password"])
    invalid(b.post("/api/invites/%s/accept" % code, {"name": 1, "email": 2, "password": 3}),
            ["name", "email", "password"])
    email = new_email("it-join-same")
    invalid(b.post("/api/invites/%s/accept" % code, {"name": "", "email": email,
                                                       "password": email.upper()}),
            ["name", "password"])
    # an unknown code answers 404 before the body is looked at
    json_error(b.post("/api/invites/%s/accept" % ("0" * 32), {}), "not_found", 404)


def test_accept_limits_accepted(shared_stack, team):
    for body in ({"name": MAX_NAME, "email": email_of_length(254), "password": PW_12},
                 {"name": " z ", "email": new_email(), "password": PW_128}):
        b = Browser(shared_stack)
        r = b.post("/api/invites/%s/accept" % team[0].invite_url.rsplit("/", 1)[1], body)
        assert r.status_code == 201, (body, r.status_code, r.text)
        assert r.json()["user"]["name"] == body["name"].strip()


LOGIN_CASES = ([("email", v) for _, v in WRONG_TYPES] + [("email", MISSING), ("email", ""),
                                                           ("email", "not an email"),
                                                           ("email", email_of_length(255))] +
               [("password", v) for _, v in WRONG_TYPES] + [("password", MISSING), ("password", ""),
                                                              ("password", PW_129)])


@pytest.mark.parametrize("case", LOGIN_CASES, ids=case_id)
@pytest.mark.parametrize("route", ["login", "token"])
def test_login_field_invalid(shared_stack, team, route, case):
    field, value = case
    body = {"email": team[2].email, "password": PASSWORD, "device_name": "d"}
    if value is MISSING:
        del body[field]
    else:
        body[field] = value
    b = Browser(shared_stack)
    if route == "login":
        invalid(b.post("/api/login", body), [field])
    else:
        invalid(b.post("/api/tokens", body, csrf=False), [field])
    assert b.token is None


@pytest.mark.parametrize("value", [v for _, v in WRONG_TYPES if v is not None] +
                         [MISSING, None, "", "   ", TOO_LONG_NAME, "a\u0001b"], ids=repr)
def test_token_device_name_invalid(shared_stack, team, value):
    body = {"email": team[2].email, "password": PASSWORD, "device_name": value}
    if value is MISSING:
        del body["device_name"]
    invalid(Browser(shared_stack).post("/api/tokens", body, csrf=False), ["device_name"])


def test_login_all_errors_at_once(shared_stack):
    b = Browser(shared_stack)
    invalid(b.post("/api/login", {}), ["email", "password"])
    invalid(b.post("/api/login", {"email": 1, "password": 2}), ["email", "password"])
    invalid(b.post("/api/tokens", {}, csrf=False), ["email", "password", "device_name"])
    invalid(b.post("/api/tokens", {"email": [], "password": {}, "device_name": 3}, csrf=False),
            ["email", "password", "device_name"])


def test_login_any_password_is_verified(shared_stack, team):
    """A short, common or email-like password is not a validation error at
    login (the policy is for new passwords): it is just wrong."""
    member = team[2]
    for pw in ("x", PW_11, COMMON, member.email):  # 4: under the throttle
        r = Browser(shared_stack).login(member.email, pw, expect=None)
        json_error(r, "invalid_credentials", 401)
    # clear the failures this made (a success does)
    Browser(shared_stack).login(member.email, PASSWORD)


PASSWORD_CASES = ([("current_password", v) for _, v in WRONG_TYPES] +
                  [("current_password", MISSING), ("current_password", "")] +
                  password_cases("new_password"))


@pytest.mark.parametrize("case", PASSWORD_CASES, ids=case_id)
def test_password_change_field_invalid(shared_stack, case):
    field, value = case
    a = Browser(shared_stack)
    a.signup()
    body = {"current_password": PASSWORD, "new_password": "a perfectly good new one"}
    if value is MISSING:
        del body[field]
    else:
        body[field] = value
    invalid(a.post("/api/password", body), [field])
    a.login(a.email, PASSWORD)  # unchanged


def test_password_change_policy(shared_stack):
    a = Browser(shared_stack)
    a.signup(email=new_email("it-pwchange"))
    invalid(a.post("/api/password", {}), ["current_password", "new_password"])
    invalid(a.post("/api/password", {"current_password": 1, "new_password": PW_11}),
            ["current_password", "new_password"])
    for pw in (a.email, a.email.upper(), COMMON.capitalize()):
        invalid(a.post("/api/password", {"current_password": PASSWORD, "new_password": pw}),
                ["new_password"])
    r = a.post("/api/password", {"current_password": PASSWORD, "new_password": PW_128})
    assert r.status_code == 204, r.text
    Browser(shared_stack).login(a.email, PW_128)


@pytest.mark.parametrize("value", [MISSING, None, 1, ["admin"], {"r": 1}, True, "", "owner", "Admin",
                                   "superuser", " admin"], ids=repr)
def test_member_update_role_invalid(shared_stack, team, value):
    owner, _, member = team
    body = {} if value is MISSING else {"role": value}
    invalid(owner.patch("/api/team/members/%s" % member.user["id"], body), ["role"])
    assert shared_stack.pg.query("SELECT role FROM users WHERE id = %s",
                                 (member.user["id"],))[0][0] == "member"
