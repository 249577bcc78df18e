#!/usr/bin/env python3
"""Refresh the Chinese translation: lupdate → fill from the dictionary → lrelease.

1. ``pyside6-lupdate`` collects every ``tr()``/``translate()`` string of the GUI code (``kdocs_viewer/app.py``
   and ``kdocs_viewer/gui/*.py``) and of the core's ``core.i18n.translate()`` calls
   (``kdocs_viewer/core/*.py``) into ``resources/translations/kdocs_viewer_zh_CN.ts``;
2. each message gets its translation from ``resources/translations/zh_CN.json``: keys are the English source
   text, or ``"Context|source"`` when one context needs a different wording; numerus (``%n``) messages get
   the one Chinese plural form;
3. ``pyside6-lrelease`` compiles ``kdocs_viewer/translations/kdocs_viewer_zh_CN.qm`` (committed, so
   ``pip install .`` needs no Qt tools).

``--check`` only reports strings without a translation (exit status 1 when there are any). Run with the
project's venv: ``.venv/bin/python scripts/update_translations.py``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANG = "zh_CN"
TS_FILE = ROOT / "resources" / "translations" / f"kdocs_viewer_{LANG}.ts"
DICT_FILE = ROOT / "resources" / "translations" / f"{LANG}.json"
QM_FILE = ROOT / "kdocs_viewer" / "translations" / f"kdocs_viewer_{LANG}.qm"


def _tool(name: str) -> str:
    """The PySide6 tool next to this Python (the venv), else on PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install PySide6 into the venv")
    return found


def sources() -> list[Path]:
    files = [
        ROOT / "kdocs_viewer" / "app.py",
        *sorted((ROOT / "kdocs_viewer" / "gui").glob("*.py")),
        *sorted((ROOT / "kdocs_viewer" / "core").glob("*.py")),
    ]
    return [f for f in files if f.name != "__init__.py" or f.stat().st_size > 0]


def run_lupdate(ts_file: Path) -> None:
    ts_file.parent.mkdir(parents=True, exist_ok=True)
    rel = [str(f.relative_to(ROOT)) for f in sources()]
    subprocess.run(
        [_tool("pyside6-lupdate"), *rel, "-no-obsolete", "-locations", "relative", "-ts", str(ts_file)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def load_dictionary() -> dict[str, str]:
    data = json.loads(DICT_FILE.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise SystemExit(f"{DICT_FILE}: expected an object of source → translation")
    return {str(k): str(v) for k, v in data.items() if not k.startswith("//")}


def fill(ts_file: Path, dictionary: dict[str, str]) -> list[str]:
    """Write translations into ``ts_file``; returns "Context|source" of every message left untranslated."""
    tree = ET.parse(ts_file)
    root = tree.getroot()
    root.set("language", LANG)
    missing: list[str] = []
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            source = message.findtext("source") or ""
            text = dictionary.get(f"{name}|{source}", dictionary.get(source))
            translation = message.find("translation")
            if translation is None:
                translation = ET.SubElement(message, "translation")
            for child in list(translation):
                translation.remove(child)
            if text is None:
                translation.text = None
                translation.set("type", "unfinished")
                missing.append(f"{name}|{source}")
                continue
            translation.attrib.pop("type", None)
            if message.get("numerus") == "yes":
                translation.text = None
                ET.SubElement(translation, "numerusform").text = text
            else:
                translation.text = text
    ET.indent(tree, space="    ")
    with ts_file.open("wb") as handle:
        handle.write(b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n')
        tree.write(handle, encoding="utf-8", xml_declaration=False)
        handle.write(b"\n")
    return missing


def run_lrelease(ts_file: Path, qm_file: Path) -> None:
    qm_file.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [_tool("pyside6-lrelease"), str(ts_file), "-qm", str(qm_file)], check=True, stdout=subprocess.DEVNULL
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="only list untranslated strings")
    args = parser.parse_args()
    dictionary = load_dictionary()
    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            ts = Path(tmp) / TS_FILE.name
            run_lupdate(ts)
            missing = fill(ts, dictionary)
    else:
        run_lupdate(TS_FILE)
        missing = fill(TS_FILE, dictionary)
        run_lrelease(TS_FILE, QM_FILE)
        print(f"wrote {TS_FILE.relative_to(ROOT)} and {QM_FILE.relative_to(ROOT)}")
    for item in missing:
        print(f"untranslated: {item!r}", file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
