"""An OpenAI-compatible fake language-model server on 127.0.0.1, for tests and benchmarks.

    with FakeModelServer(reply=honest_labeller, latency_s=0.25, rate_429=0.1, seed=7) as srv:
        LiteLLMEnricher(taxonomy, "openai/fake", api_base=srv.api_base)...
        srv.requests  # every request body received, in arrival order

`POST /v1/chat/completions` answers with `reply(request_body) -> str` as the assistant message
content. Faults are drawn from a `random.Random(seed)` in arrival order, so a run with the same
seed and the same request order gets the same faults:

- `rate_429`: answer 429 with `Retry-After: <retry_after_s>` (the request is still recorded);
- `rate_5xx`: answer 503;
- `rate_malformed`: answer 200 with content that is not JSON;
- `rate_truncated`: answer 200 with a valid reply minus its last item (a truncated batch);
- scripted only, `"401"`: answer 401 (a wrong key, which no retry can fix).

`script=["429", "truncated", "ok"]` fixes the outcomes of the first requests, in arrival order,
before the random draws take over: tests use it to say exactly which call fails and how.

`usage` is the token count each reply reports: fixed (prompt, completion), or None for an
estimate from the request and reply lengths.

`latency_s` is awaited (asyncio.sleep) before every answer, so concurrent calls overlap like a
real provider's. The server runs uvicorn in a daemon thread on port 0 (a free port).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

Reply = Callable[[dict[str, Any]], str]
OUTCOMES = ("ok", "429", "5xx", "malformed", "truncated", "401")

# The data block is "<items>\n[...]\n</items>"; the prompt also NAMES the delimiters in prose
# ("between <items> and </items>"), which this pattern does not match (no line break after).
ITEMS_RE = re.compile(r"<items>\n(.*?)\n</items>", re.DOTALL)


def request_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The items of a LiteLLMEnricher request: the JSON array inside <items>...</items> of the
    last user message (the data block, not the prose that names the delimiters)."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") != "user":
            continue
        content = message.get("content") or ""
        if isinstance(content, list):  # content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        blocks = ITEMS_RE.findall(content)
        if blocks:
            return json.loads(blocks[-1])
    return []


def constant_labeller(label: str = "neutral") -> Reply:
    """Labels every item with `label`, no topics: a dishonest or a lazy model."""
    score = {"positive": 0.6, "neutral": 0.0, "negative": -0.6}[label]

    def reply(body: dict[str, Any]) -> str:
        return json.dumps(
            {"items": [_labels(item["id"], label, score) for item in request_items(body)]}
        )

    return reply


_NEG = re.compile(r"\b(?:terrible|awful|broken|angry|worst|charged twice|cannot|can't|never|"
                  r"disappointed|cancel|refund|late|bad|hate|no one|nobody)\b", re.I)  # fmt: skip
_POS = re.compile(r"\b(?:great|love|excellent|thank|thanks|wonderful|helpful|amazing|good)\b", re.I)
_INJECTION = re.compile(r"ignore (?:all |any )?(?:previous|prior) instructions[^.!?]*[.!?]?", re.I)


def honest_labeller(body: dict[str, Any]) -> str:
    """A scripted honest model: ignores instructions inside the data, labels by content words,
    quotes the first sentence with a topic word as evidence (an exact substring)."""
    out = []
    for item in request_items(body):
        text = item.get("text", "")
        content = _INJECTION.sub(" ", text)
        neg, pos = len(_NEG.findall(content)), len(_POS.findall(content))
        label = "negative" if neg > pos else "positive" if pos > neg else "neutral"
        score = {"positive": 0.7, "neutral": 0.0, "negative": -0.7}[label]
        labels = _labels(item["id"], label, score)
        for key, word in (("renewal_billing", "renewal"), ("event_registration", "registration"),
                          ("website_login", "log in"), ("dues_pricing", "dues")):  # fmt: skip
            idx = text.lower().find(word)
            if idx >= 0:
                labels["topics"].append(
                    {
                        "key": key,
                        "proposed": None,
                        "sentiment": label,
                        "evidence": text[idx : idx + len(word)],
                    }
                )
                break
        out.append(labels)
    return json.dumps({"items": out})


def _labels(item_id: str, label: str, score: float) -> dict[str, Any]:
    return {
        "id": item_id,
        "sentiment": {"label": label, "score": score, "confidence": 0.8},
        "topics": [],
        "urgency": {"level": "low", "reasons": [], "signals": []},
        "language": "en",
        "summary": "A member comment.",
        "praises_staff": False,
        "suggestion": False,
        "inappropriate": False,
    }


class FakeModelServer:
    def __init__(
        self,
        reply: Reply = honest_labeller,
        *,
        latency_s: float = 0.0,
        rate_429: float = 0.0,
        retry_after_s: float = 0.05,
        rate_5xx: float = 0.0,
        rate_malformed: float = 0.0,
        rate_truncated: float = 0.0,
        seed: int = 0,
        usage: tuple[int, int] | None = (100, 50),
        script: Sequence[str] = (),
    ) -> None:
        unknown = set(script) - set(OUTCOMES)
        if unknown:
            raise ValueError(f"unknown scripted outcomes {sorted(unknown)}; use {OUTCOMES}")
        self.script = list(script)
        self.reply = reply
        self.latency_s = latency_s
        self.rate_429 = rate_429
        self.retry_after_s = retry_after_s
        self.rate_5xx = rate_5xx
        self.rate_malformed = rate_malformed
        self.rate_truncated = rate_truncated
        self.usage = usage
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.outcomes: list[str] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FakeModelServer:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self._handle, methods=["POST"]),
                Route("/stats", self._stats, methods=["GET"]),
            ]
        )
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                timeout_keep_alive=30, backlog=2048)  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake model server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FakeModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def calls(self) -> int:
        return len(self.requests)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.headers.clear()
            self.outcomes.clear()
            self.max_in_flight = 0

    # -- the endpoints ------------------------------------------------------------------------
    async def _stats(self, request: Request) -> Response:
        with self._lock:
            counts = {name: self.outcomes.count(name) for name in dict.fromkeys(self.outcomes)}
            return JSONResponse(
                {
                    "calls": len(self.requests),
                    "outcomes": counts,
                    "max_in_flight": self.max_in_flight,
                }
            )

    def _draw(self) -> str:
        with self._lock:
            if self.script:
                return self.script.pop(0)
            r = self._rng.random()
        for name, rate in (("429", self.rate_429), ("5xx", self.rate_5xx),
                           ("malformed", self.rate_malformed), ("truncated", self.rate_truncated)):  # fmt: skip
            if r < rate:
                return name
            r -= rate
        return "ok"

    async def _handle(self, request: Request) -> Response:
        body = await request.json()
        with self._lock:
            self.requests.append(body)
            self.headers.append(dict(request.headers))
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            outcome = self._draw()
            with self._lock:
                self.outcomes.append(outcome)
            if self.latency_s:
                await asyncio.sleep(self.latency_s)
            if outcome == "429":
                return JSONResponse(
                    {"error": {"message": "rate limited", "type": "rate_limit_error"}},
                    status_code=429,
                    headers={"Retry-After": f"{self.retry_after_s:g}"},
                )
            if outcome == "401":
                return JSONResponse(
                    {"error": {"message": "invalid api key", "type": "invalid_request_error"}},
                    status_code=401,
                )
            if outcome == "5xx":
                return JSONResponse(
                    {"error": {"message": "overloaded", "type": "server_error"}}, status_code=503
                )
            content = self.reply(body)
            if outcome == "malformed":
                content = '{"items": [{"id": ' + content[:20].replace('"', "'")
            elif outcome == "truncated":
                try:
                    data = json.loads(content)
                    data["items"] = data["items"][:-1]
                    content = json.dumps(data)
                except (ValueError, KeyError, TypeError):
                    content = content[: len(content) // 2]
            return JSONResponse(self._completion(body, content))
        finally:
            with self._lock:
                self._in_flight -= 1

    def _completion(self, body: dict[str, Any], content: str) -> dict[str, Any]:
        with self._lock:
            n = len(self.requests)
        if self.usage is None:  # about 4 characters a token, like a real tokenizer on English
            prompt = sum(len(str(m.get("content") or "")) for m in body.get("messages", [])) // 4
            completion = max(1, len(content) // 4)
        else:
            prompt, completion = self.usage
        return {
            "id": f"chatcmpl-fake-{n}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }


def _serve(kwargs: dict[str, Any], conn: Any) -> None:  # the child of FakeModelServerProcess
    with FakeModelServer(**kwargs) as srv:
        conn.send(srv.port)
        conn.recv()  # until the parent says stop (or goes away)


class FakeModelServerProcess:
    """The same fake server in a child process, for benchmarks: a real provider does not share
    the client's interpreter, and an in-process server competes with the client for the GIL
    (each answer waits for a thread switch), which would bill the client for the server's time.
    `reply` must be picklable (a module-level function). Counters come from GET /stats."""

    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs
        self.port = 0
        self._process: Any = None
        self._conn: Any = None

    def __enter__(self) -> FakeModelServerProcess:
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_serve, args=(self.kwargs, child), daemon=True)
        self._process.start()
        if not self._conn.poll(60):
            self._process.kill()
            raise RuntimeError("fake model server process did not start")
        self.port = self._conn.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(OSError):  # the child may already be gone
            self._conn.send("stop")
        self._process.join(timeout=15)
        if self._process.is_alive():
            self._process.kill()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict[str, Any]:
        import httpx

        return httpx.get(f"http://127.0.0.1:{self.port}/stats", timeout=10).json()

    @property
    def calls(self) -> int:
        return int(self.stats()["calls"])
