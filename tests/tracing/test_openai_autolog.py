"""``mlflow.openai.autolog()`` against a small OpenAI-compatible server on loopback: chat
calls become traces with token usage, and they search and read back."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import mlflow
import pytest

from tests.tracing.conftest import flush

openai = pytest.importorskip("openai")


class _Chat(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
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


@pytest.fixture
def llm_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Chat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_autolog(experiment: str, llm_url: str) -> None:
    mlflow.openai.autolog()
    try:
        client = openai.OpenAI(base_url=llm_url, api_key="test-key")
        reply = client.chat.completions.create(
            model="tiny-model", messages=[{"role": "user", "content": "hello"}]
        )
    finally:
        mlflow.openai.autolog(disable=True)
    assert reply.choices[0].message.content == "echo: hello"
    flush()
    (found,) = mlflow.search_traces(
        locations=[experiment], filter_string="span.type = 'CHAT_MODEL'", return_type="list"
    )
    assert found.info.token_usage == {"input_tokens": 7, "output_tokens": 3, "total_tokens": 10}
    (span,) = found.data.spans
    assert span.inputs["messages"] == [{"role": "user", "content": "hello"}]
    assert span.outputs["choices"][0]["message"]["content"] == "echo: hello"
