"""The prompt that asks an LLM to describe a task from K example inputs (paper-like)."""

from __future__ import annotations

import string
from typing import Sequence

from glider.errors import ConfigError, InstructionError

DEFAULT_PROMPT_TEMPLATE = (
    "Here are {k} example inputs of a task:\n\n"
    "{examples}\n\n"
    "Write one sentence describing the task instruction, the skill it needs and the kind "
    "of answer expected, so that someone could recognise the task from it. "
    "Do not copy the examples. Answer with the sentence only."
)
TEMPLATE_FIELDS = {"k", "examples"}


def check_template(template: str) -> str:
    """Return ``template`` if it only uses the fields ``{k}`` and ``{examples}`` (the latter required)."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as err:
        raise ConfigError(f"prompt_template is not a valid format string ({err}); "
                          "escape literal braces as '{{' and '}}'.") from err
    unknown = fields - TEMPLATE_FIELDS
    if unknown or "examples" not in fields:
        raise ConfigError(
            f"prompt_template must contain '{{examples}}' and may use '{{k}}' only; "
            f"it uses {sorted(fields)}. Fix llm.prompt_template."
        )
    return template


def render_prompt(samples: Sequence[str], template: str = DEFAULT_PROMPT_TEMPLATE) -> str:
    """Fill ``template`` with the numbered ``samples``; raises if there are none."""
    texts = [str(s).strip() for s in samples]
    if not any(texts):
        raise InstructionError("cannot write an instruction from no sample inputs: pass at least one non-empty sample.")
    examples = "\n\n".join(f"Example {i}:\n{t}" for i, t in enumerate(texts, start=1))
    return template.format(k=len(texts), examples=examples)
