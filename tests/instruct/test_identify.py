"""The identification-accuracy command on a small subset file written by the test."""

from __future__ import annotations

import csv
import json

import torch

from glider.instruct.identify import main, topk_accuracy


def test_topk_accuracy_by_hand():
    experts = torch.eye(3)
    queries = torch.nn.functional.normalize(torch.tensor([[1.0, 0.2, 0.0], [0.9, 0.8, 0.0], [0.0, 0.0, 1.0]]), dim=1)
    assert topk_accuracy(queries, experts) == {1: 2 / 3, 2: 1.0}


def test_identify_on_subset(tmp_path, glider_instructions, capsys):
    v1 = json.loads((glider_instructions / "flan_instruction.json").read_text())
    v2 = json.loads((glider_instructions / "flan_instruction-v2.json").read_text())
    tasks = ["p3agnews", "p3amazonpolarity", "p3cosmosqa", "p3samsum", "p3wikihop"]
    (tmp_path / "q.json").write_text(json.dumps({t: v2[t] for t in tasks} | {"only_in_queries": "x"}))
    (tmp_path / "e.json").write_text(json.dumps({t: v1[t] for t in tasks}))
    out_csv = tmp_path / "out" / "ident.csv"
    code = main(["--queries", str(tmp_path / "q.json"), "--experts", str(tmp_path / "e.json"),
                 "--embedder", "minilm", "nomic", "--csv", str(out_csv)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "| embedder | tasks | top-1 | top-2 | status |" in printed and "tasks in both: 5" in printed
    rows = {r["embedder"]: r for r in csv.DictReader(out_csv.open())}
    assert rows["minilm"]["status"] == "ok" and rows["minilm"]["tasks"] == "5"
    assert float(rows["minilm"]["top1"]) >= 0.6 and float(rows["minilm"]["top2"]) >= float(rows["minilm"]["top1"])
    assert rows["nomic"]["status"].startswith("unavailable:") and rows["nomic"]["top1"] == ""


def test_identify_user_errors(tmp_path, capsys):
    assert main(["--queries", str(tmp_path / "missing.json"), "--experts", str(tmp_path / "missing.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "a.json").write_text(json.dumps({"a": "x"}))
    (tmp_path / "b.json").write_text(json.dumps({"b": "y"}))
    assert main(["--queries", str(tmp_path / "a.json"), "--experts", str(tmp_path / "b.json")]) == 2
    assert "no task name is in both" in capsys.readouterr().err
    assert main(["--queries", str(tmp_path / "a.json"), "--experts", str(tmp_path / "a.json"), "--embedder", "bogus"]) == 0
    assert "unknown embedder 'bogus'" in capsys.readouterr().out
