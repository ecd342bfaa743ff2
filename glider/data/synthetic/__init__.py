"""The synthetic task zoo (``task=synthetic``): a fixed world, its tasks, and a word tokenizer."""

from glider.data.synthetic.tokenizer import build_word_tokenizer
from glider.data.synthetic.zoo import SyntheticZoo

__all__ = ["SyntheticZoo", "build_word_tokenizer"]

ZOO_VERSION = "2"  # bump when tasks, world or pretraining change: libraries are keyed by it
