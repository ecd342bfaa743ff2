"""A scripted OpenAI-compatible server on 127.0.0.1 (ephemeral port) for tests."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def chat_reply(content: Any) -> dict:
    """A chat-completions response body whose answer is ``content``."""
    return {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}


@dataclass
class Reply:
    """One scripted answer: HTTP status, body (dict -> JSON, str/bytes sent as is), delay before answering,
    and ``trickle_s``: a pause before each byte of the body (a server that answers, but very slowly)."""

    status: int = 200
    body: Any = field(default_factory=lambda: chat_reply("Classify the sentiment of a review."))
    delay_s: float = 0.0
    trickle_s: float = 0.0


class FakeLLM:
    """Serves ``script`` in order (the last reply repeats); records every request."""

    def __init__(self, script: list[Reply] | None = None) -> None:
        self.script = list(script or [Reply()])
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server naming)
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                with fake._lock:
                    fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(raw)})
                    reply = fake.script[min(len(fake.requests), len(fake.script)) - 1]
                time.sleep(reply.delay_s)
                body = reply.body
                data = json.dumps(body).encode() if isinstance(body, (dict, list)) else (body.encode() if isinstance(body, str) else body)
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    if reply.trickle_s:
                        for i in range(len(data)):
                            self.wfile.write(data[i : i + 1])
                            self.wfile.flush()
                            time.sleep(reply.trickle_s)
                    else:
                        self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> "FakeLLM":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
