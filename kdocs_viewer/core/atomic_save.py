"""Writes that never clobber or half-finish: a locked ``.name.kdocs.part`` file, fsynced, then renamed.

Writes go to a ``.name.kdocs.part`` file in the target folder, are fsynced, then renamed without
clobbering (``os.link`` fails if the name exists; ``os.replace`` only when the user asked to overwrite).
Whatever goes wrong — an exception, a cancel, a failing data source — the part file is removed, so the
folder only ever holds complete pictures. What a killed process could not remove, the next save into that
folder does: a writer holds its part file locked, so one nobody holds is known to be abandoned.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import re
import shutil
import stat
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Literal

from kdocs_viewer.core.cache import NO_HARD_LINKS, CachedFile
from kdocs_viewer.core.file_names import MAX_NAME_BYTES, ConflictPolicy, NameReserver, fit_utf8, with_counter
from kdocs_viewer.core.formats import SNIFF_BYTES

if sys.platform != "win32":
    import fcntl

__all__ = [
    "CHUNK_BYTES",
    "SaveCancelled",
    "SaveOutcome",
    "SourceChanged",
    "is_part_name",
    "read_head",
    "remove_stale_parts",
    "save_atomically",
    "save_reserved",
]

CHUNK_BYTES = 1 << 20  # cancel is checked between chunks

log = logging.getLogger(__name__)


class SaveCancelled(Exception):
    """The cancel event was set; nothing was left behind."""


@dataclass(frozen=True)
class SaveOutcome:
    status: Literal["saved", "skipped"]
    path: Path
    bytes: int = 0
    identical: bool = False  # skipped because ``path`` already holds the same bytes


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise SaveCancelled("cancelled")


def _chunks(data: bytes | Iterable[bytes]) -> Iterator[bytes | memoryview]:
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), CHUNK_BYTES):
            yield view[start : start + CHUNK_BYTES]
    else:
        yield from data


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


_O_BINARY = getattr(os, "O_BINARY", 0)
_EXCLUSIVE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY


class SourceChanged(Exception):
    """A cached file was evicted or replaced between the lookup and the copy: fetch the picture again."""


# --- part files -----------------------------------------------------------------------------------
#
# A part file is ours when its name says so (``.NAME.kdocs.part``, or ``.NAME.kdocs-N.part`` past a name
# in use) and stale when no live writer holds it. A writer holds its part from creation until the part is
# renamed or removed: locked with ``flock`` where there is one (the kernel drops the lock when the process
# dies, SIGKILL included), open on Windows (where an open file cannot be deleted). A pid in the name would
# not do: pids are reused. Within this process the parts held are also listed (``_HeldParts``): where
# ``flock`` is emulated with per-process locks (NFS) a sweep would otherwise be granted our own writers'
# locks, and on Windows a part is briefly closed before its rename.

_PART_NAME = re.compile(r"\..+\.kdocs(?:-[1-9][0-9]{0,2})?\.part", re.DOTALL)
_PART_ATTEMPTS = 100
_NO_LOCKS = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EINVAL})


def _part_name(final: str, attempt: int) -> str:
    tail = ".kdocs" + (f"-{attempt}" if attempt else "") + ".part"
    return fit_utf8("." + final, MAX_NAME_BYTES - len(tail)) + tail


def is_part_name(name: str) -> bool:
    """True when ``name`` is the name of one of our part files (a user's ``foo.part`` never is)."""
    return _PART_NAME.fullmatch(name) is not None


def _identity(st: os.stat_result) -> tuple[int, int]:
    return st.st_dev, st.st_ino


def _try_lock(fd: int, *, wait: bool) -> bool:
    """Lock the open file exclusively; False when another holder has it (only when not ``wait``ing).

    Where the file system has no locks the writer goes on unlocked and a sweep treats the file as held:
    a part that cannot be shown to be abandoned is never deleted.
    """
    if sys.platform == "win32":
        return True  # holding the file open is the lock there
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as e:
        if e.errno not in _NO_LOCKS:
            raise
        return wait
    return True


class _HeldParts:
    """The part files this process holds, by identity. A writer's "is the file still mine" check and a
    sweep's "nobody holds it, remove it" happen under one mutex, so in this process they never interleave
    whatever the file system's locks are worth."""

    def __init__(self) -> None:
        self.guard = threading.Lock()
        self._held: Counter[tuple[int, int]] = Counter()  # a count: two parts may link one cached file

    def adopt_if_still_at(self, fd: int, path: Path) -> tuple[int, int] | None:
        """Register the file open as ``fd`` if ``path`` still names it; its identity, else None."""
        ident = _identity(os.fstat(fd))
        with self.guard:
            try:
                if _identity(os.stat(path)) != ident:
                    return None
            except FileNotFoundError:
                return None
            self._held[ident] += 1
        return ident

    def drop(self, ident: tuple[int, int]) -> None:
        with self.guard:
            self._held[ident] -= 1
            if self._held[ident] <= 0:
                del self._held[ident]

    def holds(self, ident: tuple[int, int]) -> bool:
        """Call with ``guard`` held."""
        return ident in self._held


_HELD = _HeldParts()


class _PartTaken(Exception):
    """A sweep removed the part file between its creation and our lock: claim another name."""


class _HeldPart:
    """A part file this process created and holds until it is renamed into place or removed."""

    def __init__(self, path: Path, fd: int, ident: tuple[int, int]) -> None:
        self.path = path
        self._fd: int | None = fd
        self._ident: tuple[int, int] | None = ident

    def fileno(self) -> int:
        assert self._fd is not None
        return self._fd

    def before_rename(self) -> None:
        """Windows cannot rename or delete an open file, so close it there (still listed as held);
        elsewhere the lock stays until ``release``."""
        if sys.platform == "win32" and self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def release(self) -> None:
        """Let go; call it only once the part's name is gone (renamed or removed)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)
        if self._ident is not None:
            ident, self._ident = self._ident, None
            _HELD.drop(ident)

    def discard(self) -> None:
        """Remove the part file while still holding it (so no sweep can race us), then let go."""
        self.before_rename()
        try:
            _remove_quietly(self.path)
        finally:
            self.release()


def _claim_part(folder: Path, final: str, make: Callable[[Path], int]) -> _HeldPart:
    """Create and hold a fresh part file for ``final``.

    ``make(path)`` creates the file and returns an open descriptor; it must fail with FileExistsError rather
    than touch an existing file, and raise _PartTaken if the file vanished before it could open it. The
    file is locked right after creation. A sweep that came in between took the lock first and removed the
    file while holding it, so once our lock is granted the file is no longer at ``path``: the identity
    check below sees that and the claim moves on to another name. That is why no age rule is needed.
    """
    for attempt in range(_PART_ATTEMPTS + 1):
        path = folder / _part_name(final, attempt)
        try:
            fd = make(path)
        except (FileExistsError, _PartTaken):  # another writer's part, or one the sweep could not remove
            continue
        try:
            _try_lock(fd, wait=True)  # waits only while a sweep checks this very file
            ident = _HELD.adopt_if_still_at(fd, path)
        except BaseException:
            os.close(fd)
            _remove_quietly(path)
            raise
        if ident is not None:
            return _HeldPart(path, fd, ident)
        os.close(fd)
    raise FileExistsError(errno.EEXIST, "no free part file name", str(folder / _part_name(final, 0)))


def _remove_if_stale(path: Path) -> bool:
    if sys.platform == "win32":
        with _HELD.guard:
            try:
                if _HELD.holds(_identity(os.stat(path))):
                    return False
                os.unlink(path)  # fails while a writer of another process holds it open
            except OSError:
                return False
        return True
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if not _try_lock(fd, wait=False):
            return False
        ident = _identity(os.fstat(fd))
        with _HELD.guard:
            if _HELD.holds(ident) or _identity(os.lstat(path)) != ident:
                return False  # held by a writer of ours, or replaced since we opened it
            os.unlink(path)  # still under our lock: a writer racing for this file sees it gone
        return True
    except OSError:
        return False
    finally:
        os.close(fd)


def remove_stale_parts(folder: Path) -> int:
    """Remove the part files of ours in ``folder`` that no live writer holds; return how many went.

    Every save calls this before it writes, so a part file left by a crash or a ``kill -9`` is gone after
    the next save into that folder. Only names of ours are touched (see ``is_part_name``), only regular
    files, and only when no live process holds them.
    """
    removed = 0
    try:
        entries = os.scandir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    with entries:
        for entry in entries:
            if not is_part_name(entry.name):
                continue
            try:
                regular = entry.is_file(follow_symlinks=False)
            except OSError:
                continue
            if regular and _remove_if_stale(Path(entry.path)):
                removed += 1
    if removed:
        log.info("removed %d part file(s) left by an interrupted save in %s", removed, folder)
    return removed


def _write_part(
    folder: Path, final: str, data: bytes | Iterable[bytes], cancel: threading.Event | None
) -> tuple[_HeldPart, int]:
    """Write a fresh, exclusive part file for ``final`` to disk; removed again on any failure."""
    part = _claim_part(folder, final, lambda path: os.open(path, _EXCLUSIVE, 0o666))
    size = 0
    try:
        with open(part.fileno(), "wb", closefd=False) as f:
            for chunk in _chunks(data):
                _check(cancel)
                f.write(chunk)
                size += len(chunk)
            _check(cancel)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        part.discard()
        raise
    return part, size


@functools.cache
def _new_file_mode() -> int:
    """The mode a file created with 0666 gets under this process's umask (read without changing it where
    the OS allows: ``os.umask`` can only be read by setting it, which races with other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _place_cached(
    folder: Path, final: str, source: CachedFile, cancel: threading.Event | None
) -> tuple[_HeldPart, int]:
    """Make a part file for ``final`` that is a complete, durable copy of ``source``, without reading it
    into Python.

    A hard link when the cached file is not yet shared with a saved picture and the folder's file system
    allows it: the viewer's cache and the saved file then share one copy of the bytes (the cache checks an
    entry's identity before every use, so a later edit of the saved file is never served as the cloud
    picture). Otherwise a kernel copy (``shutil.copyfile``), so two saved pictures are never one file that
    an edit of either would change. Raises SourceChanged when the cache evicted or replaced the file.
    """
    linked = False

    def make(part: Path) -> int:
        nonlocal linked
        try:
            shared = os.stat(source.path).st_nlink > 1
        except FileNotFoundError:
            raise SourceChanged() from None
        if not shared:
            try:
                os.link(source.path, part)
            except FileExistsError:
                raise
            except OSError as e:
                if not os.path.lexists(source.path):
                    raise SourceChanged() from None
                if e.errno not in NO_HARD_LINKS:
                    raise
            else:
                linked = True
                try:
                    return os.open(part, os.O_WRONLY | _O_BINARY)
                except FileNotFoundError:
                    raise _PartTaken() from None
                except BaseException:
                    _remove_quietly(part)
                    raise
        linked = False
        return os.open(part, _EXCLUSIVE, 0o666)

    _check(cancel)
    part = _claim_part(folder, final, make)
    try:
        if linked:
            if not source.matches(os.fstat(part.fileno())):
                raise SourceChanged()
            os.chmod(part.path, _new_file_mode())  # the cache's entries are private; a saved picture is not
        else:
            if not source.matches(os.stat(source.path)):
                raise SourceChanged()
            shutil.copyfile(source.path, part.path)  # the file we hold: nobody else removes or replaces it
            if not source.matches(os.stat(source.path)) or os.fstat(part.fileno()).st_size != source.size:
                raise SourceChanged()
        _check(cancel)
        os.fsync(part.fileno())  # the cache never fsyncs: make the bytes durable now
    except FileNotFoundError:
        part.discard()
        raise SourceChanged() from None
    except BaseException:
        part.discard()
        raise
    return part, source.size


def read_head(source: bytes | CachedFile) -> bytes:
    """The first bytes, to name the file by its format."""
    if not isinstance(source, CachedFile):
        return bytes(source[:SNIFF_BYTES])
    try:
        with open(source.path, "rb") as f:
            return f.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise SourceChanged() from None


def _link_no_clobber(part: Path, final: Path) -> None:
    """Give ``part`` the name ``final`` unless it exists (FileExistsError); ``part`` is gone after."""
    try:
        os.link(part, final)
    except FileExistsError:
        raise
    except OSError as e:
        if e.errno not in NO_HARD_LINKS:
            raise
        # No hard links here (FAT, exFAT, some shares): claim the name exclusively, then replace the claim.
        os.close(os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666))
        try:
            os.replace(part, final)
        except BaseException:
            _remove_quietly(final)
            raise
        return
    os.unlink(part)


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable; directories cannot be opened for this on Windows, which is fine."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _same_bytes(path: Path, reference: bytes | CachedFile | Path) -> bool:
    """Whether the regular file ``path`` holds exactly ``reference``'s bytes: sizes first, then the bytes
    chunk by chunk (exact, streamed, and it stops at the first difference — cheaper than hashing both).

    Raises SourceChanged when a cached ``reference`` vanished (the batch fetches it again).
    """
    try:
        st = os.stat(path)
    except OSError:
        return False
    if not stat.S_ISREG(st.st_mode):
        return False
    if isinstance(reference, bytes):
        if st.st_size != len(reference):
            return False
        view = memoryview(reference)
        try:
            with open(path, "rb") as f:
                for start in range(0, len(view), CHUNK_BYTES):
                    if f.read(CHUNK_BYTES) != view[start : start + CHUNK_BYTES]:
                        return False
                return not f.read(1)
        except OSError:
            return False
    source = reference.path if isinstance(reference, CachedFile) else reference
    expected = reference.size if isinstance(reference, CachedFile) else None
    try:
        other = open(source, "rb")  # noqa: SIM115 - closed below, both files in one loop
    except FileNotFoundError:
        raise SourceChanged() from None
    with other:
        size = os.fstat(other.fileno()).st_size
        if (expected is not None and size != expected) or size != st.st_size:
            return False
        try:
            with open(path, "rb") as f:
                while True:
                    ours, theirs = other.read(CHUNK_BYTES), f.read(CHUNK_BYTES)
                    if ours != theirs:
                        return False
                    if not ours:
                        return True
        except OSError:
            return False


def _identical_file(
    folder: Path, name: str, start: int, reference: bytes | CachedFile | Path, reserver: NameReserver
) -> str | None:
    """The existing ``name (n)`` (n from ``start``, up to the first free name) that holds ``reference``'s
    bytes, or None. This is what makes a second save of the same pictures, or a resumed one, a no-op."""
    for n in count(max(start, 1)):
        existing = reserver.on_disk(with_counter(name, n))
        if existing is None:
            return None
        if _same_bytes(folder / existing, reference):
            return existing
    raise AssertionError("unreachable")


def save_reserved(
    folder: Path,
    name: str,
    data: bytes | Iterable[bytes] | CachedFile,
    policy: ConflictPolicy,
    reserver: NameReserver,
    cancel: threading.Event | None,
    start: int,
) -> SaveOutcome:
    """``save_atomically`` for one item of a batch: ``reserver`` is the batch's, and a name in use is
    counted on from ``name (start)``."""
    _check(cancel)
    part: _HeldPart | None = None
    size = 0
    reference: bytes | CachedFile | Path | None = None
    if policy is ConflictPolicy.SKIP_IDENTICAL:
        if isinstance(data, bytes | CachedFile):
            reference = data
        else:  # a stream can be compared only once it is on disk
            part, size = _write_part(folder, name, data, cancel)
            reference = part.path
        try:
            twin = _identical_file(folder, name, start, reference, reserver)
        except BaseException:
            if part is not None:
                part.discard()
            raise
        if twin is not None:
            if part is not None:
                part.discard()
            return SaveOutcome("skipped", folder / twin, identical=True)
    final = reserver.reserve(name, policy, start=start)
    if final is None:
        return SaveOutcome("skipped", folder / with_counter(name, start))
    try:
        if part is None:  # else written above, to compare
            if isinstance(data, CachedFile):
                part, size = _place_cached(folder, final, data, cancel)
            else:
                part, size = _write_part(folder, final, data, cancel)
        while True:
            _check(cancel)
            part.before_rename()
            if policy is ConflictPolicy.OVERWRITE:
                os.replace(part.path, folder / final)
                break
            try:
                _link_no_clobber(part.path, folder / final)
                break
            except FileExistsError:  # created by someone else since we looked
                reserver.mark_existing(final)
                if policy is ConflictPolicy.SKIP:
                    return SaveOutcome("skipped", folder / final)
                if policy is ConflictPolicy.SKIP_IDENTICAL and _same_bytes(folder / final, part.path):
                    return SaveOutcome("skipped", folder / final, identical=True)
                final = reserver.reserve(name, policy, start=start) or final
        part.release()  # the part's name is gone: nothing is left for a sweep to find
        part = None
        _fsync_dir(folder)
        return SaveOutcome("saved", folder / final, size)
    except BaseException:
        reserver.release(final)
        raise
    finally:
        if part is not None:
            part.discard()


def save_atomically(
    folder: Path,
    name: str,
    data: bytes | Iterable[bytes],
    *,
    policy: ConflictPolicy,
    reserver: NameReserver | None = None,
    cancel: threading.Event | None = None,
) -> SaveOutcome:
    """Write ``data`` as ``folder/name`` (or the name the policy picks) completely or not at all.

    Raises SaveCancelled when ``cancel`` is set before the rename, and re-raises whatever the data source
    or the file system raised; in every such case no part file and no partial final file remain. Without a
    ``reserver`` (a save of its own) stale part files in ``folder`` are removed first; a batch that brings
    its reserver does that once, as ``save_batch`` does.
    """
    folder = Path(folder)
    if reserver is None:
        remove_stale_parts(folder)
        reserver = NameReserver(folder)
    elif reserver.folder != folder:
        raise ValueError("the NameReserver belongs to another folder")
    return save_reserved(folder, name, data, policy, reserver, cancel, 1)
