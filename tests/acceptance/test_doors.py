"""Issue 14, tried as an attacker would, against a real `studio api` (uvicorn decodes the paths, as in production):
no path variant reaches a handler without a token, no secret reaches the output, forged X-Forwarded-For does not
dodge the limit, and slow bodies and open streams are bounded."""

from __future__ import annotations

import http.client
import json
import socket
import time

import jwt
import pytest

from api.app import create_app
from engine.limits import MAX_COPIES
from ops.config.settings import Settings
from tests.acceptance.conftest import Cluster
from tests.conftest import example_bytes

SECRET = "jwt-secret-for-the-doors-test-0123456789"
ADMIN = "admin-token-for-the-doors-test"
DB_PASSWORD = "db-pass-for-the-doors-test"
ORIGIN = "https://shop.example.com"
JSON = {"content-type": "application/json"}


def token(sub: str) -> str:
    return jwt.encode({"sub": sub, "exp": int(time.time()) + 600}, SECRET, algorithm="HS256")


def with_password(db_url: str) -> str:
    """The same database, with a password in the URL (the test server trusts every local connection)."""
    scheme, _, rest = db_url.partition("://")
    user, _, host = rest.partition("@")
    return f"{scheme}://{user.split(':')[0]}:{DB_PASSWORD}@{host}"


def raw_request(port: int, method: str, path: str, headers: dict[str, str] | None = None,
                body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """One request with the path sent exactly as written (no client-side normalisation of `//`, `/./`, `%2f`)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=False, skip_accept_encoding=True)
        for name, value in {"content-length": str(len(body)), **(headers or {})}.items():
            conn.putheader(name, value.encode("utf-8"))
        conn.endheaders(body)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def variants(path: str) -> list[str]:
    """Ways to write a path that a router or server may still take for it."""
    rest = path[1:]
    return [path, "/" + path, "//" + rest, "///" + rest, "/%2f" + rest, "/%2F" + rest, "/./" + rest,
            path + "/", path + "//", path.upper(), "/" + "%" + format(ord(rest[0]), "02x") + rest[1:],
            path.replace("/", "/%2f"), path + "/.", "/api/../" + rest, "/x/.." + path,
            path + "?x=1", path + "%00", path + ";"]


@pytest.fixture
def doors(cluster: Cluster) -> Cluster:
    cluster.api(AUTH_JWT_SECRET=SECRET, ADMIN_TOKEN=ADMIN, ALLOWED_ORIGINS=ORIGIN,
                DATABASE_URL=with_password(cluster.db_url), RATE_LIMIT_PER_MINUTE="1000")
    return cluster


def test_no_path_variant_reaches_a_handler_without_a_token(doors: Cluster) -> None:
    alice = {"authorization": f"Bearer {token('alice')}"}
    job_id = doors.submit(example_bytes("island.json"), **alice).json()["id"]
    slab = {"material": "Quartz", "thickness": 30, "length": 3050, "width": 1440}
    slab_id = doors.http.post("/api/slabs", json=slab, headers=alice).json()["id"]
    app = create_app(Settings(database_url="postgresql://nobody@127.0.0.1/unused"))
    tried = 0
    for route in app.routes:
        for handler in route.route_handlers:
            if handler.opt.get("public"):
                continue
            path = route.path.replace("{job_id:uuid}", job_id).replace("{name:str}", "island.json") \
                .replace("{slab_id:uuid}", slab_id)
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                for variant in variants(path):
                    status, _, body = raw_request(doors.port, method, variant)
                    tried += 1
                    assert status in (400, 401, 404, 405), (method, variant, status, body[:200])
    assert tried > 200
    # The job is untouched: nobody cancelled or deleted it through a variant.
    job = doors.http.get(f"/api/jobs/{job_id}", headers=alice).json()
    assert job["status"] == "queued" and not job["cancel_requested"]
    assert doors.http.get(f"/api/slabs/{slab_id}", headers=alice).json()["status"] == "on_hand"
    # And the real paths, with a token, still work (so the 401s above are the gate, not a broken route).
    assert raw_request(doors.port, "GET", f"//api/jobs/{job_id}", alice)[0] == 200


def test_public_paths_are_exactly_the_banner_health_and_docs(doors: Cluster) -> None:
    for path in ("/", "/health", "/docs", "/docs/openapi.json", "/docs/swagger"):
        assert raw_request(doors.port, "GET", path)[0] == 200, path
    for path in ("/metrics", "/metrics/", "//metrics", "/api/cad/materials"):
        assert raw_request(doors.port, "GET", path)[0] == 401, path


def test_error_paths_are_4xx_and_no_secret_reaches_the_output(doors: Cluster) -> None:
    # A non-ASCII token (a TypeError in hmac.compare_digest on str before), with ADMIN_TOKEN set.
    status, headers, _ = raw_request(doors.port, "GET", "/api/jobs", {"authorization": "Bearer café"})
    assert status == 401 and headers["www-authenticate"].startswith("Bearer")
    for bad in ("Bearer ", "Bearer a.b.c", "Bearer " + "x" * 5000, "Basic YWRtaW46YWRtaW4=",
                "Bearer " + jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, "wrong-key-0123456789-abcdef-0123456",
                                       algorithm="HS256"),
                "Bearer " + jwt.encode({"sub": "x"}, SECRET, algorithm="HS256")):  # no exp
        assert raw_request(doors.port, "GET", "/api/jobs", {"authorization": bad})[0] == 401, bad
    # Over-deep JSON (a RecursionError, a 500 before): a 400 with a message.
    deep = b'{"spec_version": "1.0", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    status, _, body = raw_request(doors.port, "POST", "/api/cad/generate",
                                  {**JSON, "authorization": f"Bearer {token('alice')}"}, deep)
    assert status == 400 and b"nests too deeply" in body
    # A request id longer than the log keeps, and a DSN-like header: logged masked and bounded.
    raw_request(doors.port, "GET", "/health", {"x-request-id": "postgresql://u:" + DB_PASSWORD + "@h/db"})
    out = "".join(doors.procs[0].raw)
    for secret in (SECRET, ADMIN, DB_PASSWORD):
        assert secret not in out, secret
    assert '"status_code":401' in out and "Traceback" not in out and '"status_code":500' not in out


def test_a_forged_x_forwarded_for_does_not_dodge_the_limit(cluster: Cluster) -> None:
    # The client connects from 127.0.0.1, which is not a trusted proxy here: its X-Forwarded-For is ignored.
    cluster.api(RATE_LIMIT_PER_MINUTE="3", FORWARDED_ALLOW_IPS="10.0.0.0/8")
    codes = [cluster.submit(example_bytes("island.json"), **{"X-Forwarded-For": f"203.0.113.{i}"}).status_code
             for i in range(5)]
    assert codes == [202, 202, 202, 429, 429]


def test_behind_a_trusted_proxy_the_right_most_untrusted_address_counts(cluster: Cluster) -> None:
    # 127.0.0.1 is the trusted proxy (the default): it appended the real client (198.51.100.7) on the right;
    # what the client wrote on the left changes nothing.
    cluster.api(RATE_LIMIT_PER_MINUTE="2")
    codes = [cluster.submit(example_bytes("island.json"),
                            **{"X-Forwarded-For": f"203.0.113.{i}, 198.51.100.7"}).status_code for i in range(3)]
    assert codes == [202, 202, 429]
    # Another real client behind the same proxy has its own count.
    assert cluster.submit(example_bytes("island.json"), **{"X-Forwarded-For": "198.51.100.8"}).status_code == 202


def test_401_and_429_carry_cors_headers_for_an_allowed_origin(cluster: Cluster) -> None:
    cluster.api(AUTH_JWT_SECRET=SECRET, ALLOWED_ORIGINS=ORIGIN, RATE_LIMIT_PER_MINUTE="1")
    r = cluster.http.get("/api/jobs", headers={"origin": ORIGIN})
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == ORIGIN
    bob = {"authorization": f"Bearer {token('bob')}", "origin": ORIGIN}
    assert cluster.submit(example_bytes("island.json"), **bob).status_code == 202
    r = cluster.submit(example_bytes("island.json"), **bob)
    assert r.status_code == 429 and r.headers["access-control-allow-origin"] == ORIGIN
    assert "retry-after" in r.headers["access-control-expose-headers"].lower() and int(r.headers["retry-after"]) > 0


def test_a_slow_body_is_cut_off_with_408(cluster: Cluster) -> None:
    cluster.api(BODY_READ_TIMEOUT_S="1")
    with socket.create_connection(("127.0.0.1", cluster.port), timeout=10) as conn:
        conn.sendall(b"POST /api/cad/generate HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                     b"content-length: 5000\r\n\r\n{\"spec_version\"")
        started = time.monotonic()
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 408") and time.monotonic() - started < 8
    assert cluster.http.get("/health").status_code == 200


def open_stream(port: int, path: str, headers: dict[str, str]) -> tuple[socket.socket, bytes]:
    """An SSE request on a raw socket, read up to its first event (or its whole answer when refused)."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    conn.sendall(f"GET {path} HTTP/1.1\r\nhost: x\r\n{head}\r\n".encode())
    got = b""
    while b"data:" not in got and b"HTTP/1.1 429" not in got:
        chunk = conn.recv(4096)
        if not chunk:
            break
        got += chunk
    return conn, got


def test_headers_sent_a_byte_at_a_time_are_cut_off(cluster: Cluster) -> None:
    cluster.api(HEADER_READ_TIMEOUT_S="1")
    with socket.create_connection(("127.0.0.1", cluster.port), timeout=10) as conn:
        started = time.monotonic()
        conn.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n")  # and never the blank line that ends the headers
        assert conn.recv(4096) == b""  # closed by the server, not answered
    assert time.monotonic() - started < 6
    with socket.create_connection(("127.0.0.1", cluster.port), timeout=10) as idle:  # before the first byte too
        started = time.monotonic()
        assert idle.recv(4096) == b"" and time.monotonic() - started < 6
    assert cluster.http.get("/health").status_code == 200


def test_event_streams_are_bounded_per_client(cluster: Cluster) -> None:
    cluster.api(AUTH_JWT_SECRET=SECRET, SSE_STREAMS_PER_OWNER="2")
    carol = {"authorization": f"Bearer {token('carol')}"}
    job_id = cluster.submit(example_bytes("island.json"), **carol).json()["id"]  # no worker: it stays queued
    events = f"/api/jobs/{job_id}/events"
    opened = [open_stream(cluster.port, events, carol) for _ in range(2)]
    try:
        assert all(got.startswith(b"HTTP/1.1 200") and b"data:" in got for _, got in opened)
        third, got = open_stream(cluster.port, events, carol)
        third.close()
        assert got.startswith(b"HTTP/1.1 429") and b"retry-after" in got.lower()
        dave = {"authorization": f"Bearer {token('dave')}"}
        other = cluster.submit(example_bytes("island.json"), **dave).json()["id"]
        conn, got = open_stream(cluster.port, f"/api/jobs/{other}/events", dave)
        conn.close()
        assert got.startswith(b"HTTP/1.1 200")  # another client has its own slots
    finally:
        for conn, _ in opened:
            conn.close()
    deadline = time.monotonic() + 10  # closed streams give their slots back
    while True:
        conn, got = open_stream(cluster.port, events, carol)
        conn.close()
        if got.startswith(b"HTTP/1.1 200"):
            break
        assert time.monotonic() < deadline, "the closed streams' slots were not given back"
        time.sleep(0.1)


def test_jobs_in_flight_are_capped_per_owner(cluster: Cluster) -> None:
    cluster.api(AUTH_JWT_SECRET=SECRET, MAX_ACTIVE_JOBS_PER_OWNER="2")
    erin, frank = ({"authorization": f"Bearer {token(who)}"} for who in ("erin", "frank"))
    codes = [cluster.submit(example_bytes("island.json"), **erin).status_code for _ in range(3)]
    assert codes == [202, 202, 429]
    r = cluster.submit(example_bytes("island.json"), **erin)
    assert int(r.headers["retry-after"]) > 0 and "2 jobs queued or running" in r.json()["detail"]
    assert cluster.submit(example_bytes("island.json"), **frank).status_code == 202
    first = cluster.http.get("/api/jobs", headers=erin).json()["items"][0]["id"]
    assert cluster.http.post(f"/api/jobs/{first}/cancel", headers=erin).status_code == 202
    assert cluster.submit(example_bytes("island.json"), **erin).status_code == 202  # room again


def test_caps_are_422s_naming_the_field(cluster: Cluster) -> None:
    cluster.api()
    job = json.loads(example_bytes("island.json"))
    job["pieces"] = [{**job["pieces"][0], "id": f"P{i}", "qty": 1000} for i in range(3)]
    r = cluster.submit(job)
    assert r.status_code == 422
    problems = {p["code"]: p for p in r.json()["errors"]}
    assert set(problems) <= {"TOO_MANY_COPIES", "TOO_MANY_VERTICES", "TOO_MANY_CUTOUTS"}
    problem = problems["TOO_MANY_COPIES"]
    assert problem["path"] == "pieces[0].qty"
    assert "3000" in problem["message"] and f"at most {MAX_COPIES}" in problem["message"]  # how many, and the cap
