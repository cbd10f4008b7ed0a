"""Load a spec file: detect its format, parse YAML with line numbers, validate the schema.

Formats, detected from the file itself:
  version: dtobs/v1                      our own spec (stack + SLOs + gate policy)
  version: prometheus/v1                 a Sloth spec (SLOs only)
  apiVersion: openslo/v1, kind: SLO      an OpenSLO SLO (SLOs only; several documents allowed)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from dtobs.errors import Problem, SpecError
from dtobs.spec.yaml_lines import LineMap, load_yaml

SpecFormat = Literal["dtobs/v1", "sloth/prometheus/v1", "openslo/v1"]


@dataclass(frozen=True)
class LoadedSpec:
    path: str
    format: SpecFormat
    spec: Any  # SpecV1 for dtobs/v1; the importer's own schema object otherwise
    lines: LineMap


def detect_format(data: Any, file: str) -> SpecFormat:
    if isinstance(data, dict):
        if data.get("version") == "dtobs/v1":
            return "dtobs/v1"
        if data.get("version") == "prometheus/v1":
            return "sloth/prometheus/v1"
        if str(data.get("apiVersion", "")).lower() == "openslo/v1":
            return "openslo/v1"
        if "version" in data:
            raise SpecError([Problem(file, None, "version",
                                     f"unsupported version {data['version']!r}: expected 'dtobs/v1' "
                                     "(or a Sloth 'prometheus/v1' spec, or an OpenSLO 'openslo/v1' SLO)")])
    raise SpecError([Problem(file, 1, "version",
                             "cannot tell the spec format: expected 'version: dtobs/v1', a Sloth "
                             "'version: prometheus/v1' spec or an OpenSLO 'apiVersion: openslo/v1' SLO")])


def validation_problems(exc: ValidationError, lines: LineMap, prefix: tuple = ()) -> list[Problem]:
    """pydantic errors → Problems that name file, line and field."""
    problems = []
    for err in exc.errors():
        # pydantic puts union/validator names into loc; keep only real field path parts.
        path = prefix + tuple(p for p in err["loc"] if isinstance(p, int) or not str(p).startswith(("function-", "tagged-union")))
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = "unknown key"
        elif err["type"] == "missing":
            message = "required field is missing"
        elif "input" in err and err["type"] not in ("value_error", "assertion_error"):
            message = f"{message} (got {err['input']!r})"
        problems.append(lines.problem(path, message))
    return problems


def _document_count(text: str) -> int:
    import yaml

    try:
        return sum(1 for _ in yaml.compose_all(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError:
        return 1  # let the single-document loader report the syntax error with its line


def load_spec(path: str | Path) -> LoadedSpec:
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([Problem(file, None, "", f"cannot read spec: {exc.strerror}")]) from None
    if _document_count(text) > 1:  # only OpenSLO files come as several YAML documents
        from dtobs.spec import openslo

        return openslo.load_documents(text, file)
    data, lines = load_yaml(text, file)
    fmt = detect_format(data, file)
    if fmt == "dtobs/v1":
        from dtobs.spec.v1 import SpecV1

        try:
            spec = SpecV1.model_validate(data)
        except ValidationError as exc:
            raise SpecError.of(validation_problems(exc, lines)) from None
        return LoadedSpec(file, fmt, spec, lines)
    if fmt == "sloth/prometheus/v1":
        from dtobs.spec import sloth

        return sloth.load(data, lines, file)
    from dtobs.spec import openslo

    return openslo.load_documents(text, file)
