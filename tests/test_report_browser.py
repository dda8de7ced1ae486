"""The HTML review in headless Chromium: no console errors, no network requests, a screenshot.

Chromium (Debian's ``chromium`` package, installed by ``make test`` before pytest starts) is driven over the DevTools
protocol on a pipe (``--remote-debugging-pipe``: NUL-terminated JSON on fds 3 and 4), so no
websocket library is needed. Every request the page makes is recorded; only the page itself
(file:) and its embedded images (data:) may appear.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from review_helpers import path_of, rendered, shared_root

SCREENSHOT_DIR = Path(__file__).parents[1] / "reports" / "screenshots"


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "headless Chromium is required: run `make test` (it installs Debian's chromium)"
    return exe


class DevTools:
    """A minimal DevTools-protocol client over Chromium's remote-debugging pipe."""

    def __init__(self, exe: str, profile: Path):
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire():  # the child reads commands on fd 3 and writes replies on fd 4
            os.dup2(to_child_r, 3)
            os.dup2(from_child_w, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             "--disable-default-apps", "--disable-extensions", "--mute-audio",
             f"--user-data-dir={profile}", "--remote-debugging-pipe", "about:blank"],
            # dup2 makes 3 and 4 inheritable; close_fds=False keeps them (the pipe ends
            # themselves are non-inheritable and vanish at exec).
            preexec_fn=wire, close_fds=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        for e in self.events:
            if e.get("method") == method:
                return e
        while True:
            e = self._read(timeout)
            self.events.append(e)
            if e.get("method") == method:
                return e

    def drain(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self.events.append(self._read(max(0.01, end - time.monotonic())))
            except TimeoutError:
                return

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_child], [], [], max(0.0, left))
            if not ready:
                raise TimeoutError("no reply from Chromium")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium closed the pipe: " + self.proc.stderr.read().decode()[-500:])
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # already gone
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)


def visit(html: Path, profile: Path) -> dict:
    """Load ``html`` in headless Chromium; return the protocol events, a screenshot and a few
    facts read from the page."""
    tools = DevTools(chromium(), profile)
    try:
        target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            tools.send(f"{domain}.enable", session=session)
        tools.send("Emulation.setDeviceMetricsOverride",
                   {"width": 1100, "height": 1500, "deviceScaleFactor": 1, "mobile": False}, session=session)
        tools.events.clear()
        tools.send("Page.navigate", {"url": html.resolve().as_uri()}, session=session)
        tools.wait_for("Page.loadEventFired", timeout=60)
        tools.drain(1.5)  # late console messages or requests

        def evaluate(expression):
            return tools.send("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                              session=session)["result"].get("value")

        shot = tools.send("Page.captureScreenshot", {"format": "png"}, session=session, timeout=60)
        facts = {
            "title": evaluate("document.title"),
            "headings": evaluate("Array.from(document.querySelectorAll('h2')).map(h => h.textContent)"),
            "broken_images": evaluate(
                "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).length"),
        }
    finally:
        tools.close()
    return {"events": tools.events, "png_data": base64.b64decode(shot["data"]), **facts}


def console_errors(events: list[dict]) -> list:
    errors = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            errors.append(p)
        if m == "Runtime.exceptionThrown":
            errors.append(p)
        if m == "Log.entryAdded" and p.get("entry", {}).get("level") in ("error", "warning"):
            errors.append(p["entry"])
    return errors


def requests(events: list[dict]) -> list[str]:
    return [e["params"]["request"]["url"] for e in events if e.get("method") == "Network.requestWillBeSent"]


@pytest.fixture(scope="module")
def browser_run(tmp_path_factory):
    info = rendered(shared_root(tmp_path_factory), "weekly")
    run = visit(path_of(info, ".html"), tmp_path_factory.mktemp("chromium-profile"))
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    png = SCREENSHOT_DIR / f"weekly-{info['period']}.png"
    png.write_bytes(run["png_data"])
    return {**run, "png": png, "period": info["period"]}


def test_the_recorder_sees_requests_and_errors(tmp_path):
    """The checks below can fail: a page that calls the network and logs an error is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<html><body><img src="http://127.0.0.1:9/x.png">'
                    "<script>console.error('boom')</script></body></html>")
    run = visit(page, tmp_path / "profile")
    assert any(u.startswith("http://127.0.0.1:9/") for u in requests(run["events"]))
    assert console_errors(run["events"])


def test_no_console_errors(browser_run):
    assert console_errors(browser_run["events"]) == []


def test_no_network_requests(browser_run):
    urls = requests(browser_run["events"])
    assert any(u.startswith("file:") for u in urls)  # the recorder did see the page load
    outside = [u[:80] for u in urls if not u.startswith(("file:", "data:", "about:"))]
    assert outside == []
    failed = [e for e in browser_run["events"] if e.get("method") == "Network.loadingFailed"]
    assert failed == []


def test_page_renders_the_review(browser_run):
    assert browser_run["title"] == f"Weekly review — {browser_run['period']}"
    assert browser_run["headings"][:2] == ["Executive summary", "Scorecard"]
    assert browser_run["broken_images"] == 0
    png = browser_run["png"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000  # a real page, not a blank one
