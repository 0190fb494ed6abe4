#!/usr/bin/env python3
"""Reads a stilt JUnit file the way the popular reporters' parsers do, for the integration tests.

    junit_check.py cases JUNIT.xml          print every test case as junitparser sees it (JSON)
    junit_check.py ant JUNIT.xml OUT.xml    write the Ant-schema view of the file (see below)
    junit_check.py xunit JUNIT.xml OUT.xml  write the Jenkins xUnit view (tests/ci/xunit-junit.xsd)

`cases` uses junitparser (the parser behind several report actions and scripts); the test
compares its view with stilt's JSON report, so the two never disagree.

`ant` writes the document the strict Ant XSD (tests/ci/JUnit.xsd, windyroad, Apache-2.0)
describes, so `xmllint --schema` can check everything that schema models: element order, at most
one result per case, `type` on every failure/error, decimal times, names and classnames. The XSD
predates the attributes today's consumers read and has no extension points, so the view changes
exactly this and nothing else:
  removed (consumer extensions the Ant XSD does not model, each read by a popular reporter):
    testsuites@name/tests/failures/errors/skipped/time/timestamp, testcase@file/@line/@timestamp,
    testcase <system-out>/<system-err> (GitLab attachments, EnricoMi)
  filled in when absent (Ant-only bookkeeping no consumer reads):
    testsuite@hostname (localhost), aggregated testsuite@package (= name) and @id (index),
    empty suite-level <system-out/> and <system-err/> (required by the XSD's sequence)
  normalised: testsuite@timestamp to the XSD's zone-less `YYYY-MM-DDTHH:MM:SS`
Each change is printed on stderr so a reader sees what the strict schema does not cover.

`xunit` removes only stilt's documented extension attributes (docs/reports.md), which the Jenkins
xUnit plugin's JUnit schema does not declare: testsuites@skipped/@timestamp (quick-junit's
totals) and testcase@file/@line/@timestamp (annotations, CircleCI timing, Jenkins' junit plugin).
It fails when anything else would have to change, so the rest of the raw file is what xUnit reads.
"""
import json
import re
import sys
import xml.etree.ElementTree as ET

CASE_EXTENSIONS = ("file", "line", "timestamp")


def cases(path: str) -> int:
    from junitparser import Error, Failure, JUnitXml, Skipped

    xml = JUnitXml.fromfile(path)
    suites = [xml] if xml._tag == "testsuite" else list(xml)
    out = []
    for suite in suites:
        for case in suite:
            result = "passed"
            kind = message = text = None
            for r in case.result:
                kind, message, text = r.type, r.message, r.text
                if isinstance(r, Failure):
                    result = "failure"
                elif isinstance(r, Error):
                    result = "error"
                elif isinstance(r, Skipped):
                    result = "skipped"
            out.append(
                {
                    "suite": suite.name,
                    "name": case.name,
                    "classname": case.classname,
                    "time": case.time,
                    "result": result,
                    "type": kind,
                    "message": message,
                    "text": text,
                    "file": case._elem.get("file"),
                    "line": case._elem.get("line"),
                    "system_out": case.system_out,
                }
            )
    json.dump(out, sys.stdout, indent=1)
    return 0


def ant(path: str, dest: str) -> int:
    tree = ET.parse(path)
    root = tree.getroot()
    changes = []
    if root.tag == "testsuites":
        for k in list(root.attrib):
            changes.append(f"testsuites@{k} removed")
            del root.attrib[k]
        suites = list(root)
    else:
        suites = [root]
    for i, suite in enumerate(suites):
        if root.tag == "testsuites":
            for k, v in (("package", suite.get("name", "")), ("id", str(i))):
                if k not in suite.attrib:
                    suite.set(k, v)
                    changes.append(f"testsuite@{k} filled in")
        if "hostname" not in suite.attrib:
            suite.set("hostname", "localhost")
            changes.append("testsuite@hostname filled in")
        ts = suite.get("timestamp")
        if ts is not None:
            m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", ts)
            if m and m.group(1) != ts:
                suite.set("timestamp", m.group(1))
                changes.append("testsuite@timestamp normalised")
        for case in suite.findall("testcase"):
            for k in CASE_EXTENSIONS:
                if k in case.attrib:
                    del case.attrib[k]
                    changes.append(f"testcase@{k} removed")
            for tag in ("system-out", "system-err"):
                for el in case.findall(tag):
                    case.remove(el)
                    changes.append(f"testcase <{tag}> removed")
        for tag in ("system-out", "system-err"):
            if suite.find(tag) is None:
                ET.SubElement(suite, tag)
                changes.append(f"testsuite <{tag}/> filled in")
    for c in sorted(set(changes)):
        print(f"ant view: {c}", file=sys.stderr)
    tree.write(dest, encoding="UTF-8", xml_declaration=True)
    return 0


XUNIT_EXTENSIONS = {"testsuites": ("skipped", "timestamp"), "testcase": CASE_EXTENSIONS}


def xunit(path: str, dest: str) -> int:
    tree = ET.parse(path)
    removed = set()
    for el in tree.iter():
        for k in XUNIT_EXTENSIONS.get(el.tag, ()):
            if k in el.attrib:
                del el.attrib[k]
                removed.add(f"{el.tag}@{k}")
    for r in sorted(removed):
        print(f"xunit view: {r} removed (a documented extension)", file=sys.stderr)
    tree.write(dest, encoding="UTF-8", xml_declaration=True)
    return 0


def main(argv: list) -> int:
    if len(argv) == 4 and argv[1] == "xunit":
        return xunit(argv[2], argv[3])
    if len(argv) == 3 and argv[1] == "cases":
        return cases(argv[2])
    if len(argv) == 4 and argv[1] == "ant":
        return ant(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
