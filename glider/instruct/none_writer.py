"""``llm=none``: no LLM; the "instruction" is the sample inputs themselves."""

from __future__ import annotations

from typing import Sequence

from glider.errors import InstructionError
from glider.instruct.writer import InstructionWriter


class NoneWriter(InstructionWriter):
    """Returns the samples joined with newlines (the project default; needs no model)."""

    name = "none"
    instruction_is_samples = True  # describe embeds the samples one by one and averages them

    def write(self, samples: Sequence[str], task: str | None = None) -> str:
        """Join the samples with "\\n"; raises if there is nothing to join."""
        text = "\n".join(str(s) for s in samples)
        if not text.strip():
            where = f" of task '{task}'" if task else ""
            raise InstructionError(f"llm=none needs at least one non-empty sample input{where}, got none.")
        return text

    def write_many(self, requests: Sequence[tuple[Sequence[str], str | None]]) -> list[str]:
        """Instant: no progress bar."""
        return [self.write(samples, task) for samples, task in requests]
