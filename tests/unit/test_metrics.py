"""The API's request histogram: prometheus_client's Histogram, labelled by route template, never the raw path."""

from __future__ import annotations

from prometheus_client import generate_latest

from api.metrics import HTTP_REGISTRY, observe_request


def test_requests_are_counted_under_their_route_template() -> None:
    for seconds in (0.0004, 0.001, 0.7):
        observe_request({"method": "GET", "path_template": "/api/jobs/{job_id:uuid}",
                         "path": "/api/jobs/4f1c"}, 200, seconds)
    observe_request({"method": "GET", "path": "/nope"}, 404, 0.0001)
    text = generate_latest(HTTP_REGISTRY).decode()
    assert "/api/jobs/4f1c" not in text and 'route="unmatched",status="404"' in text
    (bucket,) = [line for line in text.splitlines() if 'route="/api/jobs/{job_id:uuid}"' in line
                 and 'le="0.001"' in line]
    assert float(bucket.rsplit(" ", 1)[1]) >= 2  # 0.0004 and 0.001 itself: `le` means <=
