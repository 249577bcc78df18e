"""What went over the wire for a picture, read from the stand-in's request log (body bytes, Range asked)."""

from __future__ import annotations

from kdocs_viewer.standin.app import RequestLogEntry
from kdocs_viewer.standin.link import parse_range
from kdocs_viewer.standin.server import StandinServer


def picture_gets(server: StandinServer, pic_key: str) -> list[RequestLogEntry]:
    """The GETs of one picture's URL, in the order the server answered them."""
    path = f"/img/{server.config.file_token}/{pic_key}"
    return [e for e in server.request_log() if e.method == "GET" and e.path == path]


def bytes_over_wire(server: StandinServer, pic_key: str) -> int:
    """Body bytes the server sent for one picture (headers not counted)."""
    return sum(e.body_bytes for e in picture_gets(server, pic_key))


def bytes_sent_twice(server: StandinServer, pic_key: str) -> int:
    """Bytes of the picture sent again after a first time (200: all of it; 206: the range asked)."""
    size = len(server.image_bytes(pic_key))
    spans: list[tuple[int, int]] = []  # [first, end)
    for entry in picture_gets(server, pic_key):
        if entry.status == 200:
            spans.append((0, size))
        elif entry.status == 206:
            wanted = parse_range(entry.range, size)
            assert isinstance(wanted, tuple), entry
            spans.append((wanted[0], wanted[1] + 1))
    covered, reach = 0, 0
    for first, end in sorted(spans):
        covered += max(0, end - max(first, reach))
        reach = max(reach, end)
    return sum(end - first for first, end in spans) - covered
