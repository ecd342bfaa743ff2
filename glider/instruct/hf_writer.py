"""``llm=hf``: a local transformers causal LM writes the instruction (greedy decoding)."""

from __future__ import annotations

import os
from typing import Any, Sequence

from glider.errors import ConfigError, InstructionError
from glider.instruct.cache import InstructionCache
from glider.instruct.offline import hub_offline, local_only
from glider.instruct.prompt import DEFAULT_PROMPT_TEMPLATE, check_template, render_prompt
from glider.instruct.writer import InstructionWriter


def first_line(text: str) -> str:
    """The first non-empty line of ``text``, stripped ("" if none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class HFWriter(InstructionWriter):
    """Loads ``model_name_or_path`` lazily on first use; the instruction is the first
    non-empty line of the greedy continuation (chat template applied when the tokenizer has one)."""

    backend = "hf"

    def __init__(
        self,
        model_name_or_path: str,
        max_new_tokens: int = 64,
        device: str = "cpu",
        cache_dir: str | os.PathLike | None = None,
        prompt_template: str | None = DEFAULT_PROMPT_TEMPLATE,
    ) -> None:
        if not model_name_or_path:
            raise ConfigError("llm.model_name_or_path must name a causal LM (hub id or local directory).")
        if max_new_tokens <= 0:
            raise ConfigError(f"llm.max_new_tokens must be > 0, got {max_new_tokens}.")
        self.model_name_or_path = str(model_name_or_path)
        self.model = self.model_name_or_path  # cache key
        self.max_new_tokens = int(max_new_tokens)
        self.device = device
        self.prompt_template = check_template(prompt_template or DEFAULT_PROMPT_TEMPLATE)
        self.cache = InstructionCache(cache_dir) if cache_dir else None
        self.name = f"hf:{os.path.basename(self.model_name_or_path.rstrip('/')) or self.model_name_or_path}"
        self._lm: Any = None
        self._tokenizer: Any = None
        self.generations = 0  # number of times the model was run (not served from the cache)

    def _load(self) -> None:
        """Load tokenizer and model once; one clear error if they cannot be loaded."""
        if self._lm is not None:
            return
        from transformers import AutoModelForCausalLM, AutoTokenizer

        only_local = local_only(self.model_name_or_path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(self.model_name_or_path, local_files_only=only_local)
            lm = AutoModelForCausalLM.from_pretrained(self.model_name_or_path, local_files_only=only_local)
        except Exception as err:  # transformers raises OSError, ValueError, KeyError... for bad paths
            offline = " (HF_HUB_OFFLINE is set, so nothing is downloaded)" if hub_offline() else ""
            raise InstructionError(
                f"cannot load the causal LM '{self.model_name_or_path}'{offline}: "
                f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}. "
                "Fix: set llm.model_name_or_path to a local directory holding config.json, the "
                "weights and a tokenizer (save_pretrained output), or download the model once while online."
            ) from err
        self._tokenizer = tokenizer
        self._lm = lm.to(self.device).eval()

    def _encode(self, prompt: str) -> Any:
        tokenizer = self._tokenizer
        if getattr(tokenizer, "chat_template", None):
            ids = tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True,
                return_tensors="pt", return_dict=True,
            )
            return {k: v.to(self.device) for k, v in ids.items()}
        return {k: v.to(self.device) for k, v in tokenizer(prompt, return_tensors="pt").items()}

    def generate(self, prompt: str) -> str:
        """Greedy continuation of ``prompt``, reduced to its first non-empty line; raises if empty."""
        import torch

        self._load()
        inputs = self._encode(prompt)
        pad_id = self._tokenizer.pad_token_id
        if pad_id is None:
            pad_id = self._tokenizer.eos_token_id
        with torch.inference_mode():
            out = self._lm.generate(
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=False, pad_token_id=pad_id,
            )
        self.generations += 1
        new_tokens = out[0, inputs["input_ids"].shape[1]:]
        answer = first_line(self._tokenizer.decode(new_tokens, skip_special_tokens=True))
        if not answer:
            raise InstructionError(
                f"the causal LM '{self.model_name_or_path}' wrote an empty instruction. "
                "Try a larger llm.max_new_tokens or an instruction-tuned model."
            )
        return answer

    def write(self, samples: Sequence[str], task: str | None = None) -> str:
        """Instruction for ``samples`` (cached when ``cache_dir`` is set); raises on an empty answer."""
        prompt = render_prompt(samples, self.prompt_template)
        if self.cache is None:
            return self.generate(prompt)
        return self.cache.get_or_write(self.backend, self.model, prompt, self.generate)
