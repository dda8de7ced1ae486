"""`make lab` starts JupyterLab on notebooks/ with the kpitools kernel, headless."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.xdist_group("lab")
def test_make_lab_serves_the_notebooks_with_the_kpitools_kernel(tmp_path):
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
           "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    proc = subprocess.Popen(["make", "-s", "lab", f"LAB_PORT={port}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        url, deadline, seen = None, time.monotonic() + 120, []
        while url is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            m = re.search(rf"(http://127\.0\.0\.1:{port}/lab\?token=\w+)", line)
            url = m.group(1) if m else None
        assert url, "no URL printed:\n" + "".join(seen[-20:])
        token = url.split("token=")[1]

        def get(path):
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                         headers={"Authorization": f"token {token}"})
            for _ in range(60):  # the URL is logged a moment before the socket listens
                try:
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        return json.load(resp)
                except urllib.error.URLError as exc:
                    if not isinstance(exc.reason, ConnectionRefusedError):
                        raise
                    time.sleep(0.5)
            raise AssertionError(f"JupyterLab never answered on port {port}")

        specs = get("/api/kernelspecs")
        assert specs["default"] == "kpitools"
        assert "kpitools" in specs["kernelspecs"]
        listing = {item["name"] for item in get("/api/contents/")["content"]}
        notebooks = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        assert notebooks and notebooks <= listing
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
