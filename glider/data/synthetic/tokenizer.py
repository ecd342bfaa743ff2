"""Word-level tokenizer for the zoo (one token per word or punctuation mark)."""

from __future__ import annotations

import re

from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import PreTrainedTokenizerFast

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"  # ids 0, 1, 2 (T5 conventions)
_WORD_OR_MARK = re.compile(r"\w+|[^\w\s]")


def split_words(text: str, lowercase: bool = True) -> list[str]:
    """The tokens ``build_word_tokenizer`` makes of ``text`` (words and marks; lowercased unless the vocabulary is cased)."""
    return _WORD_OR_MARK.findall(text.lower() if lowercase else text)


def is_cased(vocab: list[str]) -> bool:
    """Whether the vocabulary holds capitalised words (then the tokenizer keeps case)."""
    return any(word != word.lower() for word in vocab)


def build_word_tokenizer(vocab: list[str]) -> PreTrainedTokenizerFast:
    """A WordLevel tokenizer over ``vocab``: lowercase (unless ``vocab`` is cased: ``is_cased``), split on spaces and punctuation.

    A cased vocabulary (the mix zoo's, whose own-input families write in capitals) keeps
    ``What`` and ``WHAT`` apart; the first zoo's vocabulary is lowercase, and its texts are
    lowercased as before.

    ``<pad>`` = 0, ``</s>`` = 1 (appended to every encoding), ``<unk>`` = 2, then ``vocab``
    in order (duplicates and special tokens skipped).
    """
    ids: dict[str, int] = {PAD: 0, EOS: 1, UNK: 2}
    for word in vocab:
        ids.setdefault(word, len(ids))
    core = Tokenizer(models.WordLevel(vocab=ids, unk_token=UNK))
    if not is_cased(vocab):
        core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Split(Regex(r"[^\w\s]"), "isolated")]
    )
    core.post_processor = processors.TemplateProcessing(
        single=f"$A {EOS}", pair=f"$A {EOS} $B {EOS}", special_tokens=[(EOS, 1)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=UNK,
        clean_up_tokenization_spaces=False,
    )
