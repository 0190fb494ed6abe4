#!/usr/bin/env python3
"""Copies ci-templates/install.sh verbatim into the CircleCI orb's install script, the GitLab
template and the GitLab CI/CD component (templates/stilt.yml).

In each target the script lives in a YAML block scalar (`command: |`, `- |`) whose first line is
`#!/bin/sh`; that block is replaced up to where the indentation drops. Run after editing
install.sh (tests/integration/ci_action.rs fails until the copies match). `--check` only reports.
"""
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent
TARGETS = [ROOT / "gitlab" / "stilt.gitlab-ci.yml", ROOT.parent / "templates" / "stilt.yml"]


def embed(text: str, script: str) -> str:
    lines = text.split("\n")
    out, i, found = [], 0, 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == "#!/bin/sh" and out and out[-1].rstrip().endswith("|"):
            indent = line[: len(line) - len(line.lstrip())]
            i += 1
            blanks = 0
            while i < len(lines) and (lines[i].strip() == "" or lines[i].startswith(indent)):
                blanks = blanks + 1 if lines[i].strip() == "" else 0
                i += 1
            out.extend(indent + s if s else "" for s in script.rstrip("\n").split("\n"))
            out.extend([""] * blanks)
            found += 1
            continue
        out.append(line)
        i += 1
    if found != 1:
        raise SystemExit(f"expected one embedded install.sh block, found {found}")
    return "\n".join(out)


def main() -> int:
    script = (ROOT / "install.sh").read_text()
    stale = []
    for t in TARGETS:
        old = t.read_text()
        new = embed(old, script)
        if new != old:
            stale.append(t)
            if "--check" not in sys.argv:
                t.write_text(new)
    for t in stale:
        print(("stale: " if "--check" in sys.argv else "updated: ") + str(t.relative_to(ROOT.parent)))
    return 1 if stale and "--check" in sys.argv else 0


if __name__ == "__main__":
    sys.exit(main())
