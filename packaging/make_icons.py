"""The app icon for the platforms whose executables want a bitmap icon: ``.ico`` (Windows) and ``.icns``
(macOS), rendered at build time from ``kdocs_viewer/icons/kdocs-viewer.svg``, the one drawn source.

Qt renders the SVG (QtSvg is in the bundle anyway); Pillow, a runtime dependency for the stand-in, writes the
two containers. Used by ``kdocs-viewer.spec``; runnable alone: ``python packaging/make_icons.py OUT_DIR``.
"""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "kdocs_viewer" / "icons" / "kdocs-viewer.svg"
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZE = 1024  # Pillow derives the smaller ICNS members from the largest image


def _render(svg: Path, size: int) -> bytes:
    """PNG bytes of ``svg`` at ``size`` × ``size``, transparent background."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise ValueError(f"{svg} is not an SVG Qt can render")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def make_icons(out_dir: Path, svg: Path = SVG) -> tuple[Path, Path]:
    """Write ``kdocs-viewer.ico`` and ``kdocs-viewer.icns`` into ``out_dir``; return their paths."""
    from PIL import Image

    out_dir.mkdir(parents=True, exist_ok=True)
    big = Image.open(io.BytesIO(_render(svg, ICNS_SIZE))).convert("RGBA")
    ico, icns = out_dir / "kdocs-viewer.ico", out_dir / "kdocs-viewer.icns"
    big.save(ico, format="ICO", sizes=[(s, s) for s in ICO_SIZES])
    big.save(icns, format="ICNS")
    return ico, icns


if __name__ == "__main__":
    for path in make_icons(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build/icons")):
        print(path)
