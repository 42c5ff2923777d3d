"""conftest.py - the fixtures and hooks of sembark's integration suite
(integration/) and browser suite (e2e/); see integration/README.md.
tests/pytest.ini makes this directory pytest's rootdir, so this file is
loaded however the suites are started.

  base_dir      session: one temporary directory under /tmp for everything
  sec           session: generated passwords and keys (files of mode 0600)
  pg            session: a private PostgreSQL cluster with database `sembark`
  migrated      session: `sembarkctl migrate` run once; its config path
  make_stack    function: factory, make_stack(config=, env=, daemon_env=,
                start=True) -> a started Stack; stopped and checked at teardown
  stack         function: make_stack() with defaults, four fresh daemons
  shared_stack  module: one stack for a module's read-only tests
  make_shared_stack  module: make_stack's factory, stacks kept for the module

A stack's teardown fails the test when a daemon died without the test asking
for it, did not stop on SIGTERM, or wrote a sanitizer report.

Under SEMBARK_VALGRIND=1 (make test-valgrind) every sembark program runs
under valgrind (sembark.command); a test fails at teardown when any report
written during it shows an error or a definite leak. Tests marked
`no_valgrind` (timing or load) are skipped there.
"""

import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "integration"))
import sembark  # noqa: E402  (the harness lives beside the integration tests)

TEST_TIMEOUT = int(os.environ.get("SEMBARK_IT_TIMEOUT", "120" if not sembark.VALGRIND else "900"))


def pytest_configure(config):
    config.addinivalue_line("markers", "no_valgrind(reason): skipped under SEMBARK_VALGRIND=1 "
                            "(timing- or load-bound: valgrind runs code 20-50 times slower)")


def pytest_collection_modifyitems(config, items):
    if not sembark.VALGRIND:
        return
    for item in items:
        m = item.get_closest_marker("no_valgrind")
        if m is not None:
            reason = m.args[0] if m.args else m.kwargs.get("reason", "timing- or load-bound")
            item.add_marker(pytest.mark.skip(reason="under valgrind: " + reason))


class TestTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise TestTimeout("test ran longer than %d s (SEMBARK_IT_TIMEOUT)" % TEST_TIMEOUT)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TEST_TIMEOUT)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(node):
    for when in ("setup", "call"):
        rep = getattr(node, "rep_" + when, None)
        if rep is not None and rep.failed:
            return True
    return False


@pytest.fixture(scope="session")
def base_dir():
    d = sembark.make_base_dir()
    sembark.VALGRIND_LOG_DIR = d
    yield d
    if os.environ.get("SEMBARK_IT_KEEP") == "1":
        print("\nSEMBARK_IT_KEEP=1: kept %s" % d)
    else:
        sembark.remove_dir(d)


@pytest.fixture(autouse=True)
def valgrind_reports():
    """Under SEMBARK_VALGRIND=1: fail the test when a valgrind report written
    during it (a daemon's or a command's) shows an error or a definite leak.
    A module-scoped stack's daemons still running are checked when it stops."""
    first = len(sembark.VALGRIND_LOGS)
    yield
    logs = [p for p in sembark.VALGRIND_LOGS[first:] if p not in sembark.VALGRIND_REPORTED]
    problems = [p for p in map(sembark.valgrind_problem, logs) if p]
    if problems:
        pytest.fail("valgrind reports:\n" + "\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="session")
def sec(base_dir):
    return sembark.Secrets(base_dir)


@pytest.fixture(scope="session")
def pg(base_dir, sec):
    p = sembark.Pg(base_dir, sec.passwords["owner"])
    try:
        p.init()
        yield p
    finally:
        p.destroy()


@pytest.fixture(scope="session")
def migrated(pg, sec, base_dir):
    """Run `sembarkctl migrate` once for the session; returns the config used."""
    missing = sembark.missing_binaries()
    if missing:
        pytest.fail("not built (run make, or set SEMBARK_BUILD): %s" % ", ".join(missing))
    cfg = os.path.join(base_dir, "migrate.conf")
    with open(cfg, "w") as f:
        f.write(sembark.config_text(pg, sec, 1, os.path.join(base_dir, "run-migrate")))
    r = sembark.run_ctl(cfg, "migrate")
    if r.returncode != 0:
        pytest.fail("sembarkctl migrate exited %d\nstdout:\n%s\nstderr:\n%s" %
                    (r.returncode, r.stdout, r.stderr))
    return cfg


class _Stacks:
    def __init__(self, pg, sec, base_dir):
        self.pg, self.sec, self.base = pg, sec, base_dir
        self.stacks = []

    def __call__(self, config=None, env=None, daemon_env=None, start=True, **kw):
        s = sembark.Stack(self.pg, self.sec, self.base, config=config, env=env, daemon_env=daemon_env,
                          **kw)
        self.stacks.append(s)
        if start:
            s.start_all()
        return s

    def close(self, node):
        problems = []
        for s in self.stacks:
            if node is not None and _failed(node):
                print("\n" + s.stderr_tails(30))
            problems += s.close()
        self.stacks = []
        if problems:
            pytest.fail("daemon trouble seen at teardown:\n" + "\n\n".join(problems), pytrace=False)


@pytest.fixture
def make_stack(request, pg, sec, base_dir, migrated):
    st = _Stacks(pg, sec, base_dir)
    yield st
    st.close(request.node)


@pytest.fixture
def stack(make_stack):
    return make_stack()


@pytest.fixture(scope="module")
def shared_stack(request, pg, sec, base_dir, migrated):
    st = _Stacks(pg, sec, base_dir)
    s = st()
    yield s
    st.close(None)


@pytest.fixture(scope="module")
def make_shared_stack(request, pg, sec, base_dir, migrated):
    """make_stack's factory for stacks a whole module shares (a special
    config, a second ingress); stopped and checked after the module."""
    st = _Stacks(pg, sec, base_dir)
    yield st
    st.close(None)
