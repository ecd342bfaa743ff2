"""The synthetic task zoos (``task=synthetic``, ``task=synthetic_mix``): fixed worlds, their tasks, and a word tokenizer."""

from glider.data.synthetic.definition import ZOOS, ZooDefinition
from glider.data.synthetic.tokenizer import build_word_tokenizer
from glider.data.synthetic.zoo import SyntheticZoo

__all__ = ["ZOOS", "SyntheticZoo", "ZooDefinition", "build_word_tokenizer"]
