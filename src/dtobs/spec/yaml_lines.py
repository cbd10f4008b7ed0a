"""Load YAML while remembering the line of every key and item, so errors can point at them."""

from __future__ import annotations

from typing import Any

import yaml

from dtobs.errors import Problem, SpecError

Path = tuple[str | int, ...]


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml: 10× faster on big specs
    """SafeLoader that refuses duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first at line {seen[key] + 1})", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _index_lines(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = path + (key_node.value,)
            _index_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1  # point at the key, not the value
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_lines(item, path + (i,), lines)


class LineMap:
    """Maps a field path to its line; falls back to the closest enclosing field."""

    def __init__(self, file: str, lines: dict[Path, int]):
        self.file = file
        self._lines = lines

    def line(self, path: Path) -> int | None:
        path = tuple(path)
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return self._lines.get((), None)

    def problem(self, path: Path, message: str) -> Problem:
        from dtobs.errors import format_path

        return Problem(self.file, self.line(path), format_path(path), message)


def load_yaml(text: str, file: str) -> tuple[Any, LineMap]:
    """Parse YAML text; raise SpecError naming file and line on a syntax error."""
    try:
        node = yaml.compose(text, Loader=_UniqueKeyLoader)
        data = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise SpecError([Problem(file, line, "", f"invalid YAML: {exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(file, None, "", f"invalid YAML: {exc}")]) from None
    lines: dict[Path, int] = {}
    if node is not None:
        _index_lines(node, (), lines)
    return data, LineMap(file, lines)


class MappedLineMap(LineMap):
    """A LineMap for imported specs: our field paths are translated to the original file's.

    `translate(("slos", 0, "objective"))` returns the path in the original document (for a
    multi-document file, prefixed by the document index, which `display` strips from messages).
    """

    def __init__(self, file: str, lines: dict[Path, int], translate, display=lambda path: path):
        super().__init__(file, lines)
        self._translate = translate
        self._display = display

    def line(self, path: Path) -> int | None:
        return LineMap.line(self, self._translate(tuple(path)))

    def problem(self, path: Path, message: str) -> Problem:
        from dtobs.errors import format_path

        original = self._translate(tuple(path))
        return Problem(self.file, LineMap.line(self, original), format_path(self._display(original)), message)


def index_lines(node: yaml.Node, prefix: Path = ()) -> dict[Path, int]:
    """Line of every key and item under a composed node (for multi-document loaders)."""
    lines: dict[Path, int] = {}
    _index_lines(node, prefix, lines)
    return lines
