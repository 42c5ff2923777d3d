#!/usr/bin/env python3
"""man-pages.py - write the roff man pages of sembark into docs/man/.

One source for each part of a page, nothing written twice:
  - the configuration keys, their types, ranges, defaults and meanings, and
    the rules of the file and of SEMBARK_* variables: scripts/config_schema.py
    (which docs/configuration.md is made from as well) -> sembark.conf(5)
    and every page's ENVIRONMENT;
  - SYNOPSIS, OPTIONS (and sembarkctl's COMMANDS): the programs' own
    `--help`, run from BIN (default build/bin), so they cannot drift;
  - the prose (NAME's summary, DESCRIPTION, FILES, SIGNALS, EXIT STATUS):
    docs/man/src/<page>.txt, the daemons' shared parts in
    docs/man/src/daemon.common.

Source format: "summary: one line" first; "== SECTION" starts a section;
paragraphs are separated by blank lines; a paragraph whose first line is
only `code` spans (and commas) is a tagged paragraph (.TP); `x` is bold.

tests/integration/test_docs.py checks that the committed pages equal this
output and that man(1) and lexgrog(1) read them without a warning. After a
change to a key, an option or a text, run
    make man          (or: make, then python3 scripts/man-pages.py)
"""
import argparse
import os
import re
import subprocess
import sys

from config_schema import (ROOT, field_comments, file_rules, read, schema, secret_rule,
                           tool_variables)

DAEMONS = ("sembark-ingressd", "sembark-authd", "sembark-telemetryd", "sembark-logd",
           "sembark-maild")
PROGRAMS = DAEMONS + ("sembarkctl",)
CONF = "sembark.conf"
SRC = os.path.join("docs", "man", "src")


# ---- roff -----------------------------------------------------------------------------------

def escape(text):
    """Plain text as roff text: backslashes, and dashes as minus signs in options."""
    return text.replace("\\", "\\e")


def code(text):
    return "\\fB%s\\fR" % escape(text).replace("-", "\\-")


def inline(text):
    """Prose with `code` spans; a roff line must not start with a control character."""
    parts = re.split(r"`([^`]*)`", text)
    out = "".join(code(p) if i % 2 else escape(p) for i, p in enumerate(parts))
    return "\\&" + out if out[:1] in (".", "'") else out


def section(name):
    return ['.SH "%s"' % name]


def paragraph(text):
    return [".PP", inline(text)]


def tagged(tag, text):
    return [".TP", inline(tag), inline(text)]


# ---- the prose sources ----------------------------------------------------------------------

def parse_source(rel):
    """({'summary': ...}, [(SECTION, [paragraph lines...]), ...]) of a source file."""
    meta, sections, current = {}, [], None
    for block in re.split(r"\n\s*\n", read(rel).strip()):
        lines = block.splitlines()
        while lines:
            m = re.match(r"(\w+): (.*)$", lines[0])
            if current is None and m:
                meta[m.group(1)] = m.group(2)
                lines.pop(0)
                continue
            m = re.match(r"== (.+)$", lines[0])
            if m:
                current = (m.group(1), [])
                sections.append(current)
                lines.pop(0)
                continue
            break
        if lines:
            current[1].append(lines)
    return meta, sections


def render_paragraphs(paragraphs):
    out = []
    for lines in paragraphs:
        if len(lines) > 1 and re.fullmatch(r"`[^`]+`(, `[^`]+`)*", lines[0]):
            out += tagged(lines[0], " ".join(lines[1:]))
        else:
            out += paragraph(" ".join(lines))
    return out


def merged_sections(*sources):
    """{SECTION: [paragraphs]} of several sources, in order, later ones appended."""
    merged = {}
    for _, sections in sources:
        for name, paragraphs in sections:
            merged.setdefault(name, []).extend(paragraphs)
    return merged


# ---- --help ---------------------------------------------------------------------------------

def help_text(bin_dir, program):
    r = subprocess.run([os.path.join(bin_dir, program), "--help"], check=True,
                       capture_output=True, text=True, timeout=10,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    return r.stdout


def parse_help(text):
    """(usage, [(option, argument, text)], [(command, args, text)], [trailing paragraph])."""
    usage = re.search(r"^Usage: (.*)$", text, re.M).group(1)
    options, commands, trailing, part = [], [], [], None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if line in ("Commands:", "Options:"):
            part = line
            continue
        m = re.match(r"\s+(?:(-\w), )?(--[\w-]+)(?: ([A-Z]+))?\s{2,}(.*)$", line)
        if m:
            names = ", ".join(n for n in (m.group(1), m.group(2)) if n)
            options.append((names, m.group(3), m.group(4)))
            continue
        if part == "Commands:" and re.match(r"  \S", line) and i < len(lines) \
                and lines[i].startswith("      "):
            name, _, args = line.strip().partition(" ")
            text = []
            while i < len(lines) and lines[i].startswith("      "):
                text.append(lines[i].strip())
                i += 1
            commands.append((name, args, " ".join(text)))
            continue
        if part == "Options:" and line and not line.startswith(" "):
            trailing.append(line)
    return usage, options, commands, trailing


def capital(text):
    return text[:1].upper() + text[1:]


def render_options(options):
    out = []
    for names, arg, text in options:
        tag = "\\fB%s\\fR" % names.replace("-", "\\-")
        if arg:
            tag += " \\fI%s\\fR" % arg
        out += [".TP", tag, inline(capital(text))]
    return out


def render_commands(commands):
    out = []
    for name, args, text in commands:
        words = re.sub(r"(--[\w-]+)", lambda m: m.group(1).replace("-", "\\-"), escape(args))
        out += [".TP", ("\\fB%s\\fR %s" % (name, words)).rstrip(), inline(capital(text))]
    return out


def render_synopsis(usage):
    prog, _, rest = usage.partition(" ")
    rest = re.sub(r"(--[\w-]+)", lambda m: "\\fB%s\\fR" % m.group(1).replace("-", "\\-"),
                  escape(rest))
    rest = re.sub(r"\b([A-Z]{2,})\b", r"\\fI\1\\fR", rest)
    return [".SY %s" % prog, rest, ".YS"]


# ---- the pages ------------------------------------------------------------------------------

def version():
    return read("VERSION").strip()


def header(name, sect, summary):
    return ['.\\" Generated by scripts/man-pages.py; do not edit by hand.',
            '.TH "%s" "%s" "" "sembark %s" "sembark"' % (name.upper(), sect, version()),
            ".nh", '.\\" no hyphenation: keys, paths and variables stay whole',
            '.SH "NAME"', "%s \\- %s" % (name.replace("-", "\\-"), escape(summary))]


def rules():
    """file_rules(), the tools' variables as a tagged list, secret_rule()."""
    out = paragraph(file_rules())
    for name, why in tool_variables():
        out += tagged("`%s`" % name, why)
    return out + paragraph(secret_rule())


def environment():
    return section("ENVIRONMENT") + rules() + paragraph(
        "See sembark.conf(5) for every section and key.")


def see_also(name):
    pages = ["%s(8)" % p for p in PROGRAMS if p != name]
    if name != CONF:
        pages.insert(0, "%s(5)" % CONF)
    refs = ["\\fB%s\\fR(%s)" % (p[:-3].replace("-", "\\-"), p[-2]) for p in pages]
    refs += ["\\fBsystemd.service\\fR(5)", "\\fBpostgres\\fR(1)"]
    return section("SEE ALSO") + [",\n".join(refs)]


def program_page(bin_dir, name):
    usage, options, commands, trailing = parse_help(help_text(bin_dir, name))
    own = parse_source(os.path.join(SRC, name + ".txt"))
    sources = [own] if name == "sembarkctl" else [own, parse_source(os.path.join(SRC,
                                                                                "daemon.common"))]
    prose = merged_sections(*sources)
    out = header(name, 8, own[0]["summary"])
    out += section("SYNOPSIS") + render_synopsis(usage)
    out += section("DESCRIPTION") + render_paragraphs(prose.pop("DESCRIPTION"))
    if commands:
        out += section("COMMANDS") + render_commands(commands)
        if trailing:
            out += paragraph(" ".join(trailing))
    out += section("OPTIONS") + render_options(options)
    out += section("FILES") + render_paragraphs(prose.pop("FILES"))
    out += environment() + render_paragraphs(prose.pop("ENVIRONMENT", []))
    for part in ("SIGNALS", "EXIT STATUS"):
        out += section(part) + render_paragraphs(prose.pop(part))
    assert not prose, "sections of %s the generator does not place: %s" % (name, list(prose))
    return out + see_also(name)


def conf_page():
    meta, sections = parse_source(os.path.join(SRC, CONF + ".txt"))
    prose = merged_sections((meta, sections))
    notes = field_comments()
    out = header(CONF, 5, meta["summary"])
    out += section("SYNOPSIS") + [code("/etc/sembark/sembark.conf")]
    out += section("DESCRIPTION") + rules()
    out += render_paragraphs(prose.pop("SYNTAX"))
    out += section("SECTIONS AND KEYS")
    current = None
    for sec, key, typ, allowed, default in schema():
        if sec != current:
            current = sec
            out += ['.SS "[%s]"' % sec]
        kind = typ if not allowed else ("%s, %s" % (typ, allowed))
        shown = "`%s`" % default if default != "" else "empty"
        out += tagged("`%s`" % key, notes.get((sec, key), "").strip())
        out += [".br", inline("%s; default %s." % (capital(kind), shown))]
    common = merged_sections(parse_source(os.path.join(SRC, "daemon.common")))
    out += section("FILES") + render_paragraphs(common["FILES"])
    out += section("ENVIRONMENT") + paragraph(
        "`SEMBARK_CONFIG` names the file; `SEMBARK_<SECTION>_<KEY>` overrides one key "
        "(see DESCRIPTION).")
    out += section("EXAMPLE") + paragraph(
        "A commented sample for a host that runs sembark under systemd is "
        "`systemd/sembark.conf.example` in the source tree.")
    assert not prose
    return out + see_also(CONF)


def pages(bin_dir):
    """{file name: text} of every page."""
    out = {"%s.8" % p: program_page(bin_dir, p) for p in PROGRAMS}
    out["%s.5" % CONF] = conf_page()
    return {k: "\n".join(v) + "\n" for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, os.environ.get("SEMBARK_BUILD", "build"),
                                                  "bin"), help="where the built programs are")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "man"),
                    help="directory to write the pages into")
    args = ap.parse_args()
    for name, text in pages(args.bin).items():
        with open(os.path.join(args.out, name), "w", encoding="utf-8") as f:
            f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
