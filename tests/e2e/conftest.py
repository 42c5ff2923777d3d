"""conftest.py - the browser suite's fixtures (the stack's are in
tests/conftest.py): `browsers`, a factory of separate Chromium profiles
that are closed, and checked for console errors and CSP violations, at the
end of each test."""

import pytest

import browser as browser_mod


@pytest.fixture
def browsers(request):
    why = browser_mod.available()
    if why:
        pytest.fail(why)
    made = []

    def make(base_url, **kw):
        b = browser_mod.Browser(base_url, **kw)
        made.append(b)
        return b

    yield make
    faults = []
    for b in made:
        try:
            faults += b.collect()
        finally:
            b.quit()
    rep = getattr(request.node, "rep_call", None)
    if faults and (rep is None or rep.passed):
        pytest.fail("the page had faults:\n" + "\n".join(faults), pytrace=False)
