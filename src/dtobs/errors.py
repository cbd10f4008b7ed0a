"""Errors as data: every problem names the file, line and field, and all are reported at once."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

# Exit codes of the CLI.
EXIT_OK = 0
EXIT_FAILED = 1  # e.g. a check or a gate that failed
EXIT_BAD_INPUT = 2  # the spec is invalid; nothing was written


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    field: str  # dotted path, e.g. "slos[2].objective"
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '<root>'}: {self.message}"


@dataclass
class SpecError(Exception):
    """Raised with every problem found in a spec; the CLI prints them and exits 2."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)

    @classmethod
    def of(cls, problems: Iterable[Problem]) -> "SpecError":
        return cls(sorted(problems, key=lambda p: (p.file, p.line or 0, p.field)))


def format_path(path: Iterable[str | int]) -> str:
    """('slos', 2, 'objective') -> 'slos[2].objective'."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out
