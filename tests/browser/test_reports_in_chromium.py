"""The three HTML reports opened in headless Chromium from file://, offline.

Chromium is driven over the DevTools protocol on a pipe (--remote-debugging-pipe: commands on fd
3, replies on fd 4, NUL-separated JSON), so no extra Python package is needed. The test records
every network request and every console message / exception, counts the rendered SVG marks in the
live DOM, and saves a full-page screenshot per page under the pytest tmp dir.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from ctdna_resistance.report.cohort_html import render_cohort
from ctdna_resistance.report.html import render_draw_report
from ctdna_resistance.report.longitudinal import render_longitudinal

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
UNIT_DATA = Path(__file__).parents[1] / "unit" / "data"
TIMEOUT = 30.0
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]

# What the live DOM must contain once each page has rendered (selector -> expected count).
COUNT_SCRIPT = (
    """JSON.stringify(Object.fromEntries(%s.map(s => [s, document.querySelectorAll(s).length])))"""
)


class DevToolsPipe:
    """Minimal DevTools protocol client over Chromium's debugging pipe."""

    def __init__(self, user_data_dir: Path) -> None:
        to_browser_read, self._write_fd = os.pipe()
        self._read_fd, from_browser_write = os.pipe()

        def child_fds() -> None:
            os.dup2(to_browser_read, 3)
            os.dup2(from_browser_write, 4)

        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={user_data_dir}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=child_fds,
            pass_fds=(3, 4),
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._read_fd, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the debugging pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write_fd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        seen = lambda: any(  # noqa: E731
            e.get("method") == method and e.get("sessionId") == session for e in self.events
        )
        while not seen():
            self.events.append(self._read_message(deadline))

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._write_fd)
        os.close(self._read_fd)


def _open(browser: DevToolsPipe, page: Path, selectors: list[str], screenshot: Path) -> dict:
    """Load one page in a fresh tab; return requests, console problems and element counts."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
        "sessionId"
    ]
    for domain in ("Page", "Network", "Runtime", "Log"):
        browser.send(f"{domain}.enable", session=session)
    browser.send(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        session=session,
    )
    first_event = len(browser.events)
    browser.send("Page.navigate", {"url": page.as_uri()}, session=session)
    browser.wait_for("Page.loadEventFired", session)
    counts = json.loads(
        browser.send(
            "Runtime.evaluate",
            {"expression": COUNT_SCRIPT % json.dumps(selectors), "returnByValue": True},
            session=session,
        )["result"]["value"]
    )
    size = browser.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
    shot = browser.send(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
        session=session,
    )
    screenshot.write_bytes(base64.b64decode(shot["data"]))
    events = [e for e in browser.events[first_event:] if e.get("sessionId") == session]
    browser.send("Target.closeTarget", {"targetId": target})
    return {
        "requests": [
            e["params"]["request"]["url"]
            for e in events
            if e.get("method") == "Network.requestWillBeSent"
        ],
        "problems": [
            e["params"]
            for e in events
            if e.get("method") == "Runtime.exceptionThrown"
            or (
                e.get("method") == "Runtime.consoleAPICalled"
                and e["params"].get("type") in ("error", "warning", "assert")
            )
            or (
                e.get("method") == "Log.entryAdded"
                and e["params"]["entry"].get("level") in ("error", "warning")
            )
        ],
        "counts": counts,
    }


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """The three reports written as the workflow lays them out (SPEC 6)."""
    root = tmp_path_factory.mktemp("results")
    series = json.loads((UNIT_DATA / "longitudinal_reports.json").read_text(encoding="utf-8"))
    draw = json.loads((UNIT_DATA / "report_example.json").read_text(encoding="utf-8"))
    patient_dir = root / "patients" / "P001"
    (patient_dir / "reports").mkdir(parents=True)
    (patient_dir / "reports" / f"{draw['sample']}.html").write_text(render_draw_report(draw))
    treatments = [t for t in series["treatments"] if t["patient"] == "P001"]
    (patient_dir / "longitudinal.html").write_text(
        render_longitudinal("P001", series["reports"]["P001"], treatments)
    )
    rows = [
        {
            "patient": patient,
            "n_draws": len(reports),
            "first_draw": reports[0]["collection_date"],
            "last_draw": reports[-1]["collection_date"],
            "anti_egfr_start": next(
                t["start_date"]
                for t in series["treatments"]
                if t["patient"] == patient and t["anti_egfr"]
            ),
            "first_emergence_date": reports[1]["collection_date"],
            "first_emergence_sample": reports[1]["sample"],
            "days_from_anti_egfr_start": {"P001": 40, "P002": 60}[patient],
            "mechanisms": ";".join(
                sorted({m for r in reports for m in r["resistance"]["mechanisms"]})
            ),
            "alterations_ever": "",
            "current_status": reports[-1]["resistance"]["status"],
            "current_alterations": "",
            "current_ctdna_status": "",
            "current_ctdna_level": "",
            "current_ctdna_low": "",
            "current_ctdna_high": "",
            "current_molecular_response": "",
            "first_molecular_response_sample": "",
        }
        for patient, reports in sorted(series["reports"].items())
    ]
    (root / "cohort").mkdir()
    (root / "cohort" / "summary.html").write_text(render_cohort(rows, series["reports"]))
    return {
        "draw": patient_dir / "reports" / f"{draw['sample']}.html",
        "longitudinal": patient_dir / "longitudinal.html",
        "cohort": root / "cohort" / "summary.html",
    }


# Expected rendered marks per page, from the fixtures: the per-draw VAF plot has 4 series with
# 6 detected markers; the longitudinal trajectory plot 8 detected + 2 at-LoD markers, 3 treatment
# bars and a 3 x 4 heat map; the cohort page 4 mechanism bars and 2 emergence markers.
EXPECTED = {
    "draw": {
        "svg.vaf-plot": 1,
        "svg.vaf-plot g.series": 4,
        "svg.vaf-plot circle.detected": 6,
    },
    "longitudinal": {
        "svg.trajectory-plot circle.detected": 8,
        "svg.trajectory-plot circle.not-detected": 2,
        "svg.trajectory-plot rect.treatment": 3,
        "svg.trajectory-plot line.withdrawal": 1,
        "svg.heatmap g.heat-cell": 12,
    },
    "cohort": {
        "svg.mechanism-plot rect.bar": 4,
        "svg.emergence-plot circle.emergence": 2,
    },
}


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not on PATH (Debian package 'chromium')")
def test_reports_render_offline_without_errors(pages: dict[str, Path], tmp_path: Path) -> None:
    artifacts = tmp_path / "screenshots"
    artifacts.mkdir()
    browser = DevToolsPipe(tmp_path / "profile")
    try:
        results = {
            name: _open(browser, path, list(EXPECTED[name]), artifacts / f"{name}.png")
            for name, path in pages.items()
        }
    finally:
        browser.close()
    for name, result in results.items():
        # The only request is the page itself: no font, image, script or stylesheet is fetched.
        assert result["requests"] == [pages[name].as_uri()], name
        assert result["problems"] == [], name
        assert result["counts"] == EXPECTED[name], name
        screenshot = artifacts / f"{name}.png"
        assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert screenshot.stat().st_size > 20_000, name  # a blank page compresses far smaller
