"""The local server's HTTP layer: lifecycle, bounded reads, malformed requests, routing.

Requests here are written with ``http.client`` and raw sockets, so they can be as wrong as
a test needs them to be.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from claudevision.testing import ClaudeServer, Reply
from claudevision.testing._routes import Route, match_route
from claudevision.testing._rules import LIMITS

MODEL = "claude-sonnet-4-6"
AUTH = {
    "x-api-key": "test-key",
    "content-type": "application/json",
    "anthropic-version": "2023-06-01",
}
HEAD = b"POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
TEXT_BODY: dict[str, Any] = {
    "model": MODEL,
    "max_tokens": 50,
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.fixture
def server() -> Iterator[ClaudeServer]:
    with ClaudeServer() as started:
        yield started


def port_of(server: ClaudeServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


def post(
    server: ClaudeServer,
    raw: bytes,
    *,
    path: str = "/v1/messages",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=30)
    try:
        connection.request("POST", path, body=raw, headers={**AUTH, **(headers or {})})
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def raw_exchange(server: ClaudeServer, request: bytes) -> bytes:
    """Send ``request`` as is; the whole answer, up to the server closing the connection."""
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=30) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def server_threads(port: int) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"claudevision-server-{port}"]


# -- lifecycle ----------------------------------------------------------------------------


def test_stop_closes_the_port_and_leaves_no_thread() -> None:
    server = ClaudeServer().start()
    port = port_of(server)
    client = server.client(max_retries=0)
    client.messages.create(**TEXT_BODY)  # leaves a keep-alive connection open
    idle = socket.create_connection(("127.0.0.1", port))  # a connection that never sends
    assert server_threads(port)
    server.stop()
    assert server_threads(port) == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    # the server closed it (reset, when stop() came before it was even accepted)
    with contextlib.suppress(ConnectionResetError):
        assert idle.recv(1) == b""
    idle.close()
    client.close()


def test_stop_interrupts_a_delayed_answer() -> None:
    server = ClaudeServer().start()
    port = port_of(server)
    server.delay(600)
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            server.client(max_retries=0).messages.create(**TEXT_BODY)
        except BaseException as error:
            errors.append(error)

    asker = threading.Thread(target=ask)
    asker.start()
    while not server.requests:  # the request is in; its handler is waiting
        threading.Event().wait(0.01)
    server.stop()
    asker.join(60)
    assert not asker.is_alive()
    assert server_threads(port) == []
    assert errors and isinstance(errors[0], anthropic.APIConnectionError)


def test_lifecycle() -> None:
    server = ClaudeServer()
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url
    server.stop()  # stopping a server never started is harmless
    with server:
        first = server.url
        assert server.start() is server and server.url == first  # starting twice: one server
    server.stop()
    with server:  # it can be started again
        assert server.client(max_retries=0).messages.create(**TEXT_BODY).content
    assert len(server.requests) == 1


def test_importing_the_testing_package_does_not_import_the_sdk() -> None:
    package = Path(__file__).parents[1] / "src" / "claudevision"
    code = (
        "import sys, types\n"
        f"stub = types.ModuleType('claudevision'); stub.__path__ = [{str(package)!r}]\n"
        "sys.modules['claudevision'] = stub\n"
        "import claudevision.testing, claudevision.testing.pytest_plugin\n"
        "print('anthropic' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "False"


# -- bounded reads ------------------------------------------------------------------------


def test_missing_content_length() -> None:
    with ClaudeServer() as server:
        answer = raw_exchange(server, HEAD + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 411 ")
        assert b"Content-Length header is required" in answer
        assert server.requests[-1].status == 411


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", ""])
def test_invalid_content_length(server: ClaudeServer, length: str) -> None:
    request = (HEAD.decode() + f"content-length: {length}\r\n\r\n{{}}").encode()
    answer = raw_exchange(server, request)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"invalid_request_error" in answer


def test_chunked_bodies_are_refused(server: ClaudeServer) -> None:
    request = HEAD + b"transfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"
    assert raw_exchange(server, request).startswith(b"HTTP/1.1 411 ")


def test_body_over_the_limit_is_not_read(server: ClaudeServer) -> None:
    request = HEAD + b"content-length: 999999999999\r\n\r\n{"
    answer = raw_exchange(server, request)  # the server answers and closes at once
    assert answer.startswith(b"HTTP/1.1 413 ") and b"request_too_large" in answer


def test_body_over_the_limit_is_drained_and_the_connection_kept(server: ClaudeServer) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=30)
    connection.request("POST", "/v1/messages", body=b" " * 32_000_001, headers=AUTH)
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"]["type"] == "request_too_large"
    connection.request("POST", "/v1/messages", body=json.dumps(TEXT_BODY), headers=AUTH)
    assert connection.getresponse().status == 200
    connection.close()


def test_bedrock_request_limit(server: ClaudeServer) -> None:
    status, answer = post(server, b" " * 20_000_001, path="/model/claude-haiku-4-5/invoke")
    assert (status, answer["error"]["type"]) == (413, "request_too_large")
    status, _ = post(server, b" " * 20_000_001)  # the direct API takes 32 MB
    assert status == 400


# -- malformed requests -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "The request body is not valid JSON"),
        (b"{not json", "The request body is not valid JSON"),
        (b"\xff\xfe", "The request body is not valid JSON"),
        (b"[" * 200_000, "The request body is not valid JSON"),
        (b"[1, 2]", "The request body must be a JSON object"),
        (b'{"model": "m", "max_tokens": 1, "messages": {"role": "user"}}', "valid list"),
        (
            b'{"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [1]}]}',
            "messages.0.content.0: Input should be a valid dictionary",
        ),
        (b'{"model": "m", "max_tokens": 1, "messages": ["hi"]}', "messages.0: Input should be"),
    ],
)
def test_malformed_bodies_get_400(server: ClaudeServer, raw: bytes, message: str) -> None:
    status, answer = post(server, raw)
    assert status == 400
    assert answer["error"]["type"] == "invalid_request_error"
    assert message in answer["error"]["message"]
    assert post(server, json.dumps(TEXT_BODY).encode())[0] == 200  # still serving


def test_unknown_path(server: ClaudeServer) -> None:
    status, answer = post(server, json.dumps(TEXT_BODY).encode(), path="/v2/elsewhere")
    assert (status, answer["error"]["type"]) == (404, "not_found_error")


def test_a_bug_in_the_server_answers_500(
    server: ClaudeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("oops")

    monkeypatch.setattr(server, "answer", broken)
    status, answer = post(server, json.dumps(TEXT_BODY).encode())
    assert status == 500
    assert answer["error"] == {
        "type": "api_error",
        "message": "the local server failed: RuntimeError('oops')",
    }
    monkeypatch.undo()
    assert post(server, json.dumps(TEXT_BODY).encode())[0] == 200


def test_bedrock_streams_are_amazon_event_streams(server: ClaudeServer) -> None:
    body = json.dumps({**TEXT_BODY, "anthropic_version": "bedrock-2023-05-31"}).encode()
    body = json.dumps({k: v for k, v in json.loads(body).items() if k != "model"}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", port_of(server), timeout=30)
    connection.request(
        "POST", "/model/claude-haiku-4-5/invoke-with-response-stream", body=body, headers=AUTH
    )
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("content-type") == "application/vnd.amazon.eventstream"
    raw = response.read()
    connection.close()
    kinds = []
    while raw:
        length = int.from_bytes(raw[:4], "big")
        payload = raw[:length][12 + int.from_bytes(raw[4:8], "big") : -4]
        event = json.loads(base64.b64decode(json.loads(payload)["bytes"]))
        kinds.append(event["type"])
        raw = raw[length:]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"


def test_server_sent_events(server: ClaudeServer) -> None:
    body = json.dumps(dict(TEXT_BODY, stream=True)).encode()
    request = (
        HEAD + b"connection: close\r\n" + f"content-length: {len(body)}\r\n\r\n".encode() + body
    )
    answer = raw_exchange(server, request).decode()
    assert "content-type: text/event-stream" in answer.lower()
    kinds = [line[7:] for line in answer.splitlines() if line.startswith("event: ")]
    assert kinds[:3] == ["message_start", "content_block_start", "ping"]
    assert kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    assert set(kinds[3:-3]) == {"content_block_delta"}


# -- routing ------------------------------------------------------------------------------


def test_routes() -> None:
    direct = LIMITS["anthropic-5mb"]
    assert match_route("/v1/messages", direct) == Route(direct)
    assert match_route("/v1/messages/count_tokens", direct) == Route(direct, counting=True)
    assert match_route("/model/us.anthropic.claude-haiku-4-5-20251001-v1%3A0/invoke", direct) == (
        Route(
            LIMITS["bedrock"],
            model="us.anthropic.claude-haiku-4-5-20251001-v1:0",
            streaming=False,
            cloud="bedrock",
        )
    )
    vertex = "/v1/projects/p/locations/us-east5/publishers/anthropic/models"
    assert match_route(f"{vertex}/claude-opus-4-8@20260101:streamRawPredict", direct) == Route(
        LIMITS["vertex"], model="claude-opus-4-8@20260101", streaming=True, cloud="vertex"
    )
    assert match_route(f"{vertex}/count-tokens:rawPredict", direct) == Route(
        LIMITS["vertex"], counting=True, streaming=False, cloud="vertex"
    )
    assert match_route("/v1/models", direct) is None
    assert Route(direct).streams({"stream": True}) and not Route(direct).streams({})


def test_vertex_count_tokens(server: ClaudeServer) -> None:
    client = server.vertex_client(max_retries=0)
    counted = client.messages.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "hi"}]
    )
    assert counted.input_tokens == 1
    assert server.requests[-1].path.endswith("/count-tokens:rawPredict")


def test_a_slow_stream_does_not_hold_up_other_requests(server: ClaudeServer) -> None:
    server.queue(Reply(event_delay=0.1))
    client = server.client(max_retries=0)
    with client.messages.stream(**TEXT_BODY) as stream:
        events = iter(stream)
        assert next(events).type == "message_start"
        other = client.messages.create(**TEXT_BODY)  # answered while the stream is open
        assert [r.status for r in server.requests] == [200, 200]
        rest = [event.type for event in events]
    assert other.content and rest[-1] == "message_stop"
    assert server.requests[0].request_id != server.requests[1].request_id
