"""config_schema.py - the configuration schema as the code declares it.

Shared by scripts/config-reference.py (docs/configuration.md) and
scripts/man-pages.py (sembark.conf(5) and the programs' pages): the schema
table in shared/config.c (key, type, range, default), the comments on the
fields of struct sembark_config in shared/config.h (what the key means), the
tools' own variables (config.c's tool_variables[]), and the rules of the file
and of the SEMBARK_* environment, as paragraphs whose `code` spans each
renderer formats its own way.
"""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read(rel):
    with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
        return f.read()


def field_comments():
    """{(section, key): comment} from struct sembark_config in config.h."""
    h = read("shared/config.h")
    body = h[h.index("struct sembark_config {"):]
    body = body[:body.index("\n};")]
    out, section, pending = {}, None, []
    for line in body.splitlines():
        if re.match(r"\s*struct \{", line):
            section, pending = "?", []
            continue
        m = re.match(r"\s*\} (\w+);", line)
        if m:
            for key, text in pending:
                out[(m.group(1), key)] = text
            section = None
            continue
        m = re.match(r"\s*(?:char|int|bool) (\w+)(?:\[[^\]]*\])?;\s*(?:/\*(.*?)\*/)?", line)
        if m and section:
            pending.append((m.group(1), (m.group(2) or "").strip()))
    return out


def schema():
    """[(section, key, type, allowed, default)] from config.c's table."""
    c = read("shared/config.c")
    enums = {}
    for m in re.finditer(r"static const char \*const (\w+)\[\] = \{([^}]*)\}", c):
        enums[m.group(1)] = [v for v in re.findall(r'"([^"]*)"', m.group(2))]
    rows = []
    for m in re.finditer(r"\bK_(STR|CHK|INT|BOOL|ENUM)\((\w+), (\w+), ([^\n]*)\),\n", c):
        kind, sec, key, rest = m.groups()
        if kind == "INT":
            lo, hi, d = [x.strip() for x in rest.split(",")[:3]]
            rows.append((sec, key, "integer", "%s to %s" % (lo, hi), d))
        elif kind == "BOOL":
            rows.append((sec, key, "boolean", "true/false", rest.strip()))
        elif kind == "ENUM":
            lst, d = [x.strip() for x in rest.split(",", 1)]
            rows.append((sec, key, "one of", ", ".join(enums.get(lst, [lst])), d.strip('"')))
        else:
            d = re.match(r'"([^"]*)"', rest.strip()).group(1)
            rows.append((sec, key, "string", "", d))
    return rows


def default_path():
    """CONFIG_DEFAULT_PATH of shared/config.h."""
    return re.search(r'#define CONFIG_DEFAULT_PATH "([^"]+)"', read("shared/config.h")).group(1)


def tool_variables():
    """[(name, comment)] of config.c's tool_variables[], in its order."""
    c = read("shared/config.c")
    body = re.search(r"tool_variables\[\] = \{(.*?)\n\};", c, re.S).group(1)
    return re.findall(r'"(SEMBARK_\w+)",\s*/\* (.*?) \*/', body)


def secret_rule():
    """What keys ending in _file are, `code` marked."""
    return ("Keys ending in `_file` name files holding secrets (mode 0600); under systemd the "
            "credential of the same purpose in `$CREDENTIALS_DIRECTORY` wins.")


def file_rules():
    """The rules of the file and the environment, `code` marked; tool_variables() and
    secret_rule() follow it."""
    return (
        "One INI file, `--config PATH` on every program (default `$SEMBARK_CONFIG`, then "
        "`%s`). Every key can be overridden by the environment variable "
        "`SEMBARK_<SECTION>_<KEY>` (upper case). An unknown section or key (in the file, or a "
        "variable such as `SEMBARK_AUTH_SESION_LIFETIME` whose name starts with a section), a key "
        "given twice, or a value outside what is allowed stops the program at start with a "
        "message naming the key, and the nearest valid one when one is close (\"did you mean "
        "SEMBARK_AUTH_SESSION_LIFETIME?\"). A `SEMBARK_` variable that names no section "
        "(`SEMBARK_URL`, say, set for a client script) is not a setting: the program starts and "
        "warns once about it (sembarkctl on stderr, a daemon in its log). The tools' own "
        "variables pass silently:" % default_path())
