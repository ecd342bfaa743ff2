"""Every conf/llm and conf/embedder file composes and instantiates without network or models."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

from glider.instruct.embedder import SentenceEmbedder
from glider.instruct.file_writer import FileWriter
from glider.instruct.hf_writer import HFWriter
from glider.instruct.none_writer import NoneWriter
from glider.instruct.embedding_file import EmbeddingFileSource
from glider.instruct.openai_writer import OpenAIWriter
from glider.instruct.paths import CONF_DIR, instructions_dir

EXPECTED = {
    ("llm", "none"): NoneWriter,
    ("llm", "file"): FileWriter,
    ("llm", "embeddings"): EmbeddingFileSource,
    ("llm", "openai"): OpenAIWriter,
    ("llm", "hf"): HFWriter,
    ("embedder", "minilm"): SentenceEmbedder,
    ("embedder", "nomic"): SentenceEmbedder,
}


def test_every_config_file_is_covered():
    found = {(p.parent.name, p.stem) for group in ("llm", "embedder") for p in (CONF_DIR / group).glob("*.yaml")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize("group, name", sorted(EXPECTED))
def test_config_instantiates(group, name, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # relative cache dirs land here; nothing is written by constructors
    released = "/released/gpt-generated-instruction-nomic-embeddings"  # read on first use only
    root = OmegaConf.create({group: OmegaConf.load(CONF_DIR / group / f"{name}.yaml"),
                             "paths": {"instructions_dir": str(instructions_dir().resolve())},
                             "instructions": {"texts": {"experts": "${paths.instructions_dir}/flan_instruction.json", "queries": None},
                                              "embeddings": {"experts": f"{released}/t0-v3", "queries": f"{released}/t0-v4"}}})
    assert "_target_" in root[group]
    obj = instantiate(root[group])
    assert isinstance(obj, EXPECTED[(group, name)])
    assert list(tmp_path.iterdir()) == []
    if isinstance(obj, FileWriter):
        assert obj.write([], "p3agnews")  # the default path resolves to the real shared file
    if isinstance(obj, SentenceEmbedder):
        assert obj._model is None  # lazy: nomic must not load here
    if isinstance(obj, HFWriter):
        assert obj._lm is None


def test_embedder_override_of_model_path():
    cfg = OmegaConf.load(CONF_DIR / "embedder" / "nomic.yaml")
    cfg.model_name_or_path = str(Path("/models/nomic"))
    assert instantiate(cfg).model_name_or_path == "/models/nomic"
