"""The expert library on disk.

    <library>/library.json                          index: backbone, target modules, experts (in order)
    <library>/experts/<name>/adapter_config.json    a valid PEFT LoRA adapter ...
    <library>/experts/<name>/adapter_model.safetensors
    <library>/experts/<name>/glider.safetensors     Phatgoose gates ("gate.<module>"), Arrow prototypes ("arrow.<module>")
    <library>/experts/<name>/card.json              task, sample inputs, instruction, what built each part
    <library>/embeddings/<embedder>/<name>.safetensors  instruction / training-input / probe-query embeddings

Every write is atomic; an expert directory appears complete or not at all, and the index
only names complete experts. Adding or removing an expert touches nothing of the others.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from glider.errors import LibraryError
from glider.io import atomic_directory, atomic_save_tensors, atomic_write_json, read_json
from glider.library.expert import Expert
from glider.library.peft_format import load_tensors, read_peft_adapter, write_peft_adapter

FORMAT = "glider-library/1"
INDEX = "library.json"
ROUTING_KEYS = "glider.safetensors"
CARD = "card.json"
log = logging.getLogger("glider")


class ExpertLibrary:
    """A directory of LoRA experts with an index; knows nothing of routing."""

    def __init__(self, root: str | Path, index: dict[str, Any]) -> None:
        self.root = Path(root)
        self.index = index

    # ---------------------------------------------------------------- open / create
    @classmethod
    def open(cls, root: str | Path, check: bool = True) -> "ExpertLibrary":
        """Open an existing library; a missing directory or index is one clear error.

        ``check``: every expert the index names must have its adapter on disk.
        """
        root = Path(root)
        if not root.is_dir():
            raise LibraryError(
                f"Library directory '{root}' does not exist. Build it with `python -m glider.run stage=all "
                f"library.dir={root}` or point library.dir at an existing library."
            )
        if not (root / INDEX).is_file():
            raise LibraryError(f"'{root}' has no {INDEX}: it is not a glider library (or it was never completed).")
        try:
            index = read_json(root / INDEX)
        except ValueError as err:
            raise LibraryError(f"Cannot parse {root / INDEX}: {err}. Restore it or rebuild the library.") from None
        entries = index.get("experts") if isinstance(index, dict) else None
        if not isinstance(entries, list) or not all(isinstance(e, dict) and "name" in e and "task" in e for e in entries):
            raise LibraryError(f"{root / INDEX} is not a glider library index (it needs a list 'experts' of "
                               "{name, task} entries). Restore it or rebuild the library.")
        library = cls(root, index)
        if check:
            library.check_experts_present()
        return library

    @classmethod
    def open_or_create(cls, root: str | Path, backbone: dict[str, Any], target_modules: list[str]) -> "ExpertLibrary":
        """Open the library at ``root`` for building (index entries without files are dropped,
        so the stage that makes them rebuilds them), or create an empty one for ``backbone``."""
        root = Path(root)
        if (root / INDEX).is_file():
            library = cls.open(root, check=False)
            if library.index.get("backbone", {}).get("fingerprint") != backbone.get("fingerprint"):
                raise LibraryError(
                    f"Library '{root}' was built for backbone {library.index.get('backbone')} but this run uses "
                    f"{backbone}. Use another library.dir, or delete the library to rebuild it."
                )
            library.drop_missing()
            return library
        index = {"format": FORMAT, "backbone": backbone, "target_modules": list(target_modules), "experts": []}
        root.mkdir(parents=True, exist_ok=True)
        atomic_write_json(root / INDEX, index)
        return cls(root, index)

    # ---------------------------------------------------------------- index
    @property
    def names(self) -> list[str]:
        return [e["name"] for e in self.index["experts"]]

    @property
    def tasks(self) -> list[str]:
        return [e["task"] for e in self.index["experts"]]

    @property
    def backbone(self) -> dict[str, Any]:
        return self.index.get("backbone", {})

    def __len__(self) -> int:
        return len(self.index["experts"])

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def expert_dir(self, name: str) -> Path:
        return self.root / "experts" / name

    def check_experts_present(self) -> None:
        """Every expert the index names has its adapter on disk."""
        for name in self.names:
            adapter = self.expert_dir(name) / "adapter_model.safetensors"
            if not adapter.is_file():
                raise LibraryError(
                    f"{self.root / INDEX} names expert '{name}' but {adapter} is missing. Rerun the stage that "
                    "builds it (stage=experts, or stage=import for an imported expert): the build drops the entry "
                    "and makes the expert again."
                )

    def drop_missing(self) -> list[str]:
        """Remove index entries whose adapter is not on disk (with a warning each); returns their names."""
        missing = [n for n in self.names if not (self.expert_dir(n) / "adapter_model.safetensors").is_file()]
        if missing:
            for name in missing:
                log.warning("library: %s names expert '%s' but its files are missing; dropped from the index "
                            "(the stage that makes it rebuilds it)", self.root / INDEX, name)
            self.index["experts"] = [e for e in self.index["experts"] if e["name"] not in missing]
            self._save_index()
        return missing

    def _save_index(self) -> None:
        atomic_write_json(self.root / INDEX, self.index)

    # ---------------------------------------------------------------- experts
    def add(self, expert: Expert) -> None:
        """Write the expert's directory atomically, then list it in the index (replacing a same-named one)."""
        _refuse_non_finite(expert, {"lora_A": expert.lora_A, "lora_B": expert.lora_B, "gate": expert.gates, "arrow": expert.prototypes})
        with atomic_directory(self.expert_dir(expert.name)) as tmp:
            write_peft_adapter(tmp, expert.lora_A, expert.lora_B, expert.rank, expert.lora_alpha, self.backbone.get("id"))
            self._write_routing_keys(tmp, expert)
            atomic_write_json(tmp / CARD, {"name": expert.name, "task": expert.task, **expert.card})
        entries = [e for e in self.index["experts"] if e["name"] != expert.name]
        position = self.names.index(expert.name) if expert.name in self.names else len(entries)
        entries.insert(position, {"name": expert.name, "task": expert.task})
        self.index["experts"] = entries
        self._save_index()

    def remove(self, name: str) -> None:
        """Drop an expert from the index, then delete its directory and embeddings."""
        if name not in self:
            raise LibraryError(f"No expert '{name}' in library {self.root}. Experts: {', '.join(self.names)}.")
        self.index["experts"] = [e for e in self.index["experts"] if e["name"] != name]
        self._save_index()
        shutil.rmtree(self.expert_dir(name), ignore_errors=True)
        for path in (self.root / "embeddings").glob(f"*/{name}.safetensors"):
            path.unlink(missing_ok=True)

    def load(self, name: str, with_keys: bool = True) -> Expert:
        """Read one expert (LoRA weights, routing keys, card)."""
        directory = self.expert_dir(name)
        lora_A, lora_B, rank, alpha = read_peft_adapter(directory)
        card = self.card(name)
        expert = Expert(name=name, task=card.get("task", name), rank=rank, lora_alpha=alpha, lora_A=lora_A, lora_B=lora_B, card=card)
        if with_keys and (directory / ROUTING_KEYS).is_file():
            for key, value in load_tensors(directory / ROUTING_KEYS).items():
                kind, module = key.split(".", 1)
                if kind == "gate":
                    expert.gates[module] = value.float()
                elif kind == "arrow":
                    expert.prototypes[module] = value.float()
        return expert

    def load_all(self) -> list[Expert]:
        return [self.load(name) for name in self.names]

    def card(self, name: str) -> dict[str, Any]:
        """The expert's card.json ({} when absent); an unreadable card is one clear error."""
        path = self.expert_dir(name) / CARD
        if not path.is_file():
            return {}
        try:
            card = read_json(path)
        except (OSError, ValueError) as err:
            raise LibraryError(f"Cannot parse {path} ({err}): the card is corrupted. Delete the expert's directory "
                               "and rerun the stage that builds it (or re-import the expert).") from None
        if not isinstance(card, dict):
            raise LibraryError(f"{path} must hold a JSON object; delete the expert's directory and rebuild it.")
        return card

    def update_card(self, name: str, **fields: Any) -> None:
        """Merge fields into an expert's card.json (atomic)."""
        card = self.card(name)
        card.update(fields)
        atomic_write_json(self.expert_dir(name) / CARD, card)

    def save_routing_keys(self, expert: Expert) -> None:
        """Rewrite an expert's gates/prototypes file (atomic)."""
        _refuse_non_finite(expert, {"gate": expert.gates, "arrow": expert.prototypes})
        self._write_routing_keys(self.expert_dir(expert.name), expert)

    @staticmethod
    def _write_routing_keys(directory: Path, expert: Expert) -> None:
        tensors = {f"gate.{m}": g for m, g in expert.gates.items()}
        tensors.update({f"arrow.{m}": p for m, p in expert.prototypes.items()})
        if tensors:
            atomic_save_tensors(directory / ROUTING_KEYS, tensors)
        else:
            (directory / ROUTING_KEYS).unlink(missing_ok=True)

    # ---------------------------------------------------------------- embeddings
    def embedding_path(self, embedder: str, name: str) -> Path:
        return self.root / "embeddings" / embedder / f"{name}.safetensors"

    def save_embeddings(self, embedder: str, name: str, tensors: dict[str, Tensor], metadata: dict[str, str]) -> None:
        atomic_save_tensors(self.embedding_path(embedder, name), tensors, metadata=metadata)

    def load_embeddings(self, embedder: str, name: str) -> dict[str, Tensor] | None:
        path = self.embedding_path(embedder, name)
        fix = f"Delete it and rerun stage=describe with embedder={embedder}."
        return load_tensors(path, fix) if path.is_file() else None

    def embedding_metadata(self, embedder: str, name: str) -> dict[str, str] | None:
        from safetensors import safe_open

        path = self.embedding_path(embedder, name)
        if not path.is_file():
            return None
        try:
            with safe_open(str(path), framework="pt") as f:
                return dict(f.metadata() or {})
        except Exception:  # a corrupted file counts as absent: the describe stage rewrites it
            return None


def _refuse_non_finite(expert: Expert, parts: dict[str, dict[str, Tensor]]) -> None:
    """The library never stores NaN/inf: a diverged training fails here, before anything is written."""
    for kind, tensors in parts.items():
        for module, value in tensors.items():
            if not torch.isfinite(value).all():
                raise LibraryError(
                    f"Expert '{expert.name}' has NaN/inf in its {kind} of module '{module}', so it is not written to the "
                    "library (finished experts are kept). Its training diverged: lower the learning rate "
                    "(library.experts.lr / library.gates.lr) or check the training data, then rerun."
                )
