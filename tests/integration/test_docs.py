"""The configuration reference is generated from the code and must match it."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_configuration_reference_is_current():
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "config-reference.py")],
                         check=True, capture_output=True, text=True).stdout
    with open(os.path.join(ROOT, "docs", "configuration.md"), encoding="utf-8") as f:
        committed = f.read()
    assert committed == out, ("docs/configuration.md is stale: run "
                              "python3 scripts/config-reference.py > docs/configuration.md")


def test_configuration_reference_names_every_key():
    """Every key the daemons accept appears once in the reference."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "config-reference.py")],
                         check=True, capture_output=True, text=True).stdout
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    assert len(rows) >= 50
    assert all(row.count("|") == 6 for row in rows)
    assert all(row.split("|")[5].strip() for row in rows), "a key without a description"
