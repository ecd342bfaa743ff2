"""python -m glider.instruct.install_instructions: the published texts from a clone of the original code."""

from __future__ import annotations

import json
from pathlib import Path

from glider.instruct.install_instructions import main

CONSTANTS = '''from copy import deepcopy
from .p3 import *

P3_DATASET_CONFIGS = {
    "p3paws": {
        "train": {"split": "train", "chatgpt_instruction": "Decide if they paraphrase.",
                  "chatgpt_instruction_v2": "Paraphrase or not?", "chatgpt_instruction_v3": "v3 paws",
                  "chatgpt_instruction_v4": "v4 paws"},
        "val": {"split": "validation-validation"},
    },
    "p3cose": {"train": {"split": "train", "chatgpt_instruction_v3": "v3 cose", "chatgpt_instruction_v4": "v4 cose"}},
}
for task, config in P3_DATASET_CONFIGS.items():
    P3_DATASET_CONFIGS[task]["val"] = deepcopy(config["train"])
'''


def _clone(root: Path) -> Path:
    (root / "src" / "dataloaders").mkdir(parents=True)
    (root / "src" / "dataloaders" / "constants.py").write_text(CONSTANTS)
    static = root / "static" / "generated-instructions"
    static.mkdir(parents=True)
    (static / "flan_instruction.json").write_text(json.dumps({"p3agnews": "Classify the news."}))
    return root


def test_copies_the_static_files_and_extracts_the_t0_generations(tmp_path: Path, capsys) -> None:
    source, target = _clone(tmp_path / "glider-original"), tmp_path / "data" / "glider-instructions"
    assert main(["--from", str(source), "--to", str(target)]) == 0
    assert json.loads((target / "flan_instruction.json").read_text()) == {"p3agnews": "Classify the news."}
    assert json.loads((target / "t0_instruction.json").read_text()) == {"p3paws": "Decide if they paraphrase."}
    v3 = json.loads((target / "t0_instruction-v3.json").read_text())
    assert list(v3.items()) == [("p3paws", "v3 paws"), ("p3cose", "v3 cose")]  # the configs' order
    assert "t0_instruction-v4.json" in capsys.readouterr().out


def test_a_folder_that_is_not_the_original_code(tmp_path: Path, capsys) -> None:
    assert main(["--from", str(tmp_path), "--to", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("glider: error: ") and "github.com/UNITES-Lab/glider" in err and not (tmp_path / "out").exists()
