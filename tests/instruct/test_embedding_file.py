"""llm=embeddings: the released per-task instruction embeddings, expert side and query side from two files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from glider.errors import ConfigError, InstructionError
from glider.instruct.embedding_file import EmbeddingFileSource
from glider.routers.base import ExpertSide, QueryBatch
from glider.routers.instruction import InstructionScorer
from tests.library.release_files import EMBEDDINGS, random_embeddings, write_embedding_release

EXPERTS = ["p3agnews", "p3imdb", "p3samsum"]


@pytest.fixture
def released(tmp_path: Path) -> Path:
    write_embedding_release(tmp_path, {"t0-v3": random_embeddings(EXPERTS, dim=6, seed=1),
                                       "t0-v4": random_embeddings(EXPERTS + ["p3copa"], dim=6, seed=2),
                                       "flan-v2": random_embeddings(EXPERTS, dim=6, seed=3)})
    return tmp_path / EMBEDDINGS


def test_both_released_layouts_and_per_task_cosine(released: Path) -> None:
    # t0-v3 keeps its file under checkpoints/, flan-v2 at the top: a folder of either layout works, and the file itself
    source = EmbeddingFileSource(released / "t0-v3", released / "t0-v4" / "checkpoints" / "nomic_instruction_embedding.pt")
    experts = source.expert_embeddings(EXPERTS)
    queries = source.query_embeddings(["p3imdb", "p3copa"])
    v3 = torch.load(released / "t0-v3" / "checkpoints" / "nomic_instruction_embedding.pt", weights_only=True)
    v4 = torch.load(released / "t0-v4" / "checkpoints" / "nomic_instruction_embedding.pt", weights_only=True)
    assert torch.equal(experts, torch.stack([v3[t] for t in EXPERTS])) and torch.equal(queries["p3copa"], v4["p3copa"])
    scorer = InstructionScorer()
    scorer.bind(ExpertSide(names=EXPERTS, tasks=EXPERTS, instruction_emb=experts))
    got = scorer.scores(QueryBatch(tasks=["p3imdb"], instruction_emb=queries["p3imdb"][None]))
    want = torch.nn.functional.cosine_similarity(torch.stack([v3[t] for t in EXPERTS]), v4["p3imdb"][None])  # the original's formula
    torch.testing.assert_close(got[0], want)
    assert float(got[0, 1]) < 1.0  # two generations: the own expert is not a copy of the query
    assert EmbeddingFileSource(released / "flan-v2", released / "t0-v4").expert_embeddings(EXPERTS).shape == (3, 6)


def test_bias_routing_dim_reproduces_the_original_slice(released: Path) -> None:
    whole = EmbeddingFileSource(released / "t0-v3", released / "t0-v4")
    original = EmbeddingFileSource(released / "t0-v3", released / "t0-v4", bias_routing_dim=-1)
    assert whole.dim == 6 and original.dim == 5
    torch.testing.assert_close(original.expert_embeddings(EXPERTS), whole.expert_embeddings(EXPERTS)[:, :-1])
    torch.testing.assert_close(EmbeddingFileSource(released / "t0-v3", released / "t0-v4", bias_routing_dim=4).query_embeddings(["p3imdb"])["p3imdb"],
                               whole.query_embeddings(["p3imdb"])["p3imdb"][:4])
    with pytest.raises(ConfigError, match="bias_routing_dim"):
        EmbeddingFileSource(released / "t0-v3", released / "t0-v4", bias_routing_dim="last")  # type: ignore[arg-type]


def test_missing_tasks_name_the_side_the_file_and_close_matches(released: Path) -> None:
    source = EmbeddingFileSource(released / "t0-v3", released / "t0-v4")
    with pytest.raises(InstructionError, match=r"task 'p3copa' has no embedding in .*t0-v3.*experts' side.*llm.experts"):
        source.expert_embeddings(["p3agnews", "p3copa"])
    with pytest.raises(InstructionError, match=r"task 'p3imbd' has no embedding in .*t0-v4.*queries' side.*Close matches: p3imdb"):
        source.query_embeddings(["p3imbd"])
    with pytest.raises(ConfigError, match="instructions.embeddings.experts"):
        EmbeddingFileSource(None, released / "t0-v4")


def _file(tmp_path: Path, name: str, obj: object) -> Path:
    torch.save(obj, tmp_path / name)
    return tmp_path / name


@pytest.mark.parametrize("content,message", [
    ([torch.zeros(3)], "holds a list, not a dict"),
    ({}, r"\(empty\)"),
    ({"p3agnews": "text"}, "entry 'p3agnews' is str"),
    ({"p3agnews": torch.zeros(2, 3)}, r"a tensor of shape \(2, 3\)"),
    ({"p3agnews": torch.tensor([1.0, float("nan")])}, "task 'p3agnews' holds NaN/inf"),
    ({"p3agnews": torch.zeros(3), "p3imdb": torch.zeros(4)}, r"mixes embedding sizes \[3, 4\]"),
])
def test_bad_files_are_one_clear_error(tmp_path: Path, released: Path, content: object, message: str) -> None:
    bad = _file(tmp_path, "bad.pt", content)
    with pytest.raises(InstructionError, match=message):
        EmbeddingFileSource(bad, released / "t0-v4").expert_embeddings(["p3agnews"])


def test_sides_of_different_sizes_and_missing_files(tmp_path: Path, released: Path) -> None:
    other = _file(tmp_path, "other.pt", random_embeddings(EXPERTS, dim=7))
    with pytest.raises(InstructionError, match="dimension 6 but the query-side ones .* have 7"):
        EmbeddingFileSource(released / "t0-v3", other).expert_embeddings(EXPERTS)
    with pytest.raises(InstructionError, match="does not exist.*paths.released_dir"):
        EmbeddingFileSource(tmp_path / "nope.pt", released / "t0-v4").expert_embeddings(EXPERTS)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InstructionError, match="holds no nomic_instruction_embedding.pt"):
        EmbeddingFileSource(tmp_path / "empty", released / "t0-v4").expert_embeddings(EXPERTS)
    (tmp_path / "damaged.pt").write_bytes(b"not a torch file")
    with pytest.raises(InstructionError, match="cannot read embedding file"):
        EmbeddingFileSource(tmp_path / "damaged.pt", released / "t0-v4").expert_embeddings(EXPERTS)


def test_it_gives_no_texts(released: Path) -> None:
    with pytest.raises(InstructionError, match="gives embeddings, not instruction texts"):
        EmbeddingFileSource(released / "t0-v3", released / "t0-v4").write([], "p3agnews")
