"""yaml_lines: YAML parsed with the line of every key, duplicate keys refused."""

import pytest

from dtobs.errors import SpecError
from dtobs.spec.yaml_lines import load_yaml

TEXT = """\
version: dtobs/v1
slos:
  - name: a
    objective: 99.9
  - name: b
    sli:
      events:
        total_query: x
"""


class TestLoadYaml:
    def test_lines_point_at_keys_and_items(self):
        data, lines = load_yaml(TEXT, "spec.yaml")
        assert data["slos"][1]["name"] == "b"
        assert lines.line(("slos", 0, "objective")) == 4
        assert lines.line(("slos", 1)) == 5
        assert lines.line(("slos", 1, "sli", "events", "total_query")) == 8

    def test_unknown_path_falls_back_to_closest_parent(self):
        _, lines = load_yaml(TEXT, "spec.yaml")
        assert lines.line(("slos", 1, "sli", "nope")) == 6

    def test_problem_names_file_line_and_field(self):
        _, lines = load_yaml(TEXT, "spec.yaml")
        assert str(lines.problem(("slos", 0, "objective"), "too big")) == "spec.yaml:4: slos[0].objective: too big"

    def test_duplicate_key_is_an_error_with_its_line(self):
        with pytest.raises(SpecError) as exc:
            load_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml")
        assert "dup.yaml:3" in str(exc.value)
        assert "duplicate key 'a' (first at line 1)" in str(exc.value)

    def test_syntax_error_names_the_line(self):
        with pytest.raises(SpecError) as exc:
            load_yaml("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
        assert str(exc.value).startswith("bad.yaml:")
        assert "invalid YAML" in str(exc.value)
