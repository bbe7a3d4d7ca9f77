"""Helpers for the HTTP tests: an app on a fresh instance, people of every role, signed-in clients."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image
from support import sample_content

from tipline.domain.audit import Actor
from tipline.domain.roles import USER_ROLES, Role
from tipline.instance import Instance
from tipline.pipeline.engine.inprocess import InProcessWorker
from tipline.web.app import create_app

PASSWORD = "correct horse battery staple"


@dataclass
class Site:
    instance: Instance
    app: FastAPI
    esp_secret: dict[str, str]

    def client(self) -> TestClient:
        return TestClient(self.app, base_url="http://testserver", follow_redirects=False)

    def signed_in(self, username: str) -> TestClient:
        client = self.client()
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 303, response.text
        return client

    def esp(self, name: str = "chirp") -> TestClient:
        client = self.client()
        client.auth = (name, self.esp_secret[name])
        return client

    def drain(self) -> None:
        # generous: a surge of reports through every stage takes over a minute on a busy 2-core machine
        assert InProcessWorker(self.instance).drain(timeout=300), "the pipeline did not finish its jobs in 5 minutes"


def build_site(instance: Instance) -> Site:
    secrets = {}
    with instance.db.transaction() as session:
        for role in USER_ROLES:
            instance.accounts.add_user(session, role.value.replace("_", ""), role, Actor.system("test"),
                                       password=PASSWORD)
        for name in ("chirp", "pixelgram"):
            _, secrets[name] = instance.accounts.add_api_account(session, name, Actor.system("test"))
    return Site(instance, create_app(instance, run_worker=False), secrets)


def username_of(role: Role) -> str:
    return role.value.replace("_", "")


class LiveServer:
    """The application served over real HTTP by uvicorn on a free localhost port, in a thread."""

    def __init__(self, app: FastAPI, instance: Instance | None = None) -> None:
        """`instance` is needed only when `app` is a bare ASGI callable wrapping the application."""
        import socket
        import threading

        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        from tipline.web.serving import uvicorn_options

        options = uvicorn_options((instance or app.state.instance).settings)  # as `tipline serve` runs it
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    **options))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.server.started, "uvicorn did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def launch_chromium(playwright):  # type: ignore[no-untyped-def]
    """Debian's chromium, headless, with the flags this closed network needs. Assertions wait up to
    15 s: on a loaded 2-core machine a page after a POST can take longer than Playwright's 5 s."""
    from playwright.sync_api import expect
    from support import require_chromium

    expect.set_options(timeout=15_000)
    return playwright.chromium.launch(
        executable_path=require_chromium(),
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run", "--disable-quic"],
    )


SEXTORTION = "\n".join([
    "[2026-10-01 20:01] nightowl77: how old are you?",
    "[2026-10-01 20:02] robin_k: 13",
    "[2026-10-01 20:03] nightowl77: don't tell your parents about me",
    "[2026-10-01 20:04] nightowl77: send me a picture of yourself",
    "[2026-10-01 20:05] nightowl77: you have 24 hours to pay $200 in gift cards or I send the photo to your school",
])


def picture(seed: int = 3) -> bytes:
    """A generated, benign test picture (coloured blocks)."""
    rng = np.random.default_rng(seed)
    pixels = np.zeros((200, 260, 3), dtype="uint8")
    for _ in range(14):
        top, left = rng.integers(0, 170), rng.integers(0, 230)
        pixels[top:top + 40, left:left + 40] = rng.integers(0, 255, 3)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def file_report(site: Site, content: dict[str, Any] | None = None, files: dict[str, bytes] | None = None) -> int:
    chirp = site.esp()
    report_id = chirp.post("/api/v1/reports?finish=false", json=content or sample_content()).json()["reportId"]
    with site.instance.db.transaction() as session:
        for name, data in (files or {}).items():
            site.instance.files.add(session, report_id, data, file_name=name, actor=Actor.system("test"))
    assert chirp.post(f"/api/v1/reports/{report_id}/finish").status_code == 200
    site.drain()
    return report_id


def token_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
