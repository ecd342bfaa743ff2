"""A flaky LLM endpoint (a scripted server on 127.0.0.1) met through ``stage=describe llm=openai``:
bounded retries, one clear error, nothing cached or stored from a failed answer."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from glider.instruct.cache import InstructionCache
from glider.library.library import ExpertLibrary
from tests.instruct.fake_llm import FakeLLM, Reply, chat_reply
from tests.reliability.cli import WORLD, assert_clean_error, run_in_process
from tests.reliability.conftest import World

pytestmark = pytest.mark.slow


def describe(url: str, cache: Path, *extra: str) -> list[str]:
    """describe with an OpenAI-compatible endpoint: one prompt per expert (no probes), fast retries."""
    return [*WORLD, "stage=describe", "llm=openai", f"llm.base_url={url}", "llm.model=tiny-chat", f"llm.cache_dir={cache}",
            "llm.timeout_s=0.5", "llm.max_retries=2", "llm.backoff_s=0.01", "library.describe.probe_queries=0", *extra]


def _embedding_times(world: World) -> dict[Path, int]:
    return {p: p.stat().st_mtime_ns for p in (world.library / "embeddings").rglob("*.safetensors")}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("fault, problem", [
    ("refused", "connection refused"),
    (Reply(delay_s=2.0), "timed out after 0.5 s"),
    (Reply(body="<html>502 Bad Gateway</html>"), "malformed JSON"),
    (Reply(body=chat_reply("  ")), "empty instruction"),
])
def test_endpoint_fault_is_one_clear_error_and_nothing_is_kept(world_copy: World, tmp_path: Path, capsys: pytest.CaptureFixture,
                                                              fault: object, problem: str) -> None:
    before = _embedding_times(world_copy)
    cache = tmp_path / "cache"
    start = time.monotonic()
    if fault == "refused":
        url = f"http://127.0.0.1:{_closed_port()}/v1"
        outcome = run_in_process(world_copy.root, describe(url, cache), capsys)
    else:
        with FakeLLM([fault]) as server:
            url = server.url
            outcome = run_in_process(world_copy.root, describe(url, cache), capsys)
        assert len(server.requests) == 3  # 1 + llm.max_retries, then it stops
    assert time.monotonic() - start < 60
    assert_clean_error(outcome, f"LLM endpoint {url} failed after 3 attempts: {problem}", "llm.base_url")
    assert len(InstructionCache(cache)) == 0
    assert _embedding_times(world_copy) == before


def test_500_then_200_is_retried_and_only_good_answers_are_cached(world_copy: World, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cache = tmp_path / "cache"
    with FakeLLM([Reply(500, {"error": "busy"}), Reply(body=chat_reply("Answer about the thing."))]) as server:
        outcome = run_in_process(world_copy.root, describe(server.url, cache), capsys)
        assert outcome.code == 0, outcome.stderr[-3000:]
        assert len(server.requests) == 4  # one 500, then one good answer per expert
        again = run_in_process(world_copy.root, describe(server.url, cache, "library.describe.k=2"), capsys)
    assert again.code == 0
    library = ExpertLibrary.open(world_copy.library)
    for name in library.names:
        card = library.card(name)
        assert card["instruction"] == "Answer about the thing." and card["instruction_llm"] == "openai:tiny-chat"
    assert len(InstructionCache(cache)) == 6  # 3 experts x 2 prompt sizes; never the 500
