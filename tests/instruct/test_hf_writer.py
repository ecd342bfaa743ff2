"""HFWriter with a tiny random causal LM saved to a tmp dir (byte tokenizer, no downloads)."""

from __future__ import annotations

import pytest
import torch
import transformers

from glider.errors import InstructionError
from glider.instruct.cache import InstructionCache
from glider.instruct.hf_writer import HFWriter, first_line

SAMPLES = ["2 + 2 =", "7 + 1 =", "3 + 5 ="]


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory) -> str:
    """A 2-layer random Llama with ByT5's byte tokenizer, saved with save_pretrained."""
    path = tmp_path_factory.mktemp("tiny-lm")
    tokenizer = transformers.ByT5Tokenizer()
    torch.manual_seed(0)
    config = transformers.LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048,
        bos_token_id=None, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    transformers.LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def test_hf_writes_a_string_and_caches(tiny_lm, tmp_path):
    writer = HFWriter(tiny_lm, max_new_tokens=8, cache_dir=tmp_path)
    assert writer._lm is None  # lazy: nothing loaded by the constructor
    text = writer.write(SAMPLES, task="add")
    assert isinstance(text, str) and text and text == text.strip() and "\n" not in text
    assert writer.generations == 1
    assert HFWriter(tiny_lm, max_new_tokens=8, cache_dir=tmp_path).write(SAMPLES) == text  # from disk
    assert writer.write(SAMPLES) == text and writer.generations == 1
    assert len(InstructionCache(tmp_path)) == 1
    assert writer.name == f"hf:{tiny_lm.rstrip('/').split('/')[-1]}"


def test_hf_unloadable_model_names_path_and_fix(tmp_path):
    missing = tmp_path / "no-model-here"
    missing.mkdir()
    with pytest.raises(InstructionError) as err:
        HFWriter(str(missing), cache_dir=tmp_path / "c").write(SAMPLES)
    assert str(missing) in str(err.value) and "llm.model_name_or_path" in str(err.value)
    assert len(InstructionCache(tmp_path / "c")) == 0


def test_first_line():
    assert first_line("\n  Do it. \nmore") == "Do it."
    assert first_line(" \n ") == ""


def test_hf_uses_chat_template_when_present(tiny_lm):
    writer = HFWriter(tiny_lm, max_new_tokens=4)
    writer._load()
    writer._tokenizer.chat_template = (
        "{% for m in messages %}[user] {{ m['content'] }}{% endfor %}{% if add_generation_prompt %} [bot]{% endif %}"
    )
    ids = writer._encode("hi")["input_ids"][0]
    assert writer._tokenizer.decode(ids, skip_special_tokens=True) == "[user] hi [bot]"
    assert isinstance(writer.generate("hi"), str)
