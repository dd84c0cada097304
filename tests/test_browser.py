"""End to end in a real browser: `streamlit run app.py` driven by Playwright + Chromium.

Uses Debian's Chromium (/usr/bin/chromium; `make browser` or scripts/ensure-chromium
installs it) — never a browser downloaded by Playwright. The test uploads a 12-MP JPEG
made from a sample photo, waits for the results, checks the pigment matches are the
ones the library computes for the same file, and saves screenshots beside a
``timing.txt`` with the upload→results time (also printed; run with ``-s`` to see it).
"""

from __future__ import annotations

import html
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from shade_match.analysis import analyze_image

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: How long to wait for the server and for results before giving up (not a performance
#: assertion: only so a hung server fails the test instead of hanging CI).
GIVE_UP_S = 240

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent (run `make browser`)"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The app served by `streamlit run` on a free port; stopped after the module."""
    port = _free_port()
    log_path = tmp_path_factory.mktemp("server") / "streamlit.log"
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
            "--server.port", str(port), "--server.headless", "true",
            "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + GIVE_UP_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                    if answer.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer on {url}:\n{log_path.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _twelve_megapixel_jpeg(folder: Path) -> Path:
    """A 4000×3000 JPEG made from a sample photo (what a phone camera produces)."""
    from PIL import Image

    source = ROOT / "sample_images" / "back-stubble.jpg"
    path = folder / "scalp-12mp.jpg"
    with Image.open(source) as image:
        image.convert("RGB").resize((4000, 3000), Image.Resampling.LANCZOS).save(path, quality=92)
    return path


def _settle(page) -> None:
    """Wait until the script run triggered by the last action has finished."""
    time.sleep(1.0)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached")
    time.sleep(0.5)


def _full_screenshot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its own container, so grow the viewport."""
    height = page.evaluate("() => Math.max(...[...document.querySelectorAll('*')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": 1280, "height": min(int(height) + 50, 8000)})
    time.sleep(2.0)
    page.screenshot(path=str(path))


def _assert_no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator(
        '[data-testid="stException"]'
    ).first.inner_text()


def test_upload_a_12_megapixel_photo_and_see_the_matches(server, browser, tmp_path, record_property):
    photo = _twelve_megapixel_jpeg(tmp_path)
    expected = analyze_image(photo)
    assert expected.hair is not None and expected.matches

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(GIVE_UP_S * 1000)
    page.goto(server)
    # The app opens on a sample photo, already analysed.
    page.get_by_role("heading", name="Nearest pigments").wait_for()
    _assert_no_exception(page)

    page.get_by_text("Upload photos", exact=True).click()
    page.get_by_text("Choose a sample photo, upload photos or take one with the camera.").wait_for()
    assert page.get_by_role("heading", name="Nearest pigments").count() == 0

    started = time.perf_counter()
    page.locator('input[type="file"]').first.set_input_files(str(photo))
    page.get_by_role("heading", name="Nearest pigments").wait_for()
    top = expected.matches[0]
    page.get_by_text(f"1. {top.name}", exact=False).first.wait_for()
    page.get_by_text(f"ΔE00 {top.delta_e:.2f}", exact=False).first.wait_for()
    seconds = time.perf_counter() - started

    _assert_no_exception(page)
    assert page.get_by_text(f"Level {expected.hair.level}", exact=False).count() >= 1
    assert page.locator('[data-testid="stImage"]').count() >= 1
    screenshot = tmp_path / "consultation-12mp.png"
    _full_screenshot(page, screenshot)
    (tmp_path / "timing.txt").write_text(
        f"12 MP JPEG ({photo.stat().st_size} bytes): upload to results {seconds:.2f} s\n"
    )
    record_property("upload_to_results_12mp_s", round(seconds, 2))

    # The downloads: the report is built when clicked; the JSON follows the contract.
    _settle(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the consultation report (HTML, print-ready)").click()
    report = Path(download.value.path()).read_text(encoding="utf-8")
    assert report.startswith("<!DOCTYPE html>") and "data:image/jpeg;base64," in report
    assert html.escape(top.name) in report and f"{top.delta_e:.2f}" in report
    (tmp_path / "consultation-report.html").write_text(report, encoding="utf-8")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the numbers (JSON)").click()
    record = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert record["ok"] is True and record["file"] == photo.name
    assert [m["id"] for m in record["matches"]] == [m.id for m in expected.matches]
    print(f"\n12 MP upload → results: {seconds:.2f} s (screenshot: {screenshot})")
    page.close()


@pytest.mark.parametrize(
    "path, heading, marker",
    [
        ("training", "Training", "Your pick"),
        ("batch", "Batch", "Photos or a zip of photos"),
        ("palettes", "Palettes", "Browse"),
    ],
)
def test_each_page_opens_in_the_browser(server, browser, tmp_path, path, heading, marker):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(GIVE_UP_S * 1000)
    page.goto(f"{server}/{path}")
    page.get_by_role("heading", name=heading).first.wait_for()
    page.get_by_text(marker, exact=False).first.wait_for()
    _assert_no_exception(page)
    _full_screenshot(page, tmp_path / f"{path}.png")
    page.close()


def test_dragging_on_the_photo_sets_the_hair_region(server, browser, tmp_path):
    from shade_match.ui.widgets import drag_to_rect

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(GIVE_UP_S * 1000)
    page.goto(server)
    page.get_by_role("heading", name="Nearest pigments").wait_for()
    _settle(page)
    page.get_by_text("Adjust: grey card, measure hair here, measure skin here").click()
    frame = page.locator('iframe[title*="streamlit_image_coordinates"]').first
    frame.scroll_into_view_if_needed()
    image = page.frame_locator('iframe[title*="streamlit_image_coordinates"]').locator("img")
    image.wait_for()
    time.sleep(1.0)
    box = image.bounding_box()
    frame_box = frame.bounding_box()
    # The whole photo is visible: the component's frame is as tall as the image.
    assert frame_box["height"] >= box["height"] - 1, (frame_box, box)
    start = (box["width"] * 0.55, box["height"] * 0.30)
    end = (box["width"] * 0.75, box["height"] * 0.50)
    page.mouse.move(box["x"] + start[0], box["y"] + start[1])
    page.mouse.down()
    page.mouse.move(box["x"] + end[0], box["y"] + end[1], steps=5)
    page.mouse.up()
    _settle(page)
    _assert_no_exception(page)
    size = page.get_by_text("pixels of the photo as taken", exact=False).first.inner_text()
    width, height = (int(v) for v in size.rsplit(",", 1)[1].strip(" ).").split("×"))
    expected = drag_to_rect(
        {"x1": start[0], "y1": start[1], "x2": end[0], "y2": end[1], "width": box["width"], "height": box["height"]},
        (width, height),
    )
    inputs = page.locator('[data-testid="stNumberInput"] input').evaluate_all("els => els.map(e => e.value)")
    shown = [int(v) for v in inputs]
    found = next(
        (shown[i : i + 4] for i in range(len(shown) - 3)
         if all(abs(a - b) <= 2 for a, b in zip(shown[i : i + 4], expected))),
        None,
    )
    assert found is not None, f"expected a rectangle near {expected} among the inputs {shown}"
    assert page.get_by_role("heading", name="Nearest pigments").count() == 1
    _full_screenshot(page, tmp_path / "hair-region.png")
    page.close()
