"""Import OpenSLO v1 `SLO` documents (with inline or referenced `SLI`s) into our SLOSpecs.

    apiVersion: openslo/v1
    kind: SLO
    metadata: {name: api-availability, displayName: API availability}
    spec:
      service: api
      description: 99.9% of API requests succeed
      budgetingMethod: Occurrences
      timeWindow: [{duration: 28d, isRolling: true}]
      objectives: [{displayName: good, target: 0.999}]
      indicator:                       # or indicatorRef: <name of an SLI document in the file>
        metadata: {name: api-errors}
        spec:
          ratioMetric:
            counter: true
            bad:   {metricSource: {type: Prometheus, spec: {query: 'http_requests_total{code=~"5.."}'}}}
            total: {metricSource: {type: Prometheus, spec: {query: 'http_requests_total'}}}

Supported: `ratioMetric` (counter: true; `good` or `bad` with `total`) and `thresholdMetric` on a
histogram (query `<histogram>_bucket{...}`, objective `op: lt|lte` and `value` = the threshold,
which must be a bucket bound: declare the buckets in the SLO's annotation
`dtobs.dev/histogram-buckets: "0.005,0.01,0.05"` unless it is the contract histogram).
Queries are counter selectors, `sum(selector)`, or contain `{{window}}`. Rolling windows and
Occurrences budgeting only. Service, DataSource and alerting documents are accepted and ignored.
"""

from __future__ import annotations

import re
from typing import Literal

import yaml
from pydantic import Field, ValidationError

from dtobs.errors import Problem, SpecError, format_path
from dtobs.spec.base import StrictModel
from dtobs.spec.load import LoadedSpec, validation_problems
from dtobs.spec.slo import EventsSLI, LatencySLI, SLISpec, SLOSpec
from dtobs.spec.yaml_lines import LineMap, MappedLineMap, index_lines

BUCKETS_ANNOTATION = "dtobs.dev/histogram-buckets"
_IGNORED_KINDS = {"Service", "DataSource", "AlertPolicy", "AlertCondition", "AlertNotificationTarget"}
_SELECTOR = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^{}]*\})?\s*$")
_SUM = re.compile(r"^\s*sum\s*\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*\s*(\{[^{}]*\})?)\s*\)\s*$")
_WINDOW = re.compile(r"\{\{\s*\.?window\s*\}\}")


class Metadata(StrictModel):
    name: str
    displayName: str | None = None
    labels: dict[str, str | list[str]] = {}
    annotations: dict[str, str] = {}


class PromSource(StrictModel):
    query: str


class MetricSource(StrictModel):
    type: str
    metricSourceRef: str | None = None
    spec: PromSource


class MetricSourceHolder(StrictModel):
    metricSource: MetricSource


class RatioMetric(StrictModel):
    counter: bool = True
    good: MetricSourceHolder | None = None
    bad: MetricSourceHolder | None = None
    total: MetricSourceHolder


class SLIBody(StrictModel):
    description: str = ""
    ratioMetric: RatioMetric | None = None
    thresholdMetric: MetricSourceHolder | None = None


class InlineSLI(StrictModel):
    metadata: Metadata
    spec: SLIBody


class TimeWindow(StrictModel):
    duration: str
    isRolling: bool = True
    calendar: dict | None = None


class Objective(StrictModel):
    displayName: str | None = None
    op: Literal["lt", "lte", "gt", "gte"] | None = None
    value: float | None = None
    target: float | None = Field(None, gt=0, lt=1)
    targetPercent: float | None = Field(None, gt=0, lt=100)
    timeSliceTarget: float | None = None
    timeSliceWindow: str | None = None


class SLOBody(StrictModel):
    description: str = ""
    service: str
    indicator: InlineSLI | None = None
    indicatorRef: str | None = None
    timeWindow: list[TimeWindow] = Field(min_length=1, max_length=1)
    budgetingMethod: Literal["Occurrences", "Timeslices", "RatioTimeslices"]
    objectives: list[Objective] = Field(min_length=1)
    alertPolicies: list = []


class SLODoc(StrictModel):
    apiVersion: str
    kind: Literal["SLO"]
    metadata: Metadata
    spec: SLOBody


class SLIDoc(StrictModel):
    apiVersion: str
    kind: Literal["SLI"]
    metadata: Metadata
    spec: SLIBody


def _counter_query(query: str) -> str | None:
    """An OpenSLO counter query → our `{{window}}` form: increase() of the selector, summed."""
    if _WINDOW.search(query):
        return query
    m = _SELECTOR.match(query) or _SUM.match(query)
    if not m:
        return None
    selector = m.group(1) if _SUM.match(query) else query.strip()
    return f"sum(increase({selector}[{{{{window}}}}]))"


def load_documents(text: str, file: str) -> LoadedSpec:
    try:
        nodes = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        docs = list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise SpecError([Problem(file, mark.line + 1 if mark else None, "", f"invalid YAML: {exc.problem or exc}")]) from None
    lines: dict = {}
    for d, node in enumerate(nodes):
        if node is not None:
            lines.update(index_lines(node, (d,)))
    raw = LineMap(file, lines)
    problems: list[Problem] = []
    slis: dict[str, tuple[int, SLIDoc]] = {}
    slos: list[tuple[int, SLODoc]] = []
    for d, doc in enumerate(docs):
        if doc is None:
            continue
        kind = doc.get("kind") if isinstance(doc, dict) else None
        if not isinstance(doc, dict) or str(doc.get("apiVersion", "")).lower() != "openslo/v1":
            problems.append(Problem(file, raw.line((d,)), "apiVersion", "expected apiVersion: openslo/v1"))
            continue
        if kind in _IGNORED_KINDS:
            continue
        model = {"SLO": SLODoc, "SLI": SLIDoc}.get(kind)
        if model is None:
            problems.append(Problem(file, raw.line((d, "kind")), "kind", f"unsupported OpenSLO kind {kind!r}"))
            continue
        try:
            parsed = model.model_validate(doc)
        except ValidationError as exc:
            problems += [Problem(p.file, p.line, re.sub(r"^\[\d+\]\.?", "", p.field), p.message)
                         for p in validation_problems(exc, raw, (d,))]
            continue
        if kind == "SLI":
            slis[parsed.metadata.name] = (d, parsed)
        else:
            slos.append((d, parsed))
    if not slos and not problems:
        problems.append(Problem(file, 1, "kind", "no OpenSLO SLO document in the file"))

    out: list[SLOSpec] = []
    where: list[tuple] = []  # our SLO index → (document, objective index, SLI document, SLI path)

    def problem(path: tuple, message: str) -> None:
        problems.append(Problem(file, raw.line(path), format_path(_display(path)), message))

    for d, slo in slos:
        spec = slo.spec
        if spec.indicator is not None:
            sli, sli_at = spec.indicator.spec, (d, "spec", "indicator", "spec")
        elif spec.indicatorRef in slis:
            sd, doc = slis[spec.indicatorRef]
            sli, sli_at = doc.spec, (sd, "spec")
        else:
            problem((d, "spec", "indicatorRef"), f"no SLI named {spec.indicatorRef!r} in this file"
                    if spec.indicatorRef else "give indicator or indicatorRef")
            continue
        window = spec.timeWindow[0]
        if not window.isRolling or window.calendar:
            problem((d, "spec", "timeWindow", 0), "calendar windows are not supported: use isRolling: true")
            continue
        if spec.budgetingMethod != "Occurrences":
            problem((d, "spec", "budgetingMethod"), f"{spec.budgetingMethod} budgeting is not supported: use Occurrences")
            continue
        for o, obj in enumerate(spec.objectives):
            at = (d, "spec", "objectives", o)
            target = obj.targetPercent if obj.targetPercent is not None else (obj.target * 100 if obj.target else None)
            if target is None:
                problem(at, "give target (0–1) or targetPercent")
                continue
            name = slo.metadata.name if len(spec.objectives) == 1 else f"{slo.metadata.name}-{obj.displayName or o}"
            sli_spec = _sli(sli, sli_at, obj, at, slo.metadata, problem)
            if sli_spec is None:
                continue
            try:
                out.append(SLOSpec(name=name, service=spec.service, objective=round(target, 10),
                                   description=spec.description or sli.description,
                                   period=window.duration, sli=sli_spec))
                where.append((d, at, sli_at))
            except ValidationError as exc:
                for err in exc.errors():
                    field = err["loc"][0] if err["loc"] else ""
                    path = {"objective": at + ("target",), "period": (d, "spec", "timeWindow", 0, "duration"),
                            "name": (d, "metadata", "name"), "service": (d, "spec", "service")}.get(field, (d, "spec"))
                    problem(path, err["msg"])
    if problems:
        raise SpecError.of(problems)

    def translate(path: tuple) -> tuple:
        if len(path) < 2 or path[0] != "slos" or path[1] >= len(where):
            return path
        d, at, sli_at = where[path[1]]
        rest = tuple(path[2:])
        table = {("name",): (d, "metadata", "name"), ("service",): (d, "spec", "service"),
                 ("objective",): at + ("target",), ("period",): (d, "spec", "timeWindow", 0, "duration"),
                 ("scrape_interval",): (d, "spec"), ("labels",): (d, "metadata", "labels")}
        for key, target in table.items():
            if rest[:len(key)] == key:
                return target
        if rest[:2] == ("sli", "events"):
            part = {"error_query": "bad", "good_query": "good", "total_query": "total"}.get(rest[2] if len(rest) > 2 else "")
            return sli_at + ("ratioMetric",) + ((part, "metricSource", "spec", "query") if part else ())
        if rest[:2] == ("sli", "latency"):
            leaf = rest[2] if len(rest) > 2 else ""
            return at + ("value",) if leaf == "threshold" else (
                (d, "metadata", "annotations", BUCKETS_ANNOTATION) if leaf == "buckets"
                else sli_at + ("thresholdMetric", "metricSource", "spec", "query"))
        return (d, "spec")

    return LoadedSpec(file, "openslo/v1", out, MappedLineMap(file, lines, translate, _display))


def _display(path: tuple) -> tuple:
    """Drop the document index from a field path shown to the user: (1, 'spec', 'service') → spec.service."""
    return tuple(path[1:]) if path and isinstance(path[0], int) else path


def _sli(sli: SLIBody, sli_at: tuple, obj: Objective, obj_at: tuple, metadata: Metadata, problem) -> SLISpec | None:
    if sli.ratioMetric is not None:
        r = sli.ratioMetric
        if not r.counter:
            problem(sli_at + ("ratioMetric", "counter"), "only counter: true ratio metrics are supported "
                                                         "(a gauge ratio cannot be summed over windows)")
            return None
        if (r.good is None) == (r.bad is None):
            problem(sli_at + ("ratioMetric",), "give exactly one of good and bad, with total")
            return None
        queries = {}
        for part in ("good", "bad", "total"):
            holder = getattr(r, part)
            if holder is None:
                continue
            at = sli_at + ("ratioMetric", part, "metricSource")
            if holder.metricSource.type.lower() != "prometheus":
                problem(at + ("type",), f"only Prometheus metric sources are supported (got {holder.metricSource.type!r})")
                return None
            q = _counter_query(holder.metricSource.spec.query)
            if q is None:
                problem(at + ("spec", "query"), "a counter query must be a selector, sum(selector), or use {{window}}")
                return None
            queries[part] = q
        key = "error_query" if "bad" in queries else "good_query"
        return SLISpec(events=EventsSLI(**{key: queries.get("bad", queries.get("good")), "total_query": queries["total"]}))
    if sli.thresholdMetric is not None:
        src = sli.thresholdMetric.metricSource
        at = sli_at + ("thresholdMetric", "metricSource")
        if src.type.lower() != "prometheus":
            problem(at + ("type",), f"only Prometheus metric sources are supported (got {src.type!r})")
            return None
        m = _SELECTOR.match(src.spec.query)
        if not m or not m.group(1).endswith("_bucket"):
            problem(at + ("spec", "query"), "a threshold metric must select a histogram's buckets: <name>_bucket{...}")
            return None
        if obj.op not in ("lt", "lte") or obj.value is None:
            problem(obj_at + ("op",), "a latency objective needs op: lte (or lt) and value: the threshold")
            return None
        buckets = None
        if BUCKETS_ANNOTATION in metadata.annotations:
            try:
                buckets = [float(b) for b in metadata.annotations[BUCKETS_ANNOTATION].split(",")]
            except ValueError:
                problem(obj_at, f"annotation {BUCKETS_ANNOTATION} must be comma-separated numbers")
                return None
        return SLISpec(latency=LatencySLI(threshold=obj.value, metric=m.group(1)[: -len("_bucket")],
                                          selector=m.group(2) or None, buckets=buckets))
    problem(sli_at, "give ratioMetric or thresholdMetric")
    return None
