"""docker-compose.yml, the Dockerfile and the env files, checked without a Docker engine.

The compose file parses, every service can be created (an image or a build), start
order only waits on what can become healthy or finish, and every ${VAR} it reads is
documented in .env.example. config/env.example lists every NEWSFLOW_ setting.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import PREFIX, Settings
from tests.conftest import REPO

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
NEWSFLOW_SERVICES = ("es-setup", "kibana-setup", "worker", "watcher", "flower")
ONE_SHOT = ("es-users", "es-setup", "kibana-setup")


def env_file_names(path: Path) -> dict[str, str]:
    """NAME -> the comment line just above it, for every NAME= line of an env file."""
    names, comment = {}, ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            comment = line
        elif "=" in line:
            names[line.split("=", 1)[0].strip()] = comment
            comment = ""
        else:
            comment = ""
    return names


def command_text(service: dict[str, Any]) -> str:
    command = service.get("command", "")
    return " ".join(command) if isinstance(command, list) else str(command)


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    return env if isinstance(env, dict) else dict(item.split("=", 1) for item in env)


def test_compose_names_the_whole_stack() -> None:
    assert set(SERVICES) == {
        "redis",
        "elasticsearch",
        "es-users",
        "es-setup",
        "kibana",
        "kibana-setup",
        "worker",
        "watcher",
        "flower",
    }


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_an_image_or_a_build(name: str) -> None:
    assert "image" in SERVICES[name] or "build" in SERVICES[name]


def test_every_variable_compose_reads_is_documented_in_env_example() -> None:
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    used = set(re.findall(r"(?<!\$)\$\{([A-Za-z_]\w*)", text))  # $${X} is the container's own
    documented = env_file_names(REPO / ".env.example")
    assert used - set(documented) == set()
    assert all(documented[name].startswith("#") for name in used if name in documented)


def test_env_example_leaves_every_secret_empty() -> None:
    secrets = {
        line.split("=", 1)[0]: line.split("=", 1)[1]
        for line in (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
        if "PASSWORD=" in line or "KEY=" in line
    }
    assert secrets
    assert all(value == "" for value in secrets.values())


def test_config_env_example_lists_every_setting_with_a_comment() -> None:
    documented = env_file_names(REPO / "config" / "env.example")
    expected = {PREFIX + f.name.upper() for f in fields(Settings)}
    assert expected - set(documented) == set(), "add these to config/env.example"
    assert set(documented) - expected == set(), "no such setting in config/settings.py"
    assert [name for name in expected if not documented[name].startswith("# ")] == []


@pytest.mark.parametrize("name", NEWSFLOW_SERVICES)
def test_newsflow_services_only_set_real_settings(name: str) -> None:
    known = {PREFIX + f.name.upper() for f in fields(Settings)}
    assert {k for k in environment(SERVICES[name]) if k.startswith(PREFIX)} - known == set()


def test_start_order_waits_only_on_what_can_be_healthy_or_done() -> None:
    for name, service in SERVICES.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in SERVICES, (name, dependency)
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], (name, dependency)
            if rule["condition"] == "service_completed_successfully":
                assert dependency in ONE_SHOT, (name, dependency)


@pytest.mark.parametrize(
    ("name", "waits_for"),
    [
        ("es-users", {"elasticsearch": "service_healthy"}),
        ("es-setup", {"elasticsearch": "service_healthy", "es-users": "service_completed_successfully"}),
        ("kibana", {"es-users": "service_completed_successfully"}),
        ("kibana-setup", {"kibana": "service_healthy", "es-setup": "service_completed_successfully"}),
        ("worker", {"redis": "service_healthy", "es-setup": "service_completed_successfully"}),
        ("watcher", {"redis": "service_healthy"}),
    ],
)
def test_each_service_starts_after_what_it_needs(name: str, waits_for: dict[str, str]) -> None:
    depends = {k: v["condition"] for k, v in SERVICES[name]["depends_on"].items()}
    assert depends == waits_for


@pytest.mark.parametrize("name", ONE_SHOT)
def test_setup_jobs_run_once(name: str) -> None:
    assert SERVICES[name]["restart"] == "no"


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("es-setup", "newsflow es setup"),
        ("kibana-setup", "newsflow kibana import"),
        ("worker", "newsflow worker"),
        ("watcher", "newsflow watch /inbox"),
    ],
)
def test_services_run_our_commands(name: str, command: str) -> None:
    assert command_text(SERVICES[name]).startswith(command)


def test_redis_persists_with_an_append_only_file_on_a_volume() -> None:
    redis = SERVICES["redis"]
    assert "--appendonly yes" in command_text(redis)
    assert any(v.endswith(":/data") for v in redis["volumes"])


def test_elasticsearch_is_a_single_node_with_a_fixed_heap_and_security_on() -> None:
    env = environment(SERVICES["elasticsearch"])
    assert env["discovery.type"] == "single-node"
    heap = re.fullmatch(r"-Xms(\S+) -Xmx(\S+)", env["ES_JAVA_OPTS"])
    assert heap
    assert heap.group(1) == heap.group(2)
    assert env["xpack.security.enabled"] == "true"
    assert "ELASTIC_PASSWORD" in env


def test_the_worker_can_be_scaled() -> None:
    worker = SERVICES["worker"]
    assert "container_name" not in worker
    assert "ports" not in worker


def test_the_watcher_and_the_workers_see_the_inbox_at_the_same_path() -> None:
    for name in ("watcher", "worker"):
        assert "./inbox:/inbox" in SERVICES[name]["volumes"], name


def test_flower_asks_for_a_password() -> None:
    auth = environment(SERVICES["flower"])["FLOWER_BASIC_AUTH"]
    assert re.fullmatch(r"\$\{FLOWER_USER[^}]*\}:\$\{FLOWER_PASSWORD:\?[^}]*\}", auth)


def test_ports_are_published_on_loopback_only() -> None:
    published = [p for s in SERVICES.values() for p in s.get("ports", [])]
    assert published
    assert all(str(p).startswith("127.0.0.1:") for p in published)


def test_the_dockerfile_copies_what_exists_and_runs_unprivileged() -> None:
    lines = (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()
    copied = [line.split()[1] for line in lines if line.startswith("COPY ")]
    assert copied
    assert all((REPO / path).exists() for path in copied)
    assert any(line.startswith("USER ") and "root" not in line for line in lines)
