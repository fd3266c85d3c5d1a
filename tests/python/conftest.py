"""Starts `openwatch serve` on a loopback port for the session and gives boto3 / CLI access."""

import json
import os
import re
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY = "AKIDPYTESTKEY0000001"
SECRET_KEY = "pytest/secret/key/0123456789abcdefghijk"
ACCOUNT = "210987654321"


def _binary() -> Path:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "openwatch"


@pytest.fixture(scope="session")
def server():
    data = tempfile.mkdtemp(prefix="openwatch-pytest-")
    config = Path(data) / "config.json"
    # Age windows off: the CloudTrail round trip loads a 2023 archive through PutLogEvents.
    config.write_text(json.dumps({
        "accessKeys": [{"accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY, "accountId": ACCOUNT}],
        "putLogEvents": {"maxAgeMs": None, "maxFutureMs": None},
    }))
    proc = subprocess.Popen(
        [str(_binary()), "serve", "--listen", "127.0.0.1:0", "--data-dir", str(Path(data) / "store"),
         "--config", str(config)],
        stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    endpoint = None
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        m = re.search(r"on (http://127\.0\.0\.1:\d+)", line)
        if m:
            endpoint = m.group(1)
            break
    if endpoint is None:
        proc.kill()
        raise RuntimeError("openwatch serve did not start: " + (proc.stderr.read() or ""))
    with urllib.request.urlopen(endpoint + "/health", timeout=10) as r:
        assert json.load(r) == {"status": "ok"}
    yield endpoint
    proc.terminate()
    assert proc.wait(timeout=60) == 0, "graceful shutdown exit code"


@pytest.fixture(scope="session")
def logs(server):
    return boto3.client(
        "logs", endpoint_url=server, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
    )


@pytest.fixture(scope="session")
def cli(server):
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_PAGER": "",
    })
    aws = Path(os.environ.get("VIRTUAL_ENV", ROOT / "target" / "py-venv")) / "bin" / "aws"

    def run(*args):
        out = subprocess.run(
            [str(aws), "--endpoint-url", server, "--output", "json", "logs", *args],
            env=env, capture_output=True, text=True, timeout=120,
        )
        return out.returncode, (json.loads(out.stdout) if out.stdout.strip() else None), out.stderr

    return run
