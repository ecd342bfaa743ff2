"""Put the published GLIDER instruction texts into ``paths.instructions_dir`` from a clone of the original code.

    git clone https://github.com/UNITES-Lab/glider /tmp/glider-original
    python -m glider.instruct.install_instructions --from /tmp/glider-original [--to data/glider-instructions]

Copies ``static/generated-instructions/*.json`` (FLAN: 166 tasks in two generations; BIG-bench:
``bb_instruction.json`` and ``-v2``) and writes the T0 texts, which the original keeps inside its
P3 dataset configs (``src/dataloaders/constants.py``: fields ``chatgpt_instruction`` and
``_v2``..``_v4`` of each task's ``train`` config), as ``t0_instruction.json`` and ``-v2``..``-v4``
(task -> text, in the configs' order). The configs are read as data (``ast``), never imported.
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import sys
from pathlib import Path
from typing import Any, Sequence

from glider.errors import GliderError
from glider.instruct.paths import instructions_dir
from glider.io import atomic_write_text

STATIC = Path("static/generated-instructions")
CONSTANTS = Path("src/dataloaders/constants.py")
CONFIGS_NAME = "P3_DATASET_CONFIGS"
T0_FIELDS = {"t0_instruction.json": "chatgpt_instruction", "t0_instruction-v2.json": "chatgpt_instruction_v2",
             "t0_instruction-v3.json": "chatgpt_instruction_v3", "t0_instruction-v4.json": "chatgpt_instruction_v4"}


def p3_configs(constants: Path) -> dict[str, Any]:
    """The literal ``P3_DATASET_CONFIGS = {...}`` of the original's constants.py, read without importing it."""
    try:
        tree = ast.parse(constants.read_text(encoding="utf-8"))
    except (OSError, SyntaxError) as err:
        raise GliderError(f"cannot read {constants}: {err}") from None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == CONFIGS_NAME for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                raise GliderError(f"{constants}: {CONFIGS_NAME} is not a plain literal; is this the original GLIDER code?") from None
            if isinstance(value, dict):
                return value
    raise GliderError(f"{constants} has no {CONFIGS_NAME} = {{...}}: point --from at a clone of github.com/UNITES-Lab/glider.")


def t0_instructions(configs: dict[str, Any]) -> dict[str, dict[str, str]]:
    """file name -> {task: text} for each T0 generation (tasks without that field are left out)."""
    out: dict[str, dict[str, str]] = {}
    for file, field in T0_FIELDS.items():
        out[file] = {task: cfg["train"][field] for task, cfg in configs.items()
                     if isinstance(cfg, dict) and isinstance(cfg.get("train"), dict) and isinstance(cfg["train"].get(field), str)}
    return out


def install(source: Path, target: Path) -> list[Path]:
    """Write every instruction file into ``target`` (atomic); returns the files written."""
    static = source / STATIC
    if not static.is_dir() or not (source / CONSTANTS).is_file():
        raise GliderError(f"{source} is not a clone of the original GLIDER code (no {STATIC} or {CONSTANTS}): "
                          "git clone https://github.com/UNITES-Lab/glider and pass that folder to --from.")
    written = []
    for path in sorted(static.glob("*.json")):
        json.loads(path.read_text(encoding="utf-8"))  # a damaged file stops here, before it is copied
        target.mkdir(parents=True, exist_ok=True)
        tmp = target / f".{path.name}.copy"
        shutil.copyfile(path, tmp)
        tmp.replace(target / path.name)
        written.append(target / path.name)
    for name, table in t0_instructions(p3_configs(source / CONSTANTS)).items():
        if not table:
            raise GliderError(f"{source / CONSTANTS}: no P3 task has a {T0_FIELDS[name]!r} field.")
        atomic_write_text(target / name, json.dumps(table, indent=2, ensure_ascii=False) + "\n")
        written.append(target / name)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m glider.instruct.install_instructions", description=__doc__.splitlines()[0])
    p.add_argument("--from", dest="source", type=Path, required=True, help="a clone of github.com/UNITES-Lab/glider")
    p.add_argument("--to", dest="target", type=Path, default=instructions_dir(),
                   help="paths.instructions_dir (default: $GLIDER_INSTRUCTIONS_DIR or <repo>/data/glider-instructions)")
    args = p.parse_args(argv)
    try:
        files = install(args.source.expanduser(), args.target.expanduser())
    except GliderError as err:
        print(f"glider: error: {err}", file=sys.stderr)
        return 2
    for path in files:
        tasks = len(json.loads(path.read_text(encoding="utf-8")))
        print(f"{path}  ({tasks} tasks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
