"""The image builds and its `loyalty-bot check-config` works, where Docker can run."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from sandbox.botapi import TOKEN

ROOT = Path(__file__).resolve().parent.parent
IMAGE = "cafe-loyalty-bot:test"


def docker_engine() -> str | None:
    """Why Docker cannot be used here, or None when it can."""
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    probe = subprocess.run(["docker", "info"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return "no Docker engine is running (docker info failed)"
    return None


REASON = docker_engine()


@pytest.mark.skipif(REASON is not None, reason=f"Docker image test skipped: {REASON}")
def test_the_image_builds_and_checks_its_config() -> None:
    subprocess.run(["docker", "build", "-t", IMAGE, str(ROOT)], check=True, timeout=900)
    result = subprocess.run(
        ["docker", "run", "--rm", "-e", f"BOT_TOKEN={TOKEN}", IMAGE, "loyalty-bot", "check-config"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    # The default database path is on the volume.
    assert result.stdout.strip() == "Settings OK: database data/loyalty.db"
    assert TOKEN not in result.stdout + result.stderr


def test_dockerignore_keeps_secrets_and_state_out_of_the_image() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in (".env", ".venv", ".git", "*.db", "data/"):
        assert pattern in ignored
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'VOLUME ["/app/data"]' in dockerfile and "WORKDIR /app\n" in dockerfile
    assert "HEALTHCHECK" in dockerfile and '"loyalty-bot", "health"' in dockerfile
