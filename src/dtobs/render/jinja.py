"""One Jinja environment for every template: StrictUndefined, no logic beyond loops over data."""

from __future__ import annotations

import json
from functools import lru_cache

import jinja2
import yaml


def _to_yaml(value, indent: int = 0) -> str:
    text = yaml.safe_dump(value, sort_keys=False, default_flow_style=False, width=1000, allow_unicode=True)
    pad = " " * indent
    return "\n".join(pad + line if line else line for line in text.rstrip("\n").splitlines())


@lru_cache(maxsize=1)
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dtobs", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["to_yaml"] = _to_yaml
    env.filters["to_json"] = lambda v: json.dumps(v)
    return env


def render_template(name: str, **context) -> str:
    return environment().get_template(name).render(**context)
