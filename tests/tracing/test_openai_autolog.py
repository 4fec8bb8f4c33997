"""``mlflow.openai.autolog()`` against a small OpenAI-compatible server on loopback: chat
calls become traces with token usage, and they search and read back."""

from __future__ import annotations

from collections.abc import Iterator

import mlflow
import pytest

from tests.support.fake_chat import chat_server
from tests.tracing.conftest import flush

openai = pytest.importorskip("openai")


@pytest.fixture
def llm_url() -> Iterator[str]:
    with chat_server() as url:
        yield url


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
