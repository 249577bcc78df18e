"""What a ``PictureSession`` counts: read by the status bar, the benchmark and the quota-minded tests."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SessionStats"]


@dataclass(frozen=True)
class SessionStats:
    """Counters for the status bar, benchmarks and the quota-minded tests."""

    api_calls: int  # calls the client sent since this session started (client.calls_made delta)
    resolve_requests: int  # client.resolve invocations by this session
    image_gets: int  # picture GETs sent, heads and rests included (each may retry inside the Downloader)
    bytes_downloaded: int
    memory_hits: int
    disk_hits: int
    re_resolves: int  # leases replaced because the host refused the URL
    refetches: int  # originals downloaded again by this session (their bytes were evicted)
    duplicate_gets: int  # downloads started while another of the same picture was running: must stay 0
    range_gets: int = 0  # of image_gets, those with a Range header (a head, its growth, the rest after it)
    head_hits: int = 0  # tiles made from a head already in the heads cache

    @property
    def cache_hits(self) -> int:
        return self.memory_hits + self.disk_hits
