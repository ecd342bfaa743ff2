"""Stage `gates`: train Phatgoose gate vectors for every expert (backbone and LoRA frozen).

Recipe (Phatgoose): per module a gate g (init 0) scales the expert's LoRA branch by
sigmoid(x . g) per token; AdamW, lr 5e-3, 100 steps on the expert's own task.
"""

from __future__ import annotations

import logging

from lightning.pytorch import seed_everything

from glider.backbone import fingerprint
from glider.errors import LibraryError
from glider.lit.fit import fit_seq2seq
from glider.moe.gated import inject_gated_expert
from glider.stages.context import StageContext

log = logging.getLogger("glider")


def gates_fingerprint(ctx: StageContext, card: dict) -> str:
    expert_fp = card.get("fingerprints", {}).get("expert") or card.get("fingerprints", {}).get("import", "")
    recipe = {k: v for k, v in dict(ctx.cfg.library.gates).items() if k != "retrain_imported"}
    return fingerprint({"expert": expert_fp, "recipe": recipe, "seed": ctx.seed})


def keeps_imported_gates(ctx: StageContext, card: dict) -> bool:
    """Imported experts keep the gates they came with unless library.gates.retrain_imported=true."""
    return bool(card.get("gates_imported")) and not bool(ctx.cfg.library.gates.get("retrain_imported", False))


def run_gates(ctx: StageContext) -> None:
    """Train gates for experts that have none (or gates made by another recipe)."""
    library = ctx.open_library()
    cards = {n: library.card(n) for n in library.names}
    kept = [n for n, card in cards.items() if keeps_imported_gates(ctx, card)]
    if kept:
        log.info("gates: %d imported expert(s) keep their imported gates", len(kept))
    todo = [n for n, card in cards.items() if n not in kept and card.get("fingerprints", {}).get("gates") != gates_fingerprint(ctx, card)]
    if not todo:
        log.info("gates: all %d experts have current gates", len(library))
        return
    rec = ctx.cfg.library.gates
    known = {t.name for t in ctx.source.tasks()}
    for i, name in enumerate(todo, 1):
        expert = library.load(name, with_keys=True)
        if expert.task not in known:
            if expert.gates:
                log.info("gates: %s keeps its imported gates (no training data for task '%s')", name, expert.task)
                continue
            raise LibraryError(
                f"Expert '{name}' has no Phatgoose gates and its task '{expert.task}' is not in task source "
                f"'{ctx.source.name}', so gates cannot be trained. Import gates with the expert or pick task=... that has it."
            )
        log.info("gates: [%d/%d] %s", i, len(todo), name)
        seed_everything(ctx.seed, workers=True, verbose=False)
        model, tokenizer = ctx.load_backbone()
        layers = inject_gated_expert(model, expert.lora_A, expert.lora_B, expert.scale)
        fit = fit_seq2seq(model, tokenizer, ctx.source, expert.task, int(rec.train_examples), ctx.seed + 1, rec, ctx.cfg.trainer,
                          (ctx.model_cfg.max_source_length, ctx.model_cfg.max_target_length))
        expert.gates = {m: layer.gate.detach().float().clone() for m, layer in layers.items()}
        library.save_routing_keys(expert)
        card = library.card(name)
        card.setdefault("fingerprints", {})["gates"] = gates_fingerprint(ctx, card)
        library.update_card(name, fingerprints=card["fingerprints"])
        log.info("gates: [%d/%d] %s done (%.1f s)", i, len(todo), name, fit.seconds)

