"""The API's own request histogram renders exactly as prometheus_client's Histogram would."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Histogram, generate_latest

from api.metrics import HTTP_BUCKETS_S, _RequestDurations


def test_request_histogram_is_prometheus_clients_histogram_without_its_locks() -> None:
    ours = _RequestDurations()
    registry = CollectorRegistry()
    registry.register(ours)  # type: ignore[arg-type]
    reference_registry = CollectorRegistry()
    reference = Histogram("studio_http_request_duration_seconds", "HTTP request duration by route and status",
                          ["method", "route", "status"], registry=reference_registry, buckets=HTTP_BUCKETS_S)
    requests = [("GET", "/health", 200, d) for d in (0.0004, 0.001, 0.0011, 0.003, 0.7, 9.0)]
    requests += [("POST", "/api/cad/generate", 202, 0.004), ("GET", None, 404, 0.0001)]
    for method, route, status, seconds in requests:
        ours.observe({"method": method, "path_template": route}, status, seconds)
        reference.labels(method, route or "unmatched", str(status)).observe(seconds)
    expected = [line for line in generate_latest(reference_registry).decode().splitlines() if "_created" not in line]
    assert sorted(generate_latest(registry).decode().splitlines()) == sorted(expected)
    (bucket,) = [line for line in generate_latest(registry).decode().splitlines()
                 if 'route="/health"' in line and 'le="0.001"' in line]
    assert bucket.endswith(" 2.0")  # 0.0004 and 0.001 itself: `le` means <=
