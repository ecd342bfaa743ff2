"""Stage `backbone`: pretrain the tiny T5 on the task source's generic objective (tiny models only)."""

from __future__ import annotations

import logging
import time

from lightning.pytorch import seed_everything

from glider.backbone import build_tiny_t5, read_backbone_info, save_backbone
from glider.io import recover_interrupted_writes
from glider.lit.fit import fit_seq2seq
from glider.locking import build_lock
from glider.stages.context import StageContext

log = logging.getLogger("glider")


def run_backbone(ctx: StageContext) -> None:
    """Train and save the tiny backbone unless the saved one was made by this same config.

    Under a lock of its own (two runs never pretrain the same backbone at once); a kill
    leaves at most a temp folder, removed by the next build.
    """
    cfg = ctx.model_cfg
    if cfg.source != "tiny":
        log.info("backbone: pretrained %s, nothing to build", cfg.get("name_or_path"))
        return
    target = ctx.backbone_dir
    with build_lock(target.parent / f".{target.name}.lock", f"backbone {target}", ctx.cfg.library.get("lock_timeout_s")):
        recover_interrupted_writes(target.parent, name=target.name)
        _build_backbone(ctx)


def _build_backbone(ctx: StageContext) -> None:
    cfg = ctx.model_cfg
    info = read_backbone_info(ctx.backbone_dir)
    if info and info.get("fingerprint") == ctx.backbone_fingerprint:
        log.info("backbone: reusing %s", ctx.backbone_dir)
        return
    pre = cfg.pretrain
    seed_everything(ctx.backbone_seed, workers=True, verbose=False)
    tokenizer = ctx.fresh_tokenizer()
    model = build_tiny_t5(dict(cfg.config), vocab_size=len(tokenizer), pad_id=tokenizer.pad_token_id, eos_id=tokenizer.eos_token_id)
    start = time.time()
    if int(pre.steps) <= 0:  # a random backbone (smoke tests on sources without a pretraining objective)
        save_backbone(model, tokenizer, ctx.backbone_dir, {"fingerprint": ctx.backbone_fingerprint, "seconds": 0.0, "name": cfg.name})
        log.info("backbone: saved an untrained %s (model.pretrain.steps=0) to %s", cfg.name, ctx.backbone_dir)
        return
    log.info("backbone: pretraining %s (%d steps, %d generic pairs)", cfg.name, pre.steps, int(pre.examples))
    fit_seq2seq(model, tokenizer, ctx.source, None, int(pre.examples), ctx.backbone_seed, pre, ctx.cfg.trainer,
                (cfg.max_source_length, cfg.pretrain.get("max_target_length", cfg.max_target_length)))
    model.eval()
    save_backbone(model, tokenizer, ctx.backbone_dir, {"fingerprint": ctx.backbone_fingerprint, "seconds": round(time.time() - start, 1), "name": cfg.name})
    log.info("backbone: saved %s (%.0f s)", ctx.backbone_dir, time.time() - start)
