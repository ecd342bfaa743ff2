"""router=lorahub on the paper's settings (experiment=<setting> router=lorahub), end to end on the released-layout
fixtures of tests/test_experiments.py: few-shot examples from the train split where the task has one, else the held
part after the evaluated examples; a BBH task with no example left beyond the evaluated ones stops with its name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from glider.errors import DataError
from tests.data.fixtures import write_jsonl, write_t0
from tests.data.t0_rows import T0_ROWS
from tests.test_experiments import HELDOUT, P3_EXPERTS, _run, world  # noqa: F401  (world: the module fixture)

LORAHUB = ["router=lorahub", "router.lorahub.steps=3"]


def _searches(result) -> dict:
    return json.loads(Path(result.files["summary"]).read_text())["lorahub"]["tasks"]


def _distinct_t0(root: Path) -> Path:
    """T0 fixture rows, but every row of a held-out task distinct (the shared fixture repeats one row, and an
    example whose text equals an evaluated one's is never a few-shot example)."""
    write_t0(root, P3_EXPERTS)
    for task in HELDOUT:
        for split, n in (("train", 8), ("validation", 4)):
            write_jsonl(root / task / f"{split}.jsonl", [{**T0_ROWS[task], "premise": f"{split} premise {i}.", "idx": i} for i in range(n)])
    return root


@pytest.mark.slow
def test_t0_heldout_takes_few_shot_examples_from_the_train_split(world: dict[str, Path]) -> None:  # noqa: F811
    data = _distinct_t0(world["root"] / "t0-distinct")
    cfg, result = _run(world, "t0_heldout", *LORAHUB, f"task.data_dir={data}", f"library.dir={world['root'] / 'lib-lorahub-t0'}",
                       f"library.import_.tasks=[{','.join(P3_EXPERTS)}]")
    assert cfg.router.top_k == 2 and result.router == "lorahub" and set(result.scores) == set(HELDOUT)  # the GLIDER knobs do not apply
    searches = _searches(result)
    assert {t: (s["examples"], s["example_split"], len(s["experts"])) for t, s in searches.items()} == {t: (3, "train", 3) for t in HELDOUT}


@pytest.mark.slow
def test_bbh_takes_the_held_part_after_the_evaluated_examples_and_stops_when_none_is_left(world: dict[str, Path]) -> None:  # noqa: F811
    overrides = [*LORAHUB, f"task.data_dir={world['bbh']}", f"library.dir={world['root'] / 'lib-lorahub-bbh'}",
                 "library.import_.tasks=[p3agnews,p3imdb,p3samsum]"]
    _, result = _run(world, "t0_bbh", *overrides, "eval.examples_per_task=1")  # 2 rows per subtask: 1 evaluated, the rest held
    searches = _searches(result)
    assert {s["example_split"] for s in searches.values()} == {"validation"} and searches["bbbooleanexpressions"]["examples"] == 1
    with pytest.raises(DataError, match="task 'bbbooleanexpressions' has no labelled example to search with"):
        _run(world, "t0_bbh", *overrides, "eval.examples_per_task=100")  # every row evaluated
