"""OpenAIWriter against a local scripted server: happy path, cache, and faults."""

from __future__ import annotations

import socket
import time

import pytest

from glider.errors import ConfigError, InstructionError
from glider.instruct.cache import InstructionCache
from glider.instruct.openai_writer import OpenAIWriter
from glider.instruct.prompt import render_prompt

from .fake_llm import FakeLLM, Reply, chat_reply

SAMPLES = ["I loved this film.", "Terrible acting.", "A fine evening at the movies."]


def make_writer(url: str, **kw) -> OpenAIWriter:
    opts = dict(model="tiny-chat", timeout_s=2.0, max_retries=2, backoff_s=0.01)
    opts.update(kw)
    return OpenAIWriter(url, **opts)


def test_happy_path_request_and_stripped_answer(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with FakeLLM([Reply(body=chat_reply("  Classify movie reviews by sentiment.\n"))]) as server:
        writer = make_writer(server.url)
        assert writer.write(SAMPLES, task="imdb") == "Classify movie reviews by sentiment."
    (req,) = server.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["body"]["model"] == "tiny-chat"
    assert req["body"]["messages"] == [{"role": "user", "content": render_prompt(SAMPLES)}]
    assert "Authorization" not in req["headers"]  # localhost needs no key
    assert writer.name == "openai:tiny-chat"


def test_api_key_sent_when_set(monkeypatch):
    monkeypatch.setenv("GLIDER_TEST_KEY", "sk-test")
    with FakeLLM() as server:
        make_writer(server.url, api_key_env="GLIDER_TEST_KEY").write(SAMPLES)
    assert server.requests[0]["headers"]["Authorization"] == "Bearer sk-test"


def test_missing_api_key_for_remote_endpoint(monkeypatch):
    monkeypatch.delenv("GLIDER_TEST_KEY", raising=False)
    writer = make_writer("https://llm.example.invalid/v1", api_key_env="GLIDER_TEST_KEY")
    with pytest.raises(InstructionError, match="GLIDER_TEST_KEY is not set"):
        writer.write(SAMPLES)


def test_cache_second_call_sends_no_request(tmp_path):
    with FakeLLM() as server:
        writer = make_writer(server.url, cache_dir=tmp_path)
        first = writer.write(SAMPLES)
        again = make_writer(server.url, cache_dir=tmp_path).write(SAMPLES)  # a fresh writer reads the disk
        assert first == again and len(server.requests) == 1
        make_writer(server.url, cache_dir=tmp_path).write(SAMPLES[:2])  # another prompt is asked
        assert len(server.requests) == 2
    assert len(InstructionCache(tmp_path)) == 2


def test_500_then_200_succeeds_on_retry(tmp_path):
    with FakeLLM([Reply(500, {"error": "busy"}), Reply(body=chat_reply("Rate sentiment."))]) as server:
        assert make_writer(server.url, cache_dir=tmp_path).write(SAMPLES) == "Rate sentiment."
    assert len(server.requests) == 2
    cache = InstructionCache(tmp_path)  # only the good answer is stored
    assert len(cache) == 1 and cache.get("openai", "tiny-chat", render_prompt(SAMPLES)) == "Rate sentiment."


def test_429_is_retried():
    with FakeLLM([Reply(429, {"error": "slow down"}), Reply()]) as server:
        make_writer(server.url).write(SAMPLES)
    assert len(server.requests) == 2


def _assert_failed(err: pytest.ExceptionInfo, url: str, attempts: int, problem: str) -> None:
    message = str(err.value)
    assert f"LLM endpoint {url} failed after {attempts} attempts" in message
    assert problem in message and "llm.base_url" in message


@pytest.mark.parametrize(
    "reply, problem",
    [
        (Reply(500, {"error": "boom"}), "HTTP 500"),
        (Reply(body="this is not json"), "malformed JSON"),
        (Reply(body={"choices": []}), "no choices[0].message.content"),
        (Reply(body=chat_reply("   \n ")), "empty instruction"),
        (Reply(body=chat_reply(None)), "empty instruction"),
    ],
)
def test_bad_answers_retry_then_fail_and_cache_nothing(tmp_path, reply, problem):
    with FakeLLM([reply]) as server:
        with pytest.raises(InstructionError) as err:
            make_writer(server.url, cache_dir=tmp_path, max_retries=2).write(SAMPLES)
    assert len(server.requests) == 3  # max_retries + 1
    _assert_failed(err, server.url, 3, problem)
    assert len(InstructionCache(tmp_path)) == 0


def test_other_4xx_fails_at_once():
    with FakeLLM([Reply(404, {"error": "no such model"})]) as server:
        with pytest.raises(InstructionError, match=r"HTTP 404.*no such model.*llm.model"):
            make_writer(server.url).write(SAMPLES)
    assert len(server.requests) == 1


def test_connection_refused_is_bounded(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    start = time.monotonic()
    with pytest.raises(InstructionError) as err:
        make_writer(url, cache_dir=tmp_path, max_retries=1).write(SAMPLES)
    assert time.monotonic() - start < 5
    _assert_failed(err, url, 2, "connection refused")
    assert len(InstructionCache(tmp_path)) == 0


def test_slow_answer_times_out(tmp_path):
    with FakeLLM([Reply(delay_s=0.8)]) as server:
        start = time.monotonic()
        with pytest.raises(InstructionError) as err:
            make_writer(server.url, cache_dir=tmp_path, timeout_s=0.2, max_retries=1).write(SAMPLES)
        elapsed = time.monotonic() - start
    assert elapsed < 2.0  # 2 attempts x 0.2 s + backoff, never the server's 0.8 s each
    assert len(server.requests) == 2
    _assert_failed(err, server.url, 2, "timed out after 0.2 s")
    assert len(InstructionCache(tmp_path)) == 0


def test_trickling_answer_is_cut_at_the_deadline(tmp_path):
    # every byte arrives well within the socket timeout, but the whole answer would take ~10 s
    with FakeLLM([Reply(trickle_s=0.05)]) as server:
        start = time.monotonic()
        with pytest.raises(InstructionError) as err:
            make_writer(server.url, cache_dir=tmp_path, timeout_s=0.5, max_retries=1).write(SAMPLES)
        elapsed = time.monotonic() - start
    assert elapsed < 3.0
    _assert_failed(err, server.url, 2, "timed out after 0.5 s (slow response)")
    assert len(InstructionCache(tmp_path)) == 0


def test_config_errors():
    with pytest.raises(ConfigError, match="base_url"):
        OpenAIWriter("127.0.0.1:8000/v1", model="m")
    with pytest.raises(ConfigError, match="timeout_s"):
        OpenAIWriter("http://127.0.0.1:1/v1", model="m", timeout_s=0)
    with pytest.raises(ConfigError, match="prompt_template"):
        OpenAIWriter("http://127.0.0.1:1/v1", model="m", prompt_template="no examples")
