"""Stage `import`: existing LoRA experts into the library (PEFT adapters, released GLIDER / Phatgoose checkpoints).

    python -m glider.run stage=import library.import_.format=glider library.import_.path=/ckpt/glider_flan

Not in the default ``library.build_stages`` (experiment configs that use released experts
add it). Each expert is checked against the backbone's layer shapes before anything is
written; imported gates are kept (the gates stage does not retrain them); cards get the
task, sample inputs from the task source's training data when it has them, and
``fingerprints.import`` (the source file and options), so a rerun skips current experts.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import hydra
import torch
from omegaconf import DictConfig

from glider.backbone import fingerprint
from glider.data.source import TaskSource
from glider.errors import ConfigError, GliderError
from glider.instruct.sources import make_writer
from glider.library.convert import IMPORTERS, BackboneLayout, ImportItem, Importer
from glider.library.expert import Expert
from glider.library.library import INDEX, ExpertLibrary
from glider.library.stack import check_fits
from glider.moe.inject import module_shapes
from glider.stages.context import StageContext

log = logging.getLogger("glider")


def import_config(ctx: StageContext) -> DictConfig:
    cfg = ctx.cfg.library.get("import_")
    if cfg is None or not cfg.get("path"):
        raise ConfigError(
            "stage=import needs library.import_.path (and library.import_.format=peft|glider|phatgoose): "
            "e.g. library.import_.format=glider library.import_.path=/ckpt/glider_flan. See docs/real-benchmarks.md."
        )
    if cfg.get("format") not in IMPORTERS:
        raise ConfigError(f"library.import_.format must be one of {', '.join(IMPORTERS)}, got '{cfg.get('format')}'.")
    return cfg


def read_task_list(cfg: DictConfig) -> list[str] | None:
    """``tasks`` as given, or ``tasks_file``: a JSON object (its keys, in order), a JSON list, or one task per line."""
    if cfg.get("tasks"):
        return [str(t) for t in cfg.tasks]
    if not cfg.get("tasks_file"):
        return None
    path = Path(str(cfg.tasks_file)).expanduser()
    if not path.is_file():
        raise ConfigError(f"library.import_.tasks_file={path} does not exist.")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except ValueError:
        return [line.strip() for line in text.splitlines() if line.strip()]
    if isinstance(data, dict):
        return list(data)
    if isinstance(data, list):
        return [str(t) for t in data]
    raise ConfigError(f"library.import_.tasks_file={path} must hold a JSON object, a JSON list or one task per line.")


def backbone_layout(ctx: StageContext) -> BackboneLayout:
    """(d_out, d_in) of every targeted layer and every weight name, without loading pretrained weights (meta device)."""
    model_cfg = ctx.model_cfg
    if model_cfg.source == "tiny":
        model, _ = ctx.load_backbone()  # the tiny backbone the library is for (the pipeline builds it first)
    else:
        from transformers import AutoConfig, AutoModelForSeq2SeqLM

        from glider.instruct.offline import local_only

        name = str(model_cfg.name_or_path)
        try:
            config = AutoConfig.from_pretrained(name, revision=model_cfg.get("revision"), local_files_only=local_only(name))
        except (OSError, ValueError) as err:
            raise ConfigError(f"Cannot read the config of backbone '{name}' ({str(err).splitlines()[0]}): download it or set "
                              "model.name_or_path to a local directory.") from None
        with torch.device("meta"):
            model = AutoModelForSeq2SeqLM.from_config(config)
    return BackboneLayout(shapes=module_shapes(model, ctx.target_modules), weights=frozenset(model.state_dict()))


def samples_source(ctx: StageContext, cfg: DictConfig) -> TaskSource:
    """Where sample inputs for the cards come from: ``import_.samples_source`` (a task config) or the run's task."""
    node = cfg.get("samples_source")
    return hydra.utils.instantiate(node) if node else ctx.source


def sample_inputs(ctx: StageContext, source: TaskSource, task: str, n: int) -> tuple[list[str], str | None]:
    """Up to n training inputs of ``task``, or none and a note saying why."""
    if task not in {t.name for t in source.tasks()}:
        return [], (f"no sample inputs: task '{task}' is not in task source '{source.name}'. llm=file needs none; "
                    "for other llm backends re-import with a task source that has it (task=... or library.import_.samples_source).")
    try:
        return [e.source for e in source.train_examples(task, n, ctx.seed)], None
    except GliderError as err:
        return [], f"no sample inputs: the training data of '{task}' is not available ({str(err).split('. ')[0]})."


def wants_samples(ctx: StageContext, cfg: DictConfig) -> bool:
    """``library.import_.samples``: true, false, or auto = whether the configured llm writes instructions from samples."""
    value = cfg.get("samples", "auto")
    if value == "auto":
        return bool(getattr(make_writer(ctx.cfg), "needs_samples", True))
    if not isinstance(value, bool):
        raise ConfigError(f"library.import_.samples must be true, false or auto, got {value!r}.")
    return value


def import_fingerprint(item: ImportItem, samples: bool) -> str:
    """What makes an imported expert current: its source and options, and whether its card keeps sample inputs."""
    return fingerprint({**item.fingerprint, "samples": samples})


def import_card(ctx: StageContext, item: ImportItem, expert: Expert, fmt: str, samples: list[str], note: str | None,
                want_samples: bool) -> dict[str, Any]:
    fingerprints = {"import": import_fingerprint(item, want_samples)}
    if expert.prototypes:  # released Arrow prototypes: the prototypes stage keeps them (current for this import)
        fingerprints["prototypes"] = fingerprints["import"]
    card: dict[str, Any] = {
        "samples": samples,
        "fingerprints": fingerprints,
        "import": {"format": fmt, "path": str(item.path), "index": item.index, "rank": expert.rank, "lora_alpha": expert.lora_alpha},
        "gates_imported": bool(expert.gates),
        "prototypes_imported": bool(expert.prototypes),
        "base_model": ctx.backbone_identity()["id"],
    }
    if note:
        card["samples_note"] = note
    return card


def make_importer(cfg: DictConfig, layout: BackboneLayout) -> Importer:
    """The converter of ``library.import_.format`` (``lora_gate`` only for released GLIDER files)."""
    fmt, lora_gate = str(cfg.format), str(cfg.get("lora_gate") or "phatgoose")
    extra = {}
    if fmt == "glider":
        extra["lora_gate"] = lora_gate
    elif lora_gate != "phatgoose":
        raise ConfigError(f"library.import_.lora_gate={lora_gate} applies to released GLIDER files (format=glider), not format={fmt}.")
    return IMPORTERS[fmt](Path(str(cfg.path)).expanduser(), layout, read_task_list(cfg), cfg.get("lora_alpha"), **extra)


def check_all(importer: Importer, items: list[ImportItem]) -> None:
    """Every expert's keys, shapes and structure, before anything is written (a bad file leaves the library as it was)."""
    for item in items:
        importer.parse(item).check(item.name, item.path)


def run_import(ctx: StageContext) -> ExpertLibrary:
    """Import every expert of the configured checkpoint(s) that is missing or stale in the library."""
    cfg = import_config(ctx)
    fmt = str(cfg.format)
    layout = backbone_layout(ctx)
    shapes = layout.shapes
    importer = make_importer(cfg, layout)
    plan = importer.plan()
    if importer.skipped:
        log.info("import: %d item(s) in %s are not among library.import_.tasks and were skipped: %s (name them in "
                 "library.import_.tasks to import them)", len(importer.skipped), cfg.path, ", ".join(importer.skipped))
    want_samples = wants_samples(ctx, cfg)
    existing = ExpertLibrary.open(ctx.library_dir, check=False) if (ctx.library_dir / INDEX).is_file() else None
    todo = [i for i in plan if existing is None or i.name not in existing
            or existing.card(i.name).get("fingerprints", {}).get("import") != import_fingerprint(i, want_samples)]
    if existing is not None and not todo:
        log.info("import: all %d %s experts from %s are current in %s", len(plan), fmt, cfg.path, existing.root)
        return existing
    check_all(importer, todo)  # before the library is created or touched
    library = ctx.open_library(create=True)
    describe = ctx.cfg.library.describe
    n_samples = int(describe.k) + int(describe.retrieval_inputs) + int(describe.probe_queries)
    source = samples_source(ctx, cfg) if want_samples else None
    log.info("import: %d of %d %s expert(s) from %s into %s", len(todo), len(plan), fmt, cfg.path, library.root)
    for n, item in enumerate(todo, 1):
        expert = importer.load(item)
        check_fits(expert, shapes)
        samples, note = sample_inputs(ctx, source, item.task, n_samples) if source is not None else (
            [], f"no sample inputs: library.import_.samples={cfg.get('samples', 'auto')} with llm={ctx.cfg.llm._target_.rsplit('.', 1)[-1]} "
                "(set library.import_.samples=true to keep them; the experts are then re-imported with samples).")
        if note and source is not None:
            log.warning("import: %s: %s", item.name, note)
        expert.card = import_card(ctx, item, expert, fmt, samples, note, want_samples)
        library.add(expert)
        log.info("import: [%d/%d] %s (rank %d, %d modules, gates: %s, Arrow prototypes: %s)", n, len(todo), item.name, expert.rank,
                 len(expert.lora_A), "imported" if expert.gates else "none", "imported" if expert.prototypes else "none")
    return library

