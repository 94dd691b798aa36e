"""GET /metrics in Prometheus text format.

Queue figures come from the database at scrape time (workers have no HTTP port, and the database is the
truth): jobs by status and stage, the oldest runnable job's age, stage durations, retries, rescues, recent
throughput. HTTP request durations are this API process's own histogram.
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

from api.errors import errors
from api.security import requires_admin
from pipeline import store
from pipeline.rows import DurationBucketRow, QueueStatsRow, StatusCountRow

STAGE_BUCKETS_S = [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0]
HTTP_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0]


HTTP_REGISTRY = CollectorRegistry()
REQUEST_DURATIONS = Histogram("studio_http_request_duration_seconds", "HTTP request duration by route and status",
                              ["method", "route", "status"], buckets=HTTP_BUCKETS_S, registry=HTTP_REGISTRY)


def observe_request(scope: dict[str, Any], status: int, duration_s: float) -> None:
    """One request, under its route template (never the raw path: ids would explode the label set)."""
    route = scope.get("path_template") or "unmatched"  # set by Litestar's router
    REQUEST_DURATIONS.labels(scope.get("method", ""), route, str(status)).observe(duration_s)


class _Snapshot:
    """A collector over rows fetched once per scrape."""

    def __init__(self, stats: list[QueueStatsRow], durations: list[DurationBucketRow],
                 finished: list[StatusCountRow]) -> None:
        self.stats, self.durations, self.finished = stats, durations, finished

    def collect(self) -> Any:
        jobs = GaugeMetricFamily("studio_jobs", "Jobs by status and current stage", labels=["status", "stage"])
        for row in self.stats:
            jobs.add_metric([row.status, row.stage], row.jobs)
        yield jobs
        queued = [row for row in self.stats if row.status == "queued"]
        depth = GaugeMetricFamily("studio_queue_depth", "Queued jobs by stage", labels=["stage"])
        for row in queued:
            depth.add_metric([row.stage], row.jobs)
        yield depth
        ages = [float(row.oldest_s) for row in queued if row.oldest_s is not None]
        yield GaugeMetricFamily("studio_queue_oldest_age_seconds", "Age of the oldest runnable job",
                                value=max(ages, default=0.0))
        hist = HistogramMetricFamily("studio_stage_duration_seconds", "Stage attempt durations",
                                     labels=["stage", "outcome"])
        retries = CounterMetricFamily("studio_job_retries", "Stage attempts that ended in a retry", labels=["stage"])
        rescues = CounterMetricFamily("studio_job_rescues", "Stage attempts lost with their worker (lease expired)",
                                      labels=["stage"])
        series: dict[tuple[str, str], tuple[list[int], float]] = {}
        for row in self.durations:
            counts, total = series.setdefault((row.stage, row.outcome), ([0] * (len(STAGE_BUCKETS_S) + 1), 0.0))
            # width_bucket: 0 below the first bound, i for bounds[i-1] <= d < bounds[i], len(bounds) above all
            counts[min(int(row.bucket), len(STAGE_BUCKETS_S))] += int(row.n)
            series[(row.stage, row.outcome)] = (counts, total + float(row.total_s or 0.0))
        per_stage: dict[str, dict[str, int]] = {}
        for (stage, outcome), (counts, total) in sorted(series.items()):
            cumulative, buckets = 0, []
            for bound, count in zip([*map(str, STAGE_BUCKETS_S), "+Inf"], counts, strict=True):
                cumulative += count
                buckets.append((bound, cumulative))
            hist.add_metric([stage, outcome], buckets, total)
            per_stage.setdefault(stage, {}).setdefault(outcome, 0)
            per_stage[stage][outcome] += cumulative
        for stage, outcomes in sorted(per_stage.items()):
            retries.add_metric([stage], outcomes.get("retry", 0))
            rescues.add_metric([stage], outcomes.get("lost", 0))
        yield hist
        yield retries
        yield rescues
        done = GaugeMetricFamily("studio_jobs_finished_last_5m", "Jobs finished in the last 5 minutes",
                                 labels=["status"])
        for row in self.finished:
            done.add_metric([row.status], row.jobs)
        yield done


@get("/metrics", operation_id="metrics", tags=["service"], guards=[requires_admin], media_type=CONTENT_TYPE_LATEST,
     responses=errors())
async def metrics(state: State) -> Response[bytes]:
    """Prometheus metrics (needs ADMIN_TOKEN when it is set)."""
    stats = await store.queue_stats(state.pool)
    durations = await store.stage_duration_buckets(state.pool, STAGE_BUCKETS_S)
    finished = await store.throughput(state.pool, 5)
    registry = CollectorRegistry()
    registry.register(_Snapshot(stats, durations, finished))  # type: ignore[arg-type]
    return Response(generate_latest(registry) + generate_latest(HTTP_REGISTRY), media_type=CONTENT_TYPE_LATEST)
