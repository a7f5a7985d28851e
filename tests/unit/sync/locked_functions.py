#!/usr/bin/env python3
"""Every function named *_locked starts by checking its lock.

The convention (docs/design-notes.md, "Lock order"): a function whose
name ends in _locked runs with a lock held, and its first statement is
lock_assert_held() on that lock, which debug builds check. This test
keeps the convention from eroding: a new _locked function without the
assertion fails it. Usage: locked_functions.py SOURCE_DIR
"""
import pathlib
import re
import sys

DEFINITION = re.compile(
    r"^(?:static\s+)?(?:[\w\s\*]+?)\b(\w+_locked)\s*\(([^;{]*?)\)\s*\{",
    re.M | re.S)


def main():
    src = pathlib.Path(sys.argv[1]) / "src"
    checked, missing = 0, []
    for path in sorted(src.rglob("*.c")):
        text = path.read_text()
        for m in DEFINITION.finditer(text):
            body = text[m.end():].lstrip()
            checked += 1
            if not body.startswith("lock_assert_held("):
                line = text.count("\n", 0, m.start()) + 1
                missing.append("%s:%d: %s" % (path.relative_to(src.parent),
                                              line, m.group(1)))
    for m in missing:
        print("no lock_assert_held() first: " + m)
    print("%d _locked functions, %d without the assertion" %
          (checked, len(missing)))
    # the scan itself must have found the functions it is about
    if checked < 50:
        print("too few _locked functions found: the pattern is broken")
        return 1
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
