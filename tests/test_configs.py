"""The one config reader (trainer --config, evaluation suite): YAML or JSON to a mapping, bad files in one line."""

from __future__ import annotations

import pytest

from sarclip_core.configs import read_config
from sarclip_core.errors import SarclipError


@pytest.mark.parametrize("name, text, expected", [("a.yaml", "lr: 0.1\nbatch-size: 4\n", {"lr": 0.1, "batch-size": 4}),
                                                  ("a.json", '{"lr": 0.1}', {"lr": 0.1}), ("a.yml", "", {})])
def test_yaml_json_and_empty(tmp_path, name, text, expected):
    (tmp_path / name).write_text(text)
    assert read_config(tmp_path / name) == expected


@pytest.mark.parametrize("name, text, message", [("a.yaml", "lr: [1", "not valid YAML"),
                                                 ("a.json", "{lr: 1}", "not valid JSON"),
                                                 ("a.yaml", "- 1\n- 2\n", "a mapping of names to values, not list")])
def test_bad_config_is_one_line_naming_the_file(tmp_path, name, text, message):
    (tmp_path / name).write_text(text)
    with pytest.raises(SarclipError, match=message) as caught:
        read_config(tmp_path / name)
    assert str(caught.value).startswith(str(tmp_path / name)) and "\n" not in str(caught.value)


def test_missing_config(tmp_path):
    with pytest.raises(SarclipError, match="nothing.yaml: cannot read config"):
        read_config(tmp_path / "nothing.yaml")
