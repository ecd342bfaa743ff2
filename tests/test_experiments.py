"""The paper's experiment configs end to end on the tiny byte-level T5, reading fixtures in the released layouts.

Each ``experiment=`` file runs as written, against a ``paths.released_dir`` laid out as the
hub clones are (``p3-lora-checkpoints/{task}_best.pt``, ``p3-lora-checkpoints-arrow``,
``flan-lora-checkpoints``, ``phatgoose-checkpoints/P3_MergedExperts/best.pt``,
``gpt-generated-instruction-nomic-embeddings/<generation>[/checkpoints]/nomic_instruction_embedding.pt``),
except for what the tiny world needs: the tiny backbone (random, no pretraining), CPU, the
packaged MiniLM embedder, few examples, and a few experts instead of 35 / 166
(``library.import_.tasks``). docs/paper-parity.md maps every line of the original
``paper-eval.sh`` to these commands.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch

from glider.library.library import ExpertLibrary
from glider.pipeline import run_pipeline
from glider.stages.context import StageContext
from tests.data.fixtures import write_bbh, write_bbl, write_t0
from tests.library.release_files import (
    random_embeddings,
    tiny_shapes,
    write_arrow_release,
    write_embedding_release,
    write_glider_release,
    write_merged_release,
)
from tests.test_configs import compose_config

P3_EXPERTS = ["p3agnews", "p3imdb", "p3samsum"]
HELDOUT = ["p3copa", "p3rte"]
T0_DATA = P3_EXPERTS + HELDOUT
FLAN_EXPERTS = ["p3agnews", "flanv2gluemnli", "niv2translation"]
BB_KEYS = ["bbbooleanexpressions", "bblogicaldeduction", "bbwinowhy", "bboperators"]
TINY = [
    "model=t5_tiny_bytes", "model.pretrain.steps=0", "trainer=cpu", "trainer.progress_bar=false", "logger=csv",
    "embedder=minilm", "eval.examples_per_task=2", "eval.batch_size=4", "eval.max_new_tokens=2", "eval.heatmaps=false",
    "library.describe.retrieval_inputs=4", "library.describe.probe_queries=0",
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("experiments")
    cfg = compose_config(root, ["model=t5_tiny_bytes"])
    shapes = tiny_shapes(cfg.model.config)
    released = root / "released"
    write_glider_release(released / "p3-lora-checkpoints", shapes, P3_EXPERTS + ["p3cose"])  # p3cose: an extra file, skipped
    write_arrow_release(released / "p3-lora-checkpoints-arrow", shapes, P3_EXPERTS)
    write_glider_release(released / "flan-lora-checkpoints", shapes, FLAN_EXPERTS)
    write_merged_release(released / "phatgoose-checkpoints" / "P3_MergedExperts", shapes)
    write_embedding_release(released, {
        "t0-v3": random_embeddings(P3_EXPERTS + ["p3cose"], seed=1), "t0-v4": random_embeddings(T0_DATA, seed=2),
        "bigbench": random_embeddings(BB_KEYS, seed=3), "bigbench-v2": random_embeddings(BB_KEYS, seed=4),
        "flan-v2": random_embeddings(FLAN_EXPERTS, seed=5),
    })
    return {
        "root": root, "released": released,
        "t0": write_t0(root / "t0", T0_DATA, n_train=8, n_eval=4),
        "bbh": write_bbh(root / "bbh", ["bbbooleanexpressions", "bblogicaldeduction"], n=2),
        "bbl": write_bbl(root / "bbl", ["winowhy", "operators"], n=3),
    }


def _run(world: dict[str, Path], experiment: str, *overrides: str):
    cfg = compose_config(world["root"], [f"experiment={experiment}", *TINY, f"paths.released_dir={world['released']}", *overrides])
    result = run_pipeline(StageContext(cfg))
    assert result is not None and result.scores
    assert all(0.0 <= s <= 1.0 for s in result.scores.values())
    return cfg, result


def _p3(world: dict[str, Path], library: str, data: str = "t0") -> list[str]:
    # the tiny random backbone depends on the task source, so each source needs its own library
    return [f"task.data_dir={world[data]}", f"library.dir={world['root'] / library}", f"library.import_.tasks=[{','.join(P3_EXPERTS)}]"]


@pytest.mark.slow
def test_t0_heldin_reads_the_released_experts_and_embeddings(world: dict[str, Path]) -> None:
    cfg, result = _run(world, "t0_heldin", *_p3(world, "lib-p3"))
    assert cfg.router.alpha == 100 and cfg.llm._target_.endswith("EmbeddingFileSource") and set(result.scores) == set(P3_EXPERTS)
    assert not math.isnan(result.averages["heldin_avg"])
    library = ExpertLibrary.open(world["root"] / "lib-p3")
    assert library.names == P3_EXPERTS and all(library.card(n)["gates_imported"] for n in library.names)  # p3cose skipped
    _, phatgoose = _run(world, "t0_heldin", *_p3(world, "lib-p3"), "router=phatgoose")  # the Phatgoose row: same library
    assert set(phatgoose.scores) == set(P3_EXPERTS)


@pytest.mark.slow
def test_routing_statistics_run(world: dict[str, Path]) -> None:
    """paper-eval.sh's routing-statistics lines: the same setting on three tasks, statistics written per task and module."""
    from glider.report.routing_stats_file import load_routing_stats

    cfg, result = _run(world, "t0_heldin", *_p3(world, "lib-p3"), "eval.heatmaps=true", "task.eval_tasks=[p3agnews,p3samsum]")
    stats, experts = load_routing_stats(Path(result.files["routing_stats"]))
    assert experts == P3_EXPERTS and stats.task_names == ["p3agnews", "p3samsum"]
    modules, mean = stats.mean_weights("p3samsum")
    assert len(modules) == len(tiny_shapes(cfg.model.config)) and torch.allclose(mean.sum(-1), torch.ones(len(modules)), atol=1e-4)


@pytest.mark.slow
def test_t0_heldout(world: dict[str, Path]) -> None:
    cfg, result = _run(world, "t0_heldout", *_p3(world, "lib-p3-heldout"))
    assert cfg.router.alpha == 3 and set(result.scores) == set(HELDOUT)
    assert not math.isnan(result.averages["heldout_avg"])


@pytest.mark.slow
@pytest.mark.parametrize("experiment,data,keys", [
    ("t0_bbh", "bbh", {"bbbooleanexpressions", "bblogicaldeduction"}),
    ("t0_bbl", "bbl", {"bbwinowhy", "bboperators"}),
    ("flan_bbh", "bbh", {"bbbooleanexpressions", "bblogicaldeduction"}),
    ("flan_bbl", "bbl", {"bbwinowhy", "bboperators"}),
])
def test_big_bench_settings(world: dict[str, Path], experiment: str, data: str, keys: set[str]) -> None:
    experts = FLAN_EXPERTS if experiment.startswith("flan") else P3_EXPERTS
    cfg, result = _run(world, experiment, f"task.data_dir={world[data]}", f"library.dir={world['root'] / ('lib-' + experiment)}",
                       f"library.import_.tasks=[{','.join(experts)}]")
    assert cfg.router.alpha == 3 and cfg.router.top_k == 2 and set(result.scores) == keys
    assert ExpertLibrary.open(world["root"] / f"lib-{experiment}").names == experts


@pytest.mark.slow
def test_t0_arrow_uses_the_released_prototypes_as_they_are(world: dict[str, Path]) -> None:
    cfg, result = _run(world, "t0_arrow", *_p3(world, "lib-p3-arrow"))
    assert cfg.router.name == "arrow" and set(result.scores) == set(P3_EXPERTS)
    library = ExpertLibrary.open(world["root"] / "lib-p3-arrow")
    expert = library.load("p3imdb")
    released = torch.load(world["released"] / "p3-lora-checkpoints-arrow" / "p3imdb_best.pt", weights_only=True)
    assert not expert.gates and library.card("p3imdb")["prototypes_imported"]
    for module, proto in expert.prototypes.items():
        assert torch.equal(proto, released[f"base_model.model.{module}.lora_gate.default"])  # no layer norm, no recomputation


@pytest.mark.slow
def test_t0_merged_from_the_released_merged_checkpoint(world: dict[str, Path]) -> None:
    cfg, result = _run(world, "t0_merged", f"task.data_dir={world['t0']}", f"library.dir={world['root'] / 'lib-p3-merged'}")
    assert cfg.router.name == "merged" and set(result.scores) == set(P3_EXPERTS)
    assert ExpertLibrary.open(world["root"] / "lib-p3-merged").names == ["merged_experts"]


SETTING_DATA = {"t0_heldin": "t0", "t0_heldout": "t0", "t0_bbh": "bbh", "t0_bbl": "bbl"}


@pytest.mark.slow
@pytest.mark.parametrize("experiment", list(SETTING_DATA))
@pytest.mark.parametrize("rule", ["k1", "k3", "p025", "p050", "p075"])
def test_selection_ablation_rows(world: dict[str, Path], experiment: str, rule: str) -> None:
    """paper-eval.sh section 2: each T0 setting with top-1/top-3 and top-p 0.25/0.5/0.75 (one job of ablation=selection)."""
    data = SETTING_DATA[experiment]
    cfg, result = _run(world, experiment, *_p3(world, f"lib-sel-{data}", data), "ablation=selection", f"selection.rule={rule}",
                       "task.eval_tasks=[p3agnews,p3imdb]" if experiment == "t0_heldin" else "eval.examples_per_task=1")
    assert (cfg.router.top_p is None) == rule.startswith("k") and result.scores


@pytest.mark.slow
@pytest.mark.parametrize("line,overrides,keys", [
    ("25: T0 experts on two BBL tasks, bigbench-v2 queries, alpha 100", ["experiment=t0_bbl", "task.eval_tasks=[bbwinowhy]", "router.alpha=100",
     "instructions.embeddings.queries=${paths.released_dir}/gpt-generated-instruction-nomic-embeddings/bigbench-v2"], {"bbwinowhy"}),
    ("36: Arrow on a BBL task", ["experiment=t0_arrow", "task=bbl", "task.eval_tasks=[bboperators]"], {"bboperators"}),
    ("18: Phatgoose on held-out", ["experiment=t0_heldout", "router=phatgoose"], set(HELDOUT)),
])
def test_other_lines_of_paper_eval(world: dict[str, Path], line: str, overrides: list[str], keys: set[str]) -> None:
    experiment = overrides[0].split("=", 1)[1]
    data = "bbl" if "bbl" in " ".join(overrides) else "t0"
    library = {"t0_arrow": "lib-p3-arrow-bbl" if data == "bbl" else "lib-p3-arrow"}.get(experiment, f"lib-line-{data}")
    _, result = _run(world, experiment, *overrides[1:], *_p3(world, library, data))
    assert set(result.scores) == keys, line
