"""A small OpenAI-compatible chat server on loopback, for autologging with no network.

It answers chat completions with an echo of the last message and a fixed token usage
(7 in, 3 out), optionally after thinking for a while.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _handler(thinking_seconds: float) -> type[BaseHTTPRequestHandler]:
    class Chat(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            time.sleep(thinking_seconds)
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            question = request["messages"][-1]["content"]
            body = json.dumps(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 1_700_000_000,
                    "model": request["model"],
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": f"echo: {question}"},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    return Chat


@contextmanager
def chat_server(thinking_seconds: float = 0.0) -> Iterator[str]:
    """The server's OpenAI base URL (``http://127.0.0.1:<port>/v1``) while it runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(thinking_seconds))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
