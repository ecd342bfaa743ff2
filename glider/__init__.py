"""glider: model MoErging with global (instruction) and local (Phatgoose) routing over LoRA experts."""

__version__ = "0.1.0"
