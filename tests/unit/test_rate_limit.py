"""The submission limit's bookkeeping, with the clock passed in (the HTTP side is in tests/integration/test_security.py)."""

from __future__ import annotations

from api.security import SubmissionLimit


def header(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    return next((v.decode() for k, v in headers if k.decode() == name), None)


def test_a_client_gets_its_limit_per_window_then_waits_for_the_window_to_end() -> None:
    limit = SubmissionLimit(3)
    answers = [limit.admit("a", 100.0 + i) for i in range(4)]
    assert [wait for wait, _ in answers] == [None, None, None, 57]  # the window opened at 100 s, ends at 160 s
    assert [header(h, "ratelimit-remaining") for _, h in answers] == ["2", "1", "0", "0"]
    assert header(answers[3][1], "retry-after") == "57" and header(answers[0][1], "retry-after") is None
    assert header(answers[0][1], "ratelimit-policy") == "3; w=60"
    assert limit.admit("b", 104.0)[0] is None  # other clients count on their own
    assert limit.admit("a", 159.5)[0] == 1  # never "retry in 0 s"
    assert limit.admit("a", 160.0)[0] is None  # a new window
    assert header(limit.admit("a", 161.0)[1], "ratelimit-remaining") == "1"


def test_ended_windows_are_dropped_so_memory_follows_recent_clients() -> None:
    limit = SubmissionLimit(60)
    for i in range(1000):
        limit.admit(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(limit.windows) == 1000
    limit.admit("late", 61.0)  # the first call after a minute sweeps
    assert list(limit.windows) == ["late"]
