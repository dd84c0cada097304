"""End to end in a real browser: `streamlit run app.py` driven by Playwright + Chromium.

Uses Debian's Chromium (/usr/bin/chromium; `make browser` or scripts/ensure-chromium
installs it) — never a browser downloaded by Playwright. The test uploads a 12-MP JPEG
made from a sample photo, waits for the results, checks the pigment matches are the
ones the library computes for the same file, and saves screenshots beside a
``timing.txt`` with the upload→results time (also printed; run with ``-s`` to see it).
"""

from __future__ import annotations

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
    page.screenshot(path=str(screenshot), full_page=True)
    (tmp_path / "timing.txt").write_text(
        f"12 MP JPEG ({photo.stat().st_size} bytes): upload to results {seconds:.2f} s\n"
    )
    record_property("upload_to_results_12mp_s", round(seconds, 2))
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
    page.screenshot(path=str(tmp_path / f"{path}.png"), full_page=True)
    page.close()
