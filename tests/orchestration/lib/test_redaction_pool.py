"""RedactorPool: the same results as Redactor.redact_batch on several processes, workers that
last across batches, and a batch that survives a worker dying, failing or hanging."""

from __future__ import annotations

import logging
import os
import signal
import time

import pytest

from orchestration.lib.redaction import (
    KnownPeople,
    Redaction,
    Redactor,
    RedactorPool,
    redact_in_processes,
)

SECRET = b"test-secret-0123456789abcdef"
ALLOW = ("Annual Conference", "CAE")
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="workers are forked")


def _known() -> KnownPeople:
    people = KnownPeople(SECRET)
    people.add_names("Dana", "Whitfield", ["dwhitfield@example.org"])
    people.add_names("Oluwaseun", "Adeyemi-Hart", [])
    return people


TEMPLATES = (
    "Hi Maria, call (555) 123-{n:04d} about the Annual Conference.",
    "spoke with Dana Whitfield; Member #1{n:05d}; dob: 1/2/1980",
    "Thanks,\nBrian Lee\n{n} Main Street, Springfield, IL 62704",
    "Session {n} was great, the speaker knew the topic.",
    "ask seun.adeyemi or write to dwhitfield@example.org (ticket {n})",
    "I will attend in May, item {n}, CAE credits pending.",
)


def texts(count: int, offset: int = 0) -> list[str]:
    return [
        TEMPLATES[i % len(TEMPLATES)].format(n=i + offset) for i in range(offset, offset + count)
    ]


class ChildFails(Redactor):
    """Raises in forked children only (the parent's redo succeeds)."""

    parent = os.getpid()

    def redact_batch(self, texts):  # type: ignore[no-untyped-def]
        if os.getpid() != self.parent:
            raise RuntimeError("worker failure")
        return super().redact_batch(texts)


class ChildHangs(Redactor):
    parent = os.getpid()

    def redact_batch(self, texts):  # type: ignore[no-untyped-def]
        if os.getpid() != self.parent:
            time.sleep(120)
        return super().redact_batch(texts)


class AlwaysFails(Redactor):
    def redact_batch(self, texts):  # type: ignore[no-untyped-def]
        if any("Session" in t for t in texts):
            raise ValueError("bad batch")
        return super().redact_batch(texts)


def build(cls: type[Redactor] = Redactor) -> Redactor:
    return cls.build(known_people=_known(), allow_list=ALLOW)


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return build()


def small_pool(redactor: Redactor, **kwargs: object) -> RedactorPool:
    options: dict = {"chunk_size": 20, "min_parallel": 30}
    options.update(kwargs)
    return RedactorPool(redactor, 2, **options)


needs_two_cores = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2, reason="the pool is capped at the usable cores"
)


@needs_two_cores
def test_pool_equals_batch_and_keeps_its_workers(redactor: Redactor) -> None:
    with small_pool(redactor) as pool:
        pids = None
        for offset in (0, 200, 400):
            batch = texts(200, offset)
            batch += batch[:10]  # repeats get their own copy, as in redact_batch
            got = pool.redact_batch(batch)
            assert got == redactor.redact_batch(batch)
            assert got[0] is not got[200]
            assert len(pool.worker_pids) == 1
            assert pids is None or pool.worker_pids == pids  # the same worker, not a new one
            pids = pool.worker_pids
    assert pool.worker_pids == []
    assert all(not _alive(pid) for pid in pids or [])


@needs_two_cores
def test_small_batches_and_one_process_stay_here(redactor: Redactor) -> None:
    with small_pool(redactor) as pool:
        batch = texts(12) * 5  # 60 texts, 12 distinct: below min_parallel
        assert pool.redact_batch(batch) == redactor.redact_batch(batch)
        assert pool.worker_pids == []
    with RedactorPool(redactor, 1, min_parallel=2) as pool:
        assert pool.redact_batch(texts(50)) == redactor.redact_batch(texts(50))
        assert pool.worker_pids == []
    assert pool.redact_batch(texts(50)) == redactor.redact_batch(texts(50))  # closed: here


@needs_two_cores
def test_a_worker_that_dies_loses_nothing(
    redactor: Redactor, caplog: pytest.LogCaptureFixture
) -> None:
    with small_pool(redactor) as pool:
        assert pool.redact_batch(texts(100)) == redactor.redact_batch(texts(100))
        (pid,) = pool.worker_pids
        os.kill(pid, signal.SIGKILL)
        _wait_dead(pool, pid)
        with caplog.at_level(logging.WARNING, logger="orchestration.lib.redaction"):
            batch = texts(150, 1000)
            assert pool.redact_batch(batch) == redactor.redact_batch(batch)
        assert pool.worker_pids == []  # the pool goes on in this process
        assert pool.redact_batch(texts(80)) == redactor.redact_batch(texts(80))
    assert "died" in caplog.text or "is gone" in caplog.text
    assert "Whitfield" not in caplog.text and "Maria" not in caplog.text  # no text in logs


@needs_two_cores
def test_a_worker_that_fails_is_redone_here(caplog: pytest.LogCaptureFixture) -> None:
    redactor = build(ChildFails)
    batch = texts(150)
    with (
        caplog.at_level(logging.WARNING, logger="orchestration.lib.redaction"),
        small_pool(redactor) as pool,
    ):
        assert pool.redact_batch(batch) == build().redact_batch(batch)
        assert pool.worker_pids == []
    assert "failed (RuntimeError)" in caplog.text
    assert "worker failure" not in caplog.text  # only the exception type travels


@needs_two_cores
def test_a_worker_that_hangs_is_stopped(caplog: pytest.LogCaptureFixture) -> None:
    redactor = build(ChildHangs)
    batch = texts(150)
    with (
        caplog.at_level(logging.WARNING, logger="orchestration.lib.redaction"),
        small_pool(redactor, worker_timeout=1.0) as pool,
    ):
        assert pool.redact_batch(batch) == build().redact_batch(batch)
        assert pool.worker_pids == []
    assert "sent nothing for 1 s" in caplog.text


@needs_two_cores
def test_an_error_of_the_text_is_raised_and_stops_the_workers() -> None:
    redactor = build(AlwaysFails)
    pool = small_pool(redactor)
    ok = [t for t in texts(300) if "Session" not in t]
    assert pool.redact_batch(ok) == build().redact_batch(ok)
    pids = pool.worker_pids
    assert pids
    with pytest.raises(ValueError, match="bad batch"):
        pool.redact_batch(texts(300))
    assert pool.worker_pids == []
    assert all(not _alive(pid) for pid in pids)


@needs_two_cores
def test_a_worker_leaves_when_its_parent_end_closes(redactor: Redactor) -> None:
    pool = small_pool(redactor)
    pool.redact_batch(texts(100))
    (worker,) = pool._workers
    worker.conn.close()  # what the worker sees when this process goes away
    worker.process.join(10)
    assert worker.process.exitcode == 0
    pool._workers.clear()
    pool.close()


@needs_two_cores
def test_redact_in_processes_uses_workers_and_keeps_order(redactor: Redactor) -> None:
    batch = texts(400)
    kwargs = {"known_people": _known(), "allow_list": ALLOW}
    got = redact_in_processes(batch, processes=2, build_kwargs=kwargs, chunk_size=30)
    assert got == [redactor.redact(t) for t in batch]
    assert all(isinstance(r, Redaction) for r in got)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers; it is gone once reaped
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            return "zombie" not in f.read()
    except FileNotFoundError:
        return False


def _wait_dead(pool: RedactorPool, pid: int) -> None:
    (worker,) = [w for w in pool._workers if w.process.pid == pid]
    worker.process.join(10)
    assert not worker.process.is_alive()
