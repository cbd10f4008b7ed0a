"""The pipeline: load spec → validate → build model → render → (check) → write.

Each stage is a plain function with plain data in and out; the CLI only parses arguments and
calls these.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dtobs.model import Model, build_model
from dtobs.render import render_all
from dtobs.spec.load import load_spec
from dtobs.write import drift, stamp, write_tree

DEFAULT_SPEC = "observability.yaml"


@dataclass(frozen=True)
class Rendered:
    model: Model
    files: dict[str, str]  # relative path → text, headers stamped


def render_spec(spec_path: str | Path) -> Rendered:
    """Load, validate, build and render; raises SpecError with every problem, writes nothing."""
    model = build_model(load_spec(spec_path))
    return Rendered(model, stamp(render_all(model), model.source))


def render_to(spec_path: str | Path, out_dir: str | Path) -> Rendered:
    rendered = render_spec(spec_path)
    write_tree(rendered.files, out_dir)
    return rendered


def drift_of(spec_path: str | Path, out_dir: str | Path) -> list[str]:
    """What differs between the committed output in out_dir and a fresh render."""
    return drift(render_spec(spec_path).files, out_dir)
