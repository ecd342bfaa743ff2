"""stage=import through the pipeline: cards, reruns, imported gates kept, errors before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from glider.errors import ConfigError, LibraryError
from glider.library.library import ExpertLibrary
from glider.pipeline import run_pipeline
from glider.stages.context import StageContext
from tests.data.fixtures import write_t0
from tests.library.release_files import tiny_shapes, write_glider_release, write_phatgoose_release
from tests.test_configs import compose_config

TASKS = ["p3agnews", "p3imdb"]


def _cfg(tmp_path: Path, *overrides: str, model: tuple[str, ...] = ("model=t5_tiny_bytes", "model.pretrain.steps=0")):
    data = write_t0(tmp_path / "data", TASKS, n_train=8)
    return compose_config(tmp_path, [
        *model, "task=t0_heldin", f"task.data_dir={data}",
        f"library.dir={tmp_path / 'lib'}", "logger=csv", "stage=import", *overrides,
    ])


def test_import_glider_release_into_library(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path, "library.import_.format=glider", f"library.import_.path={tmp_path / 'release'}")
    write_glider_release(tmp_path / "release", tiny_shapes(cfg.model.config), TASKS + ["flanv2gluemnli"])
    run_pipeline(StageContext(cfg))
    library = ExpertLibrary.open(tmp_path / "lib")
    assert library.names == ["flanv2gluemnli", "p3agnews", "p3imdb"]
    card = library.card("p3agnews")
    assert card["task"] == "p3agnews" and card["gates_imported"] and card["fingerprints"]["import"]
    # samples: training prompts of the task (8 rows x 7 promptsource ag_news templates, fewer than the 3 + 64 + 24 asked)
    assert len(card["samples"]) == 8 * 7 and all("The team won the championship game last night." in s for s in card["samples"])
    assert library.card("flanv2gluemnli")["samples"] == [] and "not in task source" in library.card("flanv2gluemnli")["samples_note"]
    expert = library.load("p3agnews")
    assert expert.scale == pytest.approx(1 / 4) and expert.gates
    stamp = (library.expert_dir("p3agnews") / "card.json").stat().st_mtime_ns
    run_pipeline(StageContext(cfg))  # current: nothing rewritten
    assert (library.expert_dir("p3agnews") / "card.json").stat().st_mtime_ns == stamp
    gates_before = {m: g.clone() for m, g in expert.gates.items()}
    cfg.stage = "gates"
    run_pipeline(StageContext(cfg))  # imported gates are kept, not retrained on the task's data
    after = ExpertLibrary.open(tmp_path / "lib").load("p3agnews")
    assert all((after.gates[m] == g).all() for m, g in gates_before.items())


def test_import_phatgoose_with_tasks_file(tmp_path: Path) -> None:
    (tmp_path / "tasks.txt").write_text("p3imdb\np3agnews\n")
    cfg = _cfg(tmp_path, "library.import_.format=phatgoose", f"library.import_.path={tmp_path / 'pg.pt'}",
               f"library.import_.tasks_file={tmp_path / 'tasks.txt'}")
    write_phatgoose_release(tmp_path / "pg.pt", tiny_shapes(cfg.model.config), n=2)
    run_pipeline(StageContext(cfg))
    library = ExpertLibrary.open(tmp_path / "lib")
    assert library.names == ["p3imdb", "p3agnews"] and library.card("p3agnews")["import"]["index"] == 1


def test_import_errors_name_the_fix(tmp_path: Path) -> None:
    cfg = _cfg(tmp_path)
    with pytest.raises(ConfigError, match="library.import_.path"):
        run_pipeline(StageContext(cfg))
    cfg = _cfg(tmp_path, "library.import_.format=glider", f"library.import_.path={tmp_path / 'release'}", "model.config.d_model=64")
    write_glider_release(tmp_path / "release", tiny_shapes({**cfg.model.config, "d_model": 128}), ["p3agnews"])
    with pytest.raises(LibraryError, match=r"key 'base_model\.model\..*lora_A\.default\.weight' has shape \(4, 128\).*needs \(4, 64\)"):
        run_pipeline(StageContext(cfg))
    assert not (tmp_path / "lib" / "experts" / "p3agnews").exists()


def test_import_for_a_pretrained_backbone_reads_only_its_config(tmp_path: Path) -> None:
    """model.source=pretrained (e.g. t5_xl_lm_adapt): layer shapes come from config.json on the meta device, no weights."""
    from transformers import T5Config

    from glider.stages.import_stage import backbone_layout

    T5Config(d_model=32, d_ff=48, d_kv=16, num_layers=2, num_heads=2, feed_forward_proj="gated-gelu", vocab_size=100).save_pretrained(tmp_path / "t5")
    cfg = _cfg(tmp_path, "library.import_.format=glider", f"library.import_.path={tmp_path / 'release'}",
               model=("model=t5_xl_lm_adapt", f"model.name_or_path={tmp_path / 't5'}"))
    shapes = backbone_layout(StageContext(cfg)).shapes
    assert shapes["decoder.block.1.layer.2.DenseReluDense.wi_1"] == (48, 32) and len(shapes) == 36
    write_glider_release(tmp_path / "release", shapes, ["p3agnews"])
    run_pipeline(StageContext(cfg))
    library = ExpertLibrary.open(tmp_path / "lib")
    assert library.names == ["p3agnews"] and library.backbone["id"] == str(tmp_path / "t5")
    assert set(library.load("p3agnews").lora_A) == set(shapes)  # every targeted layer
