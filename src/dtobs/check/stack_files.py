"""Files no binary here can validate (Kibana, Grafana, Logstash, OpenSearch/Elasticsearch JSON):
parse every YAML/JSON file of the stack and lint logstash.conf's structure.

Logstash itself needs a JVM and the Logstash distribution, which the machine does not have, so
`logstash --config.test_and_exit` cannot run here; `lint_logstash` checks what it can: balanced
braces and quotes, the three sections, `key => value` settings, and that every gsub array has
field/pattern/replacement triples.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from dtobs.check import CheckResult

YAML_GLOBS = ("config/grafana/**/*.yml", "config/kibana/*.yml", "config/opensearch/*.yml",
              "config/opensearch/security/*.yml", "config/elasticsearch/*.yml")
JSON_GLOBS = ("config/elasticsearch/*.json", "config/opensearch/*.json")
LOGSTASH = "config/logstash/logstash.conf"
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|=>|[{}\[\],]|#[^\n]*|[^\s{}\[\],"\'#=]+|=', re.S)


def lint_logstash(text: str) -> list[str]:
    problems: list[str] = []
    depth, sections, stack = 0, [], []
    tokens = [t for t in _TOKEN.findall(text) if not t.startswith("#")]
    if text.count('"') % 2:
        problems.append("unbalanced double quotes")
    prev = None
    for i, tok in enumerate(tokens):
        if tok == "{":
            stack.append(prev)
            if len(stack) == 1:
                sections.append(prev)
        elif tok == "}":
            if not stack:
                problems.append("'}' without a matching '{'")
                break
            stack.pop()
        prev = tok
    if stack:
        problems.append(f"{len(stack)} unclosed '{{'")
    for required in ("input", "filter", "output"):
        if required not in sections:
            problems.append(f"no {required} {{ }} section")
    for extra in set(sections) - {"input", "filter", "output"}:
        problems.append(f"unknown top-level section {extra!r}")
    for match in re.finditer(r"gsub\s*=>\s*\[(.*?)\n\s*\]", text, re.S):
        items = re.findall(r'"(?:[^"\\]|\\.)*"', match.group(1))
        if len(items) % 3:
            problems.append(f"gsub has {len(items)} strings: expected field, pattern, replacement triples")
        for pattern in items[1::3]:
            try:
                re.compile(pattern[1:-1].replace(r"\x22", '"').replace(r"\x27", "'").replace("(?i)", ""))
            except re.error as exc:
                problems.append(f"gsub pattern {pattern[:40]}...: {exc}")
    return problems


def check(root: Path) -> list[CheckResult]:
    results = []
    bad = []
    count = 0
    parsers = [(pattern, yaml.safe_load) for pattern in YAML_GLOBS] + [(pattern, json.loads) for pattern in JSON_GLOBS]
    for pattern, parse in parsers:
        for path in sorted(root.glob(pattern)):
            count += 1
            try:
                parse(path.read_text())
            except (yaml.YAMLError, json.JSONDecodeError) as exc:
                bad.append(f"{path.relative_to(root)}: {exc}")
    results.append(CheckResult(f"parse {count} Grafana/Kibana/log-store YAML and JSON files", bool(count) and not bad,
                               "\n".join(bad) or ("" if count else "no files: run `make render`")))
    conf = root / LOGSTASH
    if conf.is_file():
        problems = lint_logstash(conf.read_text())
        results.append(CheckResult(f"logstash structural lint {LOGSTASH} (no Logstash binary here)",
                                   not problems, "\n".join(problems)))
    else:
        results.append(CheckResult(f"logstash structural lint {LOGSTASH}", False, f"{LOGSTASH} is missing"))
    return results
