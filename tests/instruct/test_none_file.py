"""NoneWriter and FileWriter: real published files, a tmp file, and their errors."""

from __future__ import annotations

import json
import os

import pytest

from glider.errors import ConfigError, InstructionError
from glider.instruct.file_writer import FileWriter
from glider.instruct.none_writer import NoneWriter
from glider.instruct.paths import REPO_ROOT
from glider.instruct.writer import InstructionWriter


def test_none_joins_samples():
    writer = NoneWriter()
    assert isinstance(writer, InstructionWriter)
    assert writer.name == "none"
    assert writer.write(["a b", "c"], task="t") == "a b\nc"
    assert writer.write_many([(["x"], None), (["y", "z"], "t")]) == ["x", "y\nz"]


def test_none_rejects_no_samples():
    with pytest.raises(InstructionError, match="at least one non-empty sample"):
        NoneWriter().write([], task="p3agnews")


class _EchoWriter(InstructionWriter):
    name = "echo"

    def write(self, samples, task=None):
        return samples[0]


def test_write_many_progress_bar_for_many_requests(capsys):
    out = _EchoWriter().write_many([([str(i)], None) for i in range(25)])
    assert out == [str(i) for i in range(25)]
    assert "instructions [echo]" in capsys.readouterr().err


def test_none_writer_is_instant_and_silent(capsys):
    out = NoneWriter().write_many([([str(i)], None) for i in range(25)])
    assert out == [str(i) for i in range(25)]
    assert capsys.readouterr().err == ""


def test_file_real_flan(glider_instructions):
    writer = FileWriter(glider_instructions / "flan_instruction.json")
    assert len(writer.tasks) == 166
    text = writer.write(["ignored"], task="p3agnews")
    assert text.startswith("Classify the subject of the provided news excerpt")
    assert writer.name == "file:flan_instruction.json"


def test_file_real_bigbench_lists(glider_instructions):
    path = glider_instructions / "bb_instruction.json"
    table = json.loads(path.read_text())
    two = table["bbbooleanexpressions"]
    assert FileWriter(path).write([], "bbbooleanexpressions") == two[0]
    assert FileWriter(path, pick=1).write([], "bbbooleanexpressions") == two[1]
    assert FileWriter(path, pick="all").write([], "bbbooleanexpressions") == f"{two[0]} {two[1]}"
    assert len(FileWriter(glider_instructions / "bb_instruction-v2.json").tasks) == 37


def test_file_tmp_and_write_many(tmp_path):
    path = tmp_path / "ins.json"
    path.write_text(json.dumps({"a": "Do A.", "b": ["Do B.", "Or B."]}))
    writer = FileWriter(path, pick="all")
    assert writer.write_many([([], "a"), (["s"], "b")]) == ["Do A.", "Do B. Or B."]


def test_file_missing_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(InstructionError, match="nope.json does not exist"):
        FileWriter(path).write([], "a")


def test_file_unknown_task_names_file_and_close_matches(glider_instructions):
    writer = FileWriter(glider_instructions / "flan_instruction.json")
    with pytest.raises(InstructionError) as info:
        writer.write([], task="p3agnew")
    message = str(info.value)
    assert "'p3agnew'" in message and "flan_instruction.json" in message and "p3agnews" in message


def test_file_needs_task_name(glider_instructions):
    with pytest.raises(InstructionError, match="by task name"):
        FileWriter(glider_instructions / "flan_instruction.json").write(["x"], task=None)


def test_file_bad_content_and_pick(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InstructionError, match="not readable JSON"):
        FileWriter(bad).write([], "a")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"a": 3}))
    with pytest.raises(InstructionError, match="task 'a' must map"):
        FileWriter(wrong).write([], "a")
    lists = tmp_path / "lists.json"
    lists.write_text(json.dumps({"a": ["x"]}))
    with pytest.raises(InstructionError, match="out of range"):
        FileWriter(lists, pick=5).write([], "a")
    with pytest.raises(ConfigError, match="llm.pick"):
        FileWriter(lists, pick="last")


def test_file_relative_path_from_repo_root(tmp_path, monkeypatch, glider_instructions):
    relative = os.path.relpath(glider_instructions / "flan_instruction.json", REPO_ROOT)  # ../shared/...
    monkeypatch.chdir(tmp_path)  # the relative path does not resolve from here, but does from the repo root
    writer = FileWriter(relative)
    assert writer.path == REPO_ROOT / relative
    assert writer.write([], "p3agnews")
