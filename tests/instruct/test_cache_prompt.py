"""InstructionCache (atomic, never stores empty answers) and the prompt template."""

from __future__ import annotations

import pytest

from glider.errors import ConfigError, InstructionError
from glider.instruct.cache import InstructionCache
from glider.instruct.prompt import DEFAULT_PROMPT_TEMPLATE, check_template, render_prompt


def test_cache_roundtrip_and_keys(tmp_path):
    cache = InstructionCache(tmp_path / "c")
    assert cache.get("openai", "m", "p") is None and len(cache) == 0
    cache.put("openai", "m", "p", "Do the task.")
    assert cache.get("openai", "m", "p") == "Do the task."
    assert cache.get("openai", "m2", "p") is None
    assert cache.get("hf", "m", "p") is None
    assert len(cache) == 1
    assert [p.name for p in (tmp_path / "c").iterdir()] == [f"{InstructionCache.key('openai', 'm', 'p')}.json"]


def test_cache_refuses_empty_and_ignores_corrupt(tmp_path):
    cache = InstructionCache(tmp_path)
    for empty in ("", "  \n"):
        with pytest.raises(ValueError):
            cache.put("openai", "m", "p", empty)
    assert len(cache) == 0
    cache.path("openai", "m", "q").write_text("{half")
    assert cache.get("openai", "m", "q") is None


def test_prompt_renders_samples():
    prompt = render_prompt(["first input", "second input", "third input"])
    assert "Here are 3 example inputs of a task" in prompt
    assert "Example 2:\nsecond input" in prompt
    assert prompt.startswith(DEFAULT_PROMPT_TEMPLATE.split("{k}")[0])
    with pytest.raises(InstructionError):
        render_prompt([])


def test_prompt_template_checked():
    assert check_template("{examples}") == "{examples}"
    for bad in ("no field", "{examples} {task}", "{examples"):
        with pytest.raises(ConfigError, match="prompt_template"):
            check_template(bad)


def test_get_or_write_stores_only_successes(tmp_path):
    cache = InstructionCache(tmp_path)
    calls = []

    def produce(prompt: str) -> str:
        calls.append(prompt)
        return "Answer."

    assert cache.get_or_write("hf", "m", "p", produce) == "Answer."
    assert cache.get_or_write("hf", "m", "p", produce) == "Answer." and calls == ["p"]

    def fail(prompt: str) -> str:
        raise InstructionError("down")

    with pytest.raises(InstructionError):
        cache.get_or_write("hf", "m", "other", fail)
    assert len(cache) == 1
