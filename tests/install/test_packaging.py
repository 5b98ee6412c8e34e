"""The files that install livesupport, read as what they claim: the wheel lists every package, and the container's
Dockerfile and compose.yaml run real `livesupport` commands, as a non-root user, in the order a deployment needs."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import yaml

from livesupport.cli import command_line
from livesupport.settings import _worker_mode
from tests.install.files import SOURCES, dockerfile, healthcheck
from tests.utils import ROOT

APP_SERVICES = {"migrate", "web1", "web2", "worker"}


def _livesupport_command(argv: list[str], where: str) -> str:
    """The subcommand of a `livesupport ...` command line, which the real argument parser accepts."""
    assert argv[0] == "livesupport", f"{where} runs {argv}, not livesupport"
    try:
        args = command_line().parse_args(argv[1:])
    except SystemExit:
        raise AssertionError(f"{where}: `{shlex.join(argv)}` is not a livesupport command line") from None
    return str(args.command)


def test_the_wheel_lists_every_folder_of_the_package_and_ships_the_pages() -> None:
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {".".join(p.relative_to(ROOT).parts) for p in (ROOT / "livesupport").rglob("*")
               if p.is_dir() and p.name != "__pycache__"} | {"livesupport"}
    assert set(tool["packages"]) == folders | {"livesupport.templates", "livesupport.static"}
    assert tool["package-dir"] == {"livesupport.templates": "templates", "livesupport.static": "static"}


def test_the_image_builds_a_wheel_then_installs_it_and_serves_as_a_user_with_a_health_check() -> None:
    lines = dockerfile()
    stages = [i for i, line in enumerate(lines) if line.upper().startswith("FROM ")]
    assert len(stages) >= 2, "a build stage and a final stage"
    build, final = lines[stages[0]:stages[-1]], lines[stages[-1]:]
    assert any(line.startswith("RUN ") and re.search(r"pip (wheel|install build)|-m build", line) for line in build)
    assert any(line.startswith("COPY --from=") for line in final)
    assert any(line.startswith("RUN ") and re.search(r"pip install \S*\.whl", line) for line in final), \
        "the final stage installs the wheel"
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), f"the process runs as {users or 'root'}"
    assert any(line.startswith("HEALTHCHECK ") for line in final)
    probe = healthcheck()  # run against a real server by tests/install/test_wheel.py
    assert probe[0] == "python" and "http://127.0.0.1:8000/healthz" in probe[-1], probe
    assert any(line.startswith("VOLUME ") and "/data" in line for line in final)
    assert any(line.startswith("ENV ") and "DATA_DIR=/data" in line for line in final)
    [cmd] = [line for line in final if line.startswith("CMD ")]
    argv = json.loads(cmd[4:])
    assert _livesupport_command(argv, "the image's CMD") == "serve"
    assert argv[argv.index("--host") + 1] == "0.0.0.0"


def _interpolated(value: str) -> str:
    """Compose's ${VAR:-default} is its default; ${VAR:?message} (a value one must give) a stand-in."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{([A-Z_]+):\?[^}]*\}", r"<\1>", value)


def test_compose_migrates_once_then_starts_two_web_processes_and_one_worker() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", *APP_SERVICES}
    commands = {}
    for name in APP_SERVICES:
        service = services[name]
        assert service["build"] in (".", {"context": "."}), f"{name} runs the image built from the Dockerfile"
        commands[name] = _livesupport_command(service["command"], f"compose's {name}")
        env = {k: _interpolated(str(v)) for k, v in service["environment"].items()}
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://") and "@postgres:" in env["DATABASE_URL"], name
        assert env["REDIS_URL"].startswith("redis://redis:"), name
        # One key for every process (a cookie signed by web1 is read by web2), and it must be given.
        assert env["SECRET_KEY"] == "<SECRET_KEY>", f"{name}: SECRET_KEY is {service['environment']['SECRET_KEY']}"
        assert env["BASE_URL"].startswith("http"), name
        if commands[name] == "serve":  # the worker runs the scheduled jobs, not the web processes
            assert not _worker_mode(env.get("WORKER", "auto"), bool(env["REDIS_URL"])), f"{name} runs the jobs too"
            assert any(str(v).startswith("data:/data") for v in service["volumes"]), f"{name} shares the attachments"
    assert commands == {"migrate": "migrate", "web1": "serve", "web2": "serve", "worker": "worker"}
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name in ("web1", "web2", "worker"):
        after = services[name]["depends_on"]
        assert after["migrate"]["condition"] == "service_completed_successfully", name
        assert after["redis"]["condition"] == "service_healthy", name
    assert len({tuple(services[n]["ports"]) for n in ("web1", "web2")}) == 2, "web1 and web2 on ports of their own"


def test_the_build_context_keeps_out_what_the_image_does_not_need() -> None:
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", "data", "tests"} <= ignored
    copied = {part for line in dockerfile() if line.startswith("COPY ") and "--from" not in line
              for part in line.split()[1:-1]}
    assert not copied & ignored, f"the Dockerfile copies what .dockerignore leaves out: {copied & ignored}"
    assert all(Path(ROOT / part).exists() for part in copied), copied
    assert {part.rstrip("/") for part in copied} == set(SOURCES), "the image builds from what the wheel test builds from"
