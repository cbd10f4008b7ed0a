"""Regenerate the SLO golden outputs: `.venv/bin/python tests/golden/slo/regen.py`.

Each case folder holds in.yaml (a dtobs/v1, Sloth or OpenSLO spec) and out/, the SLO engine's
files rendered from it (rules, promtool tests, Alertmanager config). The same files are the
living examples of what each input format produces.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from dtobs.pipeline import render_spec

HERE = Path(__file__).parent
SLO_OUTPUTS = ("config/rules/slo-", "config/tests/slo-", "config/alertmanager.yml")


def slo_files(spec: Path) -> dict[str, str]:
    rendered = render_spec(spec).files
    return {path: text for path, text in rendered.items() if path.startswith(SLO_OUTPUTS)}


def cases() -> list[Path]:
    return sorted(p for p in HERE.iterdir() if (p / "in.yaml").is_file())


def main() -> None:
    for case in cases():
        out = case / "out"
        shutil.rmtree(out, ignore_errors=True)
        for rel, text in slo_files(case / "in.yaml").items():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_text(text, encoding="utf-8")
        print(f"{case.name}: {len(list(out.rglob('*.yml')))} files")


if __name__ == "__main__":
    main()
