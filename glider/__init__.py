"""glider: model MoErging with global (instruction) and local (Phatgoose) routing over LoRA experts."""

from glider.resolvers import register_resolvers

__version__ = "0.1.0"

register_resolvers()
