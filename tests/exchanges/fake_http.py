"""What the local stand-ins for the exchanges' APIs share: a threaded HTTP server on a free port of 127.0.0.1
whose requests go to the stand-in's `_handle(request, method)`, started and stopped as a context manager."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class FakeHttpServer:
    methods: tuple[str, ...] = ("GET",)
    """The HTTP methods the stand-in answers (others get the standard library's 501)."""

    def __init__(self) -> None:
        server = self

        def quiet(handler: BaseHTTPRequestHandler, *args: Any) -> None:
            pass

        def route(method: str) -> Any:
            return lambda handler: server._handle(handler, method)

        handler = type("Handler", (BaseHTTPRequestHandler,),
                       {"log_message": quiet, **{f"do_{m}": route(m) for m in self.methods}})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
