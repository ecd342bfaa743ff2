"""Load a seq2seq backbone and its tokenizer: a hub id, a local path, or a tiny T5 built from a config."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, ByT5Tokenizer, T5Config, T5ForConditionalGeneration

from glider.errors import ConfigError, LibraryError

BACKBONE_INFO = "glider_backbone.json"
SOURCES = ("tiny", "pretrained")


@dataclass(frozen=True)
class Backbone:
    """A ``conf/model/*.yaml`` (``_target_: glider.backbone.make_backbone``): where the backbone comes from.

    ``tiny``: a T5 built from ``config`` with a file-free ``tokenizer`` (word or byte) and pretrained
    here by the backbone stage (``pretrain``); ``pretrained``: a hub id or local directory.
    """

    name: str
    source: str
    max_source_length: int
    max_target_length: int
    target_modules: list[str]
    name_or_path: str | None = None
    revision: str | None = None
    tokenizer: str = "word"
    config: dict[str, Any] | None = None
    pretrain: dict[str, Any] | None = None
    cpu_threads: int | None = None  # intra-op CPU threads of a run (null: torch's default)

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ConfigError(f"model.source must be 'tiny' or 'pretrained', got '{self.source}'.")
        if self.source == "pretrained" and not self.name_or_path:
            raise ConfigError(f"model={self.name}: a pretrained backbone needs model.name_or_path (a hub id or a local directory).")
        if self.source == "tiny" and not self.config:
            raise ConfigError(f"model={self.name}: a tiny backbone needs model.config (the T5Config values).")

    def load(self, built: Path) -> tuple[Any, Any]:
        """(model, tokenizer): the tiny backbone saved in ``built`` by the backbone stage, or the pretrained one."""
        if self.source == "pretrained":
            return load_pretrained(str(self.name_or_path), self.revision)
        if not (built / "config.json").is_file():
            raise ConfigError(f"The tiny backbone {built} is not built yet: run stage=backbone (or stage=all).")
        try:
            return load_saved_backbone(built)
        except (OSError, ValueError, RuntimeError) as err:  # a damaged file: transformers / safetensors errors
            first = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise LibraryError(
                f"Cannot load the tiny backbone {built} ({first}): its files are damaged. "
                "Delete that folder and rerun stage=backbone (or stage=all) to rebuild it from the same config."
            ) from None

    def fresh_tokenizer(self, vocabulary: list[str] | None) -> Any:
        """The tiny backbone's tokenizer, built without files."""
        return build_tokenizer(self.tokenizer, vocabulary)


def make_backbone(**values: Any) -> Backbone:
    """The :class:`Backbone` of a model config; a key it does not take is an error naming it."""
    known = [f.name for f in fields(Backbone)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"Unknown model key(s) {', '.join('model.' + k for k in unknown)}: a model config takes {', '.join(known)}.")
    missing = [f.name for f in fields(Backbone) if f.default is MISSING and f.name not in values]
    if missing:
        raise ConfigError(f"The model config lacks {', '.join('model.' + k for k in missing)}.")
    return Backbone(**values)


def fingerprint(obj: Any) -> str:
    """Short stable hash of a JSON-able object (used to key artifacts by the config that made them)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def build_tiny_t5(config: dict[str, Any], vocab_size: int, pad_id: int = 0, eos_id: int = 1) -> T5ForConditionalGeneration:
    """A randomly initialised T5 from a small config (gated-gelu like t5-xl-lm-adapt by default)."""
    cfg = T5Config(
        vocab_size=vocab_size,
        decoder_start_token_id=pad_id,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        **{"feed_forward_proj": "gated-gelu", "dropout_rate": 0.0, "tie_word_embeddings": False, **config},
    )
    return T5ForConditionalGeneration(cfg)


def build_tokenizer(kind: str, vocabulary: list[str] | None) -> Any:
    """A tokenizer that needs no files: 'word' (closed vocabulary of the task source) or 'byte' (ByT5)."""
    if kind == "byte":
        return ByT5Tokenizer()
    if kind == "word":
        if not vocabulary:
            raise ConfigError(
                "model.tokenizer=word needs a task source with a closed vocabulary (task=synthetic); "
                "for other tasks use model=t5_tiny_bytes or a pretrained backbone."
            )
        from glider.data.synthetic import build_word_tokenizer

        return build_word_tokenizer(vocabulary)
    raise ConfigError(f"Unknown model.tokenizer '{kind}': use 'word' or 'byte'.")


def load_pretrained(name_or_path: str, revision: str | None = None) -> tuple[Any, Any]:
    """A hub id or a local directory; offline and not cached is one clear error."""
    offline = os.environ.get("HF_HUB_OFFLINE", "0") == "1" or os.environ.get("TRANSFORMERS_OFFLINE", "0") == "1"
    local = Path(name_or_path).is_dir()
    try:
        tokenizer = AutoTokenizer.from_pretrained(name_or_path, revision=revision, local_files_only=offline and not local)
        model = AutoModelForSeq2SeqLM.from_pretrained(name_or_path, revision=revision, local_files_only=offline and not local)
    except (OSError, ValueError) as err:
        where = "the local directory" if local else "the Hugging Face hub (or its local cache)"
        raise ConfigError(
            f"Cannot load backbone '{name_or_path}' from {where}: {str(err).splitlines()[0]}. "
            "Download it on a machine with network (huggingface-cli download ...) and set model.name_or_path "
            "to the local directory, or unset HF_HUB_OFFLINE when the hub is reachable."
        ) from None
    return model, tokenizer


def save_backbone(model: Any, tokenizer: Any, directory: Path, info: dict[str, Any]) -> None:
    """save_pretrained model + tokenizer and a small info file (written last: it marks completion)."""
    from glider.io import atomic_directory, atomic_write_json

    with atomic_directory(directory) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        atomic_write_json(tmp / BACKBONE_INFO, info)


def read_backbone_info(directory: Path) -> dict[str, Any] | None:
    path = Path(directory) / BACKBONE_INFO
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except ValueError:
        return None


def load_saved_backbone(directory: Path) -> tuple[Any, Any]:
    """A backbone written by ``save_backbone``."""
    tokenizer = AutoTokenizer.from_pretrained(str(directory))
    model = T5ForConditionalGeneration.from_pretrained(str(directory))
    return model, tokenizer
