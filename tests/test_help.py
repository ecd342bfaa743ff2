"""``python -m glider.run --help`` opens with glider's own help: what it does, the main choices, examples."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.reliability.cli import REPO, glider_env


def test_help_is_gliders_own(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "glider.run", "--help"], cwd=REPO, env=glider_env(tmp_path),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout
    assert text.startswith("glider: route every input among a library of LoRA experts")
    assert "powered by Hydra" not in text
    examples = [line.split("#")[0].split() for line in text.splitlines() if line.strip().startswith("python -m glider.run")]
    assert len(examples) >= 3
    routers = re.search(r"^  router\s+(.+)$", text, re.M).group(1).split(", ")
    assert {f"{name}.yaml" for name in routers} <= {p.name for p in (REPO / "conf" / "router").glob("*.yaml")}
    for words in examples:  # every group=option of the examples exists
        for word in words[3:]:
            group, _, option = word.partition("=")
            if (REPO / "conf" / group).is_dir():
                assert all((REPO / "conf" / group / f"{o}.yaml").is_file() for o in option.split(",")), word
