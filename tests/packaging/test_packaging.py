"""The packaging recipe and metadata: one app id everywhere, validators clean, the icons the spec makes, and
the smoke test of a built bundle (only when ``packaging/build.sh`` has built one here)."""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from kdocs_viewer.app import APP_ID

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "resources" / "linux"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
BUNDLE = ROOT / "dist" / "kdocs-viewer"


def test_one_app_id_names_the_desktop_file_the_metainfo_and_the_icon() -> None:
    assert sorted(p.name for p in LINUX.iterdir()) == [DESKTOP.name, METAINFO.name]
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    entry.read(DESKTOP, encoding="utf-8")
    desktop = entry["Desktop Entry"]
    assert desktop["Icon"] == APP_ID
    assert desktop["Categories"] == "Graphics;Viewer;"  # one main category
    component = ET.parse(METAINFO).getroot()
    assert component.findtext("id") == APP_ID
    assert component.findtext("launchable") == DESKTOP.name
    for tag in ("url", "developer/name", "screenshots/screenshot/image", "releases/release"):
        assert component.find(tag) is not None, tag
    image = component.findtext("screenshots/screenshot/image") or ""
    assert image.endswith("/docs/screenshot.png") and (ROOT / "docs" / "screenshot.png").is_file()


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_the_desktop_file_validates() -> None:
    done = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_the_metainfo_validates_pedantically() -> None:
    done = subprocess.run(
        ["appstreamcli", "validate", "--pedantic", "--no-net", "--explain", str(METAINFO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout
    problems = [line for line in done.stdout.splitlines() if line[:2] in ("E:", "W:", "P:")]
    assert not problems, done.stdout


def test_the_spec_makes_ico_and_icns_from_the_svg(tmp_path: Path) -> None:
    # A subprocess, as the spec runs it: its QGuiApplication must not become this test run's application.
    done = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "make_icons.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")},
    )
    assert done.returncode == 0, done.stderr
    ico, icns = (Path(line) for line in done.stdout.splitlines())
    with Image.open(ico) as image:
        assert image.format == "ICO"
        assert image.info["sizes"] == {(s, s) for s in (16, 24, 32, 48, 64, 128, 256)}
        assert image.convert("RGBA").getextrema()[3] == (0, 255)  # drawn, on a transparent background
    with Image.open(icns) as image:
        assert image.format == "ICNS" and image.size == (1024, 1024)


@pytest.mark.slow
@pytest.mark.skipif(not (BUNDLE / "kdocs-viewer").is_file(), reason="no bundle: run packaging/build.sh")
def test_the_built_bundle_passes_the_smoke_test() -> None:
    env = {**os.environ, "KDOCS_VENV": str(Path(sys.executable).parent.parent)}
    done = subprocess.run(
        [str(ROOT / "packaging" / "build.sh"), "--smoke-only"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert "smoke: passed" in done.stderr
