"""How `tipline serve` runs the server: no proxy trusted by default (a local caller's
X-Forwarded-For does not choose the address the throttle and the audit see), and request heads
limited in size and in count (431) while they are read."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time

import httpx
import pytest
from sqlalchemy import select
from support import instance_env, tipline_command
from websupport import LiveServer, Site

from tipline.instance import Instance
from tipline.store.tables import AuditEventRow

DOCUMENTATION_ADDRESS = "198.51.100.7"  # TEST-NET-2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(instance: Instance, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen([*tipline_command(), "serve", "--port", str(port), "--no-pipeline"],
                               env={**instance_env(instance), **env}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz").status_code == 200:
                return process, url
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise AssertionError("tipline serve did not start")


def _failed_login_address(instance: Instance, url: str, name: str) -> str:
    with httpx.Client(base_url=url) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        answer = client.post("/login", data={"username": name, "password": "not the password", "csrf_token": token},
                             headers={"X-Forwarded-For": DOCUMENTATION_ADDRESS})
        assert answer.status_code == 401
    with instance.db.transaction() as session:
        events = session.execute(select(AuditEventRow).where(AuditEventRow.action == "user.login_failed")).scalars()
        return next(e.details["address"] for e in events if e.details["username"] == name)


@pytest.mark.slow
def test_a_local_callers_x_forwarded_for_is_not_believed_by_default(site: Site) -> None:
    process, url = _serve(site.instance)
    try:
        assert _failed_login_address(site.instance, url, "someone") == "127.0.0.1"
    finally:
        process.terminate()
        process.wait(timeout=30)
    # a proxy named in TIPLINE_FORWARDED_ALLOW_IPS is believed
    process, url = _serve(site.instance, TIPLINE_FORWARDED_ALLOW_IPS="127.0.0.1")
    try:
        assert _failed_login_address(site.instance, url, "someone-else") == DOCUMENTATION_ADDRESS
    finally:
        process.terminate()
        process.wait(timeout=30)


def _raw(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as connection:
        connection.sendall(head)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += chunk
        return received


def test_an_oversized_header_is_refused_431_before_it_is_read(site: Site) -> None:
    with LiveServer(site.app) as server:
        # 8 MB of header, sent as a real client would; the answer comes after the first 32 KiB
        head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (8 * 1024 * 1024) + b"\r\n\r\n"
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as connection:
            try:
                connection.sendall(head)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server stopped reading and closed: what we want, answer read below
            answer = connection.recv(4096)
        assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
        ok = _raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Fine: " + b"a" * 8000 + b"\r\n\r\n")
        assert ok.startswith(b"HTTP/1.1 200"), ok[:200]


def test_too_many_headers_are_refused_431(site: Site) -> None:
    with LiveServer(site.app) as server:
        many = b"".join(b"X-H%d: 1\r\n" % n for n in range(2000))
        answer = _raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        assert answer.startswith(b"HTTP/1.1 431"), answer[:200]
        some = b"".join(b"X-H%d: 1\r\n" % n for n in range(50))
        assert _raw(server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + some + b"\r\n").startswith(b"HTTP/1.1 200")
    client = site.client()  # under any ASGI server (here the test client), the application refuses too
    answer = client.get("/healthz", headers={f"X-H{n}": "1" for n in range(150)})
    assert answer.status_code == 431
    assert answer.headers["request-id"]




class _RecordingTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_extra_info(self, name: str) -> str:
        return f"info:{name}"


def test_an_answer_written_in_one_turn_leaves_as_one_write_in_order() -> None:
    from tipline.web.serving import CoalescingTransport

    async def scenario() -> _RecordingTransport:
        real = _RecordingTransport()
        corked = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\n")
        corked.write(b"body")
        assert real.writes == []  # nothing leaves before the turn ends
        await asyncio.sleep(0)
        corked.write(b"HTTP/1.1 204 No Content\r\n\r\n")
        corked.close()  # what was written before close still goes out, before the close
        assert corked.get_extra_info("peername") == "info:peername"
        return real

    real = asyncio.run(scenario())
    assert real.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nbody", b"HTTP/1.1 204 No Content\r\n\r\n"]
    assert real.closed


def test_an_aborted_connection_sends_nothing_more() -> None:
    from tipline.web.serving import CoalescingTransport

    async def scenario() -> _RecordingTransport:
        real = _RecordingTransport()
        corked = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"partial answer")
        corked.abort()
        await asyncio.sleep(0)
        return real

    real = asyncio.run(scenario())
    assert real.writes == [] and real.aborted


def test_a_large_answer_is_not_held_back() -> None:
    from tipline.web.serving import CoalescingTransport

    async def scenario() -> _RecordingTransport:
        real = _RecordingTransport()
        corked = CoalescingTransport(real, asyncio.get_running_loop())  # type: ignore[arg-type]
        corked.write(b"HTTP/1.1 200 OK\r\n\r\n")
        corked.write(b"x" * CoalescingTransport.GATHER_LIMIT)
        assert len(real.writes) == 1  # handed on at once, before the turn ends
        corked.write(b"tail")
        await asyncio.sleep(0)
        return real

    real = asyncio.run(scenario())
    assert b"".join(real.writes) == b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * CoalescingTransport.GATHER_LIMIT + b"tail"
