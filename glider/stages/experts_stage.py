"""Stage `experts`: train one pure-LoRA expert per held-in task on the frozen backbone (PEFT + Lightning)."""

from __future__ import annotations

import logging
from typing import Any

from lightning.pytorch import seed_everything
from peft import LoraConfig, get_peft_model
from torch import Tensor, nn

from glider.backbone import fingerprint
from glider.library.expert import Expert
from glider.library.library import ExpertLibrary
from glider.lit.fit import fit_seq2seq
from glider.stages.context import StageContext

log = logging.getLogger("glider")


def expert_fingerprint(ctx: StageContext, task: str) -> str:
    """Identity of an expert: backbone, data, task, training recipe, seed."""
    recipe = {k: v for k, v in dict(ctx.cfg.library.experts).items()}
    return fingerprint({"backbone": ctx.backbone_fingerprint, "data": ctx.source.fingerprint(), "task": task, "recipe": recipe, "seed": ctx.seed})


def extract_lora(peft_model: nn.Module) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
    """{module: A [r, d_in]}, {module: B [d_out, r]} from a PEFT LoRA model (adapter 'default')."""
    lora_A, lora_B = {}, {}
    for name, module in peft_model.named_modules():
        if hasattr(module, "lora_A") and isinstance(module.lora_A, nn.ModuleDict) and "default" in module.lora_A:
            key = name.removeprefix("base_model.model.")
            lora_A[key] = module.lora_A["default"].weight.detach().float().clone()
            lora_B[key] = module.lora_B["default"].weight.detach().float().clone()
    return lora_A, lora_B


def train_expert(ctx: StageContext, task: str, samples_kept: int) -> Expert:
    """Train a LoRA for ``task``; returns the Expert (weights + card)."""
    rec = ctx.cfg.library.experts
    seed_everything(ctx.seed, workers=True, verbose=False)
    model, tokenizer = ctx.load_backbone()
    peft_cfg = LoraConfig(
        r=int(rec.rank),
        lora_alpha=float(rec.alpha),
        target_modules=list(ctx.target_modules),
        lora_dropout=float(rec.get("dropout", 0.0)),
        bias="none",
        task_type="SEQ_2_SEQ_LM",
    )
    peft_model = get_peft_model(model, peft_cfg)
    fit = fit_seq2seq(peft_model, tokenizer, ctx.source, task, int(rec.train_examples), ctx.seed, rec, ctx.cfg.trainer,
                      (ctx.model_cfg.max_source_length, ctx.model_cfg.max_target_length))
    lora_A, lora_B = extract_lora(peft_model)
    card: dict[str, Any] = {
        "samples": [e.source for e in fit.examples[:samples_kept]],
        "fingerprints": {"expert": expert_fingerprint(ctx, task)},
        "training": {"steps": int(rec.steps), "lr": float(rec.lr), "seconds": fit.seconds, "final_loss": round(fit.final_loss, 4)},
        "base_model": ctx.backbone_identity()["id"],
    }
    return Expert(name=task, task=task, rank=int(rec.rank), lora_alpha=float(rec.alpha), lora_A=lora_A, lora_B=lora_B, card=card)


def run_experts(ctx: StageContext) -> ExpertLibrary:
    """Train the experts that are missing or were made by another config; keep the others."""
    library = ctx.open_library(create=True)
    tasks = [t.name for t in ctx.source.expert_tasks()]
    describe = ctx.cfg.library.describe
    samples_kept = int(describe.k) + int(describe.retrieval_inputs) + int(describe.probe_queries)
    imported = [t for t in tasks if t in library and library.card(t).get("fingerprints", {}).get("import")]
    if imported:
        log.info("experts: %d imported expert(s) are kept as imported (not trained here)", len(imported))
    todo = [t for t in tasks if t not in imported and (library.card(t).get("fingerprints", {}).get("expert") != expert_fingerprint(ctx, t) or t not in library)]
    if not todo:
        log.info("experts: all %d experts are current in %s", len(tasks), library.root)
        return library
    log.info("experts: training %d of %d experts into %s", len(todo), len(tasks), library.root)
    for i, task in enumerate(todo, 1):
        log.info("experts: [%d/%d] %s", i, len(todo), task)
        expert = train_expert(ctx, task, samples_kept)
        library.add(expert)
        log.info("experts: [%d/%d] %s done (%.1f s, loss %.3f)", i, len(todo), task, expert.card["training"]["seconds"], expert.card["training"]["final_loss"])
    return library
