"""The configuration reference and the man pages are generated from the code and must
match it."""
import os
import re
import subprocess
import sys

import pytest

import sembark

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


# ---- man pages (docs/man/, scripts/man-pages.py) ---------------------------------------------

MAN_DIR = os.path.join(ROOT, "docs", "man")
PAGES = ("sembark-ingressd.8", "sembark-authd.8", "sembark-telemetryd.8", "sembark-logd.8",
         "sembark-maild.8",
         "sembarkctl.8", "sembark.conf.5")


def _generate_man(tmp_path):
    """Run the generator against the built programs into tmp_path."""
    missing = sembark.missing_binaries()
    if missing:
        pytest.fail("not built (run make, or set SEMBARK_BUILD): %s" % ", ".join(missing))
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "man-pages.py"),
                    "--bin", sembark.BIN_DIR, "--out", str(tmp_path)],
                   check=True, capture_output=True, text=True, timeout=60)
    return sorted(os.listdir(tmp_path))


def test_man_pages_are_current(tmp_path):
    """docs/man/ holds exactly what the generator makes from the code, --help and src/."""
    assert _generate_man(tmp_path) == sorted(PAGES)
    committed = sorted(f for f in os.listdir(MAN_DIR) if f != "src")
    assert committed == sorted(PAGES), committed
    for page in PAGES:
        with open(os.path.join(MAN_DIR, page), encoding="utf-8") as f:
            old = f.read()
        assert old == (tmp_path / page).read_text(encoding="utf-8"), (
            "docs/man/%s is stale: run make, then python3 scripts/man-pages.py" % page)


@pytest.mark.parametrize("page", PAGES)
def test_man_page_reads_without_warnings(page):
    """man(1) formats the page with every groff warning on and says nothing; lexgrog
    finds its NAME line (what mandb and apropos index)."""
    path = os.path.join(MAN_DIR, page)
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "--warnings", "-l", path], capture_output=True, text=True,
                       env=env, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and r.stderr == "", (page, r.returncode, r.stderr)
    for heading in ("NAME", "SYNOPSIS", "DESCRIPTION", "FILES", "ENVIRONMENT", "SEE ALSO"):
        assert "\n%s\n" % heading in r.stdout, (page, heading)
    name = page.rsplit(".", 1)[0]
    r = subprocess.run(["lexgrog", path], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, (page, r.stdout, r.stderr)
    assert '"%s - ' % name in r.stdout, r.stdout


@pytest.mark.parametrize("page", [p for p in PAGES if p.endswith(".8")])
def test_program_page_has_every_option(page):
    """OPTIONS comes from the program's own --help: each of its long options is there."""
    prog = page[:-2]
    text = subprocess.run([os.path.join(sembark.BIN_DIR, prog), "--help"], check=True,
                          capture_output=True, text=True, timeout=10).stdout
    with open(os.path.join(MAN_DIR, page), encoding="utf-8") as f:
        roff = f.read()
    options = set(re.findall(r"^\s+(?:-\w, )?--([\w-]+)", text, re.M))
    assert {"config", "help", "version"} <= options, text
    for opt in options:
        assert "\\fB\\-\\-%s\\fR" % opt.replace("-", "\\-") in roff or \
            ", \\-\\-%s\\fR" % opt.replace("-", "\\-") in roff, (page, opt)
    for section in ("OPTIONS", "SIGNALS", "EXIT STATUS"):
        assert '.SH "%s"' % section in roff, (page, section)


def test_ctl_page_has_every_command():
    """sembarkctl(8)'s COMMANDS is its --help: every command with its whole description,
    descriptions over several lines included."""
    text = subprocess.run([os.path.join(sembark.BIN_DIR, "sembarkctl"), "--help"], check=True,
                          capture_output=True, text=True, timeout=10).stdout
    with open(os.path.join(MAN_DIR, "sembarkctl.8"), encoding="utf-8") as f:
        plain = re.sub(r"\\f[BIR]", "", f.read()).replace("\\-", "-").replace("\\e", "\\")
    commands = re.findall(r"^  (\w+)[^\n]*\n((?:      \S[^\n]*\n)+)", text, re.M)
    assert len(commands) >= 8, text
    for name, desc in commands:
        desc = " ".join(desc.split())
        assert "\n%s" % name in plain, name
        assert desc[:1].upper() + desc[1:] in plain, (name, desc)


def test_conf_page_has_every_key():
    """sembark.conf(5) has every section and key of the reference, each with its default."""
    out = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "config-reference.py")],
                         check=True, capture_output=True, text=True).stdout
    with open(os.path.join(MAN_DIR, "sembark.conf.5"), encoding="utf-8") as f:
        roff = f.read()
    section = None
    for line in out.splitlines():
        m = re.match(r"## \[(\w+)\]", line)
        if m:
            section = m.group(1)
            assert '.SS "[%s]"' % section in roff, section
            continue
        m = re.match(r"\| `(\w+)` \|", line)
        if m:
            assert ".TP\n\\fB%s\\fR\n" % m.group(1).replace("-", "\\-") in roff, \
                (section, m.group(1))
