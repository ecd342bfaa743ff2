"""``llm=openai``: any OpenAI-compatible ``POST {base_url}/chat/completions`` endpoint.

Stdlib HTTP (urllib) with a hard timeout, bounded retries with exponential backoff on
connection errors, timeouts, HTTP 429/5xx and unusable answers; other 4xx fail at once.
"""

from __future__ import annotations

import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Sequence

from glider.errors import ConfigError, InstructionError
from glider.instruct.cache import InstructionCache
from glider.instruct.prompt import DEFAULT_PROMPT_TEMPLATE, check_template, render_prompt
from glider.instruct.writer import InstructionWriter

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class _Retryable(Exception):
    """A failed attempt that may succeed if tried again."""


def is_local(url: str) -> bool:
    """True if ``url`` points at this machine (an API key is then optional)."""
    host = (urllib.parse.urlparse(url).hostname or "").lower()
    return host in LOCAL_HOSTS or host.startswith("127.")


def _describe(err: BaseException) -> str:
    """A short human description of a network error."""
    reason = getattr(err, "reason", err)
    if isinstance(reason, TimeoutError) or isinstance(err, TimeoutError):
        return "timed out"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    return f"{type(reason).__name__}: {reason}"


def parse_answer(raw: bytes) -> str:
    """``choices[0].message.content`` stripped; raises ``_Retryable`` if absent or empty."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _Retryable(f"malformed JSON in the response: {raw[:200]!r}") from None
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _Retryable(f"no choices[0].message.content in the response: {raw[:200]!r}") from None
    if not isinstance(content, str) or not content.strip():
        raise _Retryable(f"empty instruction in the response (content={content!r})")
    return content.strip()


class OpenAIWriter(InstructionWriter):
    """Asks a chat-completions endpoint for one instruction per set of samples (greedy by default)."""

    backend = "openai"

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str | None = "OPENAI_API_KEY",
        timeout_s: float = 30.0,
        max_retries: int = 3,
        backoff_s: float = 1.0,
        temperature: float = 0.0,
        max_tokens: int = 128,
        cache_dir: str | os.PathLike | None = None,
        prompt_template: str | None = DEFAULT_PROMPT_TEMPLATE,
    ) -> None:
        if urllib.parse.urlparse(str(base_url)).scheme not in ("http", "https"):
            raise ConfigError(f"llm.base_url must start with http:// or https://, got {base_url!r}.")
        if not model:
            raise ConfigError("llm.model must name the model the endpoint serves.")
        if timeout_s <= 0 or max_retries < 0 or backoff_s < 0 or max_tokens <= 0:
            raise ConfigError(
                "llm.timeout_s and llm.max_tokens must be > 0, llm.max_retries and llm.backoff_s >= 0; "
                f"got timeout_s={timeout_s}, max_retries={max_retries}, backoff_s={backoff_s}, max_tokens={max_tokens}."
            )
        self.base_url = str(base_url).rstrip("/")
        self.endpoint = f"{self.base_url}/chat/completions"
        self.model = str(model)
        self.api_key_env = api_key_env or None
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.prompt_template = check_template(prompt_template or DEFAULT_PROMPT_TEMPLATE)
        self.cache = InstructionCache(cache_dir) if cache_dir else None
        self.name = f"openai:{self.model}"
        # Never route loopback traffic through an HTTP proxy from the environment.
        handlers = [urllib.request.ProxyHandler({})] if is_local(self.base_url) else []
        self._opener = urllib.request.build_opener(*handlers)

    def write(self, samples: Sequence[str], task: str | None = None) -> str:
        """Render the prompt from ``samples`` and return the endpoint's stripped answer (cached)."""
        prompt = render_prompt(samples, self.prompt_template)
        if self.cache is None:
            return self.complete(prompt)
        return self.cache.get_or_write(self.backend, self.model, prompt, self.complete)

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        elif self.api_key_env and not is_local(self.base_url):
            raise InstructionError(
                f"environment variable {self.api_key_env} is not set, but the LLM endpoint "
                f"{self.base_url} needs an API key. Export {self.api_key_env}=<key>, or set "
                "llm.api_key_env to the variable that holds it."
            )
        return headers

    def complete(self, prompt: str) -> str:
        """One chat completion for ``prompt``, with bounded retries; raises InstructionError."""
        headers = self._headers()
        body = json.dumps({
            "model": self.model,
            "messages": [{"role": "user", "content": prompt}],
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }).encode("utf-8")
        attempts = self.max_retries + 1
        problem = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            try:
                return parse_answer(self._post(body, headers))
            except _Retryable as err:
                problem = str(err)
        raise InstructionError(
            f"LLM endpoint {self.base_url} failed after {attempts} attempts: {problem}. "
            "Check llm.base_url / that the server is up (and llm.model, llm.timeout_s)."
        )

    def _post(self, body: bytes, headers: dict[str, str]) -> bytes:
        """One POST; returns the body of a 2xx answer, raises ``_Retryable`` or InstructionError."""
        request = urllib.request.Request(self.endpoint, data=body, headers=headers, method="POST")
        deadline = time.monotonic() + self.timeout_s
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                return self._read(response, deadline)
        except urllib.error.HTTPError as err:
            detail = self._error_detail(err)
            if err.code == 429 or err.code >= 500:
                raise _Retryable(f"HTTP {err.code} {err.reason}{detail}") from None
            raise InstructionError(
                f"LLM endpoint {self.base_url} rejected the request: HTTP {err.code} {err.reason}{detail}. "
                f"{self._hint(err.code)}"
            ) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as err:
            what = _describe(err)
            if what == "timed out":
                what = f"timed out after {self.timeout_s:g} s"
            raise _Retryable(what) from None

    def _read(self, response: http.client.HTTPResponse, deadline: float) -> bytes:
        """Read the whole body, giving up when the overall deadline passes.

        ``read1`` returns whatever one socket read gives, so a server that trickles its
        answer byte by byte is stopped at the deadline (``read(n)`` would wait for all n).
        """
        chunks: list[bytes] = []
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise _Retryable(f"timed out after {self.timeout_s:g} s (slow response)")
            chunk = response.read1(65536)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > MAX_RESPONSE_BYTES:
                raise _Retryable(f"response larger than {MAX_RESPONSE_BYTES} bytes")
            chunks.append(chunk)

    @staticmethod
    def _error_detail(err: urllib.error.HTTPError) -> str:
        try:
            text = err.read(300).decode("utf-8", "replace").strip()
        except Exception:  # the body of an error is only decoration
            text = ""
        return f" ({text})" if text else ""

    def _hint(self, code: int) -> str:
        if code in (401, 403):
            return f"Check the API key in ${self.api_key_env or '(llm.api_key_env is unset)'}."
        if code == 404:
            return "Check llm.base_url (usually ends in /v1) and llm.model."
        return "Check llm.model and the request options (llm.max_tokens, llm.temperature)."
