"""`make check-units` as part of the suite: every systemd unit verifies and
scores at most 2.5 on `systemd-analyze security`, and the gate fails when
a unit loses its hardening."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "scripts", "check-units.sh")


def run_check(env_extra=None):
    env = dict(os.environ)
    env["BUILD"] = os.environ.get("SEMBARK_BUILD", "build")
    env.update(env_extra or {})
    return subprocess.run(["bash", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def have_systemd_analyze():
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")


def test_units_pass_the_gate(have_systemd_analyze):
    r = run_check()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 failed" in r.stdout.splitlines()[-1]
    for unit in ("sembark-ingressd.service", "sembark-authd.service",
                 "sembark-telemetryd.service", "sembark-logd.service"):
        line = [l for l in r.stdout.splitlines() if l.startswith(unit)]
        assert line and line[0].split()[-1] == "pass", r.stdout


def test_gate_fails_on_a_weakened_unit(have_systemd_analyze, tmp_path):
    units = tmp_path / "systemd"
    shutil.copytree(os.path.join(ROOT, "systemd"), units)
    unit = units / "sembark-authd.service"
    text = unit.read_text()
    weakened = "\n".join(l for l in text.splitlines()
                         if not l.startswith(("Protect", "Private", "Restrict", "SystemCall",
                                              "CapabilityBoundingSet", "NoNewPrivileges")))
    unit.write_text(weakened + "\n")
    r = run_check({"UNIT_DIR": str(units)})
    assert r.returncode == 1, r.stdout + r.stderr
    line = [l for l in r.stdout.splitlines() if l.startswith("sembark-authd.service")]
    assert line and line[0].split()[-1] != "pass", r.stdout
