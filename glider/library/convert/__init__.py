"""Converters of existing LoRA checkpoints into library experts (PEFT adapters, released GLIDER / Phatgoose files)."""

from glider.library.convert.common import BackboneLayout
from glider.library.convert.glider_ckpt import GliderCheckpoints
from glider.library.convert.peft_dir import PeftAdapters
from glider.library.convert.phatgoose_ckpt import PhatgooseCheckpoint
from glider.library.convert.plan import ImportItem, Importer

IMPORTERS = {"peft": PeftAdapters, "glider": GliderCheckpoints, "phatgoose": PhatgooseCheckpoint}

__all__ = ["IMPORTERS", "BackboneLayout", "GliderCheckpoints", "ImportItem", "Importer", "PeftAdapters", "PhatgooseCheckpoint"]
