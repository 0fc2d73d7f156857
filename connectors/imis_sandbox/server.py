"""Run the sandbox app with uvicorn in a background thread (tests, the demo pipeline)."""

from __future__ import annotations

import socket
import threading
import time
from datetime import date
from pathlib import Path

import uvicorn

from .app import Sandbox, SandboxConfig, build_app
from .faults import Faults
from .generate import generate


class SandboxServer:
    """A live sandbox on 127.0.0.1; `with SandboxServer(tmp_path) as s: s.url`."""

    def __init__(
        self,
        data_dir: str | Path,
        *,
        port: int = 0,
        seed: int = 7,
        members: int = 1500,
        items: int = 6000,
        end_date: date | None = None,
        days: int = 365,
        username: str = "pulse",
        password: str = "pulse-sandbox",
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        keep_appended_days: bool = False,
    ):
        db_path = generate(
            data_dir, seed=seed, members=members, items=items, end_date=end_date, days=days,
            keep_appended_days=keep_appended_days,
        )  # fmt: skip
        self.sandbox = Sandbox(SandboxConfig(db_path, username, password, faults or Faults()))
        self.host = host
        # Bind the socket here so port 0 resolves to a real port before the thread starts.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self._socket.listen(128)  # clients may connect (and queue) before uvicorn takes over
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            build_app(self.sandbox), log_level="warning", access_log=False, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def faults(self) -> Faults:
        return self.sandbox.faults

    def start(self) -> SandboxServer:
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name="imis-sandbox",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the iMIS sandbox did not start")
            time.sleep(0.02)
        return self

    def revoke_tokens(self) -> None:
        self.sandbox.revoke_tokens()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._thread = None
        self._socket.close()
        self.sandbox.db.close()

    def serve_forever(self) -> None:
        """Run in the calling thread until interrupted (the CLI)."""
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()
            self.sandbox.db.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
