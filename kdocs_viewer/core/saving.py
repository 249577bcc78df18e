"""Saving pictures to a folder: file names people can read, and writes that never clobber or half-finish.

Names come from a template (``{index:04d} {cell} {caption}``), are sanitised for Windows, macOS and Linux
at once (a folder is often copied between them) and capped at 255 UTF-8 bytes. The extension comes from the
bytes, never from the URL: a signed URL says nothing reliable about the format.

Writes go to a ``.name.kdocs.part`` file in the target folder, are fsynced, then renamed without
clobbering (``os.link`` fails if the name exists; ``os.replace`` only when the user asked to overwrite).
Whatever goes wrong — an exception, a cancel, a failing data source — the part file is removed, so the
folder only ever holds complete pictures. What a killed process could not remove, the next save into that
folder does: a writer holds its part file locked, so one nobody holds is known to be abandoned.

Names are reserved across the whole batch, case-insensitively, so two pictures called "image" never race
for one file and a batch stays portable to case-insensitive file systems.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import logging
import os
import queue
import re
import shutil
import string
import sys
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from itertools import count
from pathlib import Path
from typing import Literal

from pathvalidate import sanitize_filename

from kdocs_viewer.core.cache import NO_HARD_LINKS, CachedFile
from kdocs_viewer.core.formats import SNIFF_BYTES, sniff_extension
from kdocs_viewer.core.i18n import translate
from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.redact import redact_links

if sys.platform != "win32":
    import fcntl

# Index first so a folder sorts in workbook order; the cell leads a person back to the sheet.
DEFAULT_TEMPLATE = "{index:04d} {cell} {caption}"
FIELDS = ("index", "pic_key", "sheet", "cell", "caption", "tag")
MAX_NAME_BYTES = 255
CHUNK_BYTES = 1 << 20  # cancel is checked between chunks
PROGRESS_INTERVAL = 0.1  # seconds: progress callbacks at most ~10 Hz

_SEPARATORS = "-_.,;~+=·—–"
_END_STRIP = " " + _SEPARATORS  # trailing dots/spaces are illegal on Windows; leading dots hide files
_INVALID = re.compile(r'[<>:"/\\|?*]')
_LEAD = re.compile(rf"^[\s{re.escape(_SEPARATORS)}]*")
_TRAIL = re.compile(rf"[\s{re.escape(_SEPARATORS)}]*$")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]|（\s*）|【\s*】")

log = logging.getLogger(__name__)


class ConflictPolicy(StrEnum):
    UNIQUIFY = "uniquify"  # "name (2).jpg"
    SKIP = "skip"  # leave the existing file alone
    OVERWRITE = "overwrite"  # atomically replace it


class SaveCancelled(Exception):
    """The cancel event was set; nothing was left behind."""


# --- names ----------------------------------------------------------------------------------------

_Piece = tuple[str, str | None, str]  # (literal text, field name or None, format spec)


@functools.lru_cache(maxsize=32)
def _parse_template(template: str) -> tuple[_Piece, ...]:
    if not template.strip():
        raise ValueError(translate("saving", "the name template is empty"))
    for sep in "/\\":
        if sep in template:
            message = translate(
                "saving", "the name template must not contain {separator}: it names files, not folders"
            )
            raise ValueError(message.format(separator=repr(sep)))
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        if "Single '}'" in str(e):
            raise ValueError(
                translate(
                    "saving", "unbalanced braces: a '}' has no matching '{' (write '}}' for a literal one)"
                )
            ) from None
        raise ValueError(
            translate("saving", "unbalanced braces: a '{' is never closed (write '{{' for a literal one)")
        ) from None
    known = ", ".join("{" + f + "}" for f in FIELDS)
    pieces: list[_Piece] = []
    for literal, name, spec, conversion in parsed:
        if name is None:
            pieces.append((literal, None, ""))
            continue
        shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
        if name == "" or name.isdigit():
            message = translate(
                "saving", "positional field {field} is not allowed; use a named field: {known}"
            )
            raise ValueError(message.format(field=shown, known=known))
        if "." in name or "[" in name:
            message = translate(
                "saving", "{field}: attribute or index access is not allowed; use a plain field: {known}"
            )
            raise ValueError(message.format(field=shown, known=known))
        if name not in FIELDS:
            message = translate("saving", "unknown field {field}; the fields are {known}")
            raise ValueError(message.format(field=shown, known=known))
        if conversion or "{" in (spec or ""):
            message = translate("saving", "{field}: conversions and nested fields are not allowed")
            raise ValueError(message.format(field=shown))
        try:
            format(1 if name == "index" else "x", spec or "")
        except ValueError as e:
            message = translate("saving", "{field}: bad format spec ({error})")
            raise ValueError(message.format(field=shown, error=e)) from None
        pieces.append((literal, name, spec or ""))
    return tuple(pieces)


def validate_template(template: str) -> None:
    """Raise ValueError, with a message for people, when ``template`` cannot name files."""
    _parse_template(template)


def _clean(text: str) -> str:
    """One line of text fit for a file name: NFC, no controls or bidi tricks, no reserved characters."""
    text = unicodedata.normalize("NFC", text)
    hidden = ("Cc", "Cf", "Cs")
    text = "".join(
        " " if c.isspace() else c for c in text if c.isspace() or unicodedata.category(c) not in hidden
    )
    return " ".join(_INVALID.sub("_", text).split())


def _join_over_gap(left: str, right: str) -> str:
    """Join the text around a field that rendered empty, keeping one separator: "a - " + " - b" → "a - b"."""
    left_sep, right_sep = _TRAIL.search(left), _LEAD.match(right)
    assert left_sep is not None and right_sep is not None  # both patterns match the empty string
    lsep, rsep = left_sep.group(), right_sep.group()
    sep = lsep if lsep.strip() else rsep if rsep.strip() else " " if (lsep or rsep) else ""
    return left[: left_sep.start()] + sep + right[right_sep.end() :]


def _render_stem(pieces: Sequence[_Piece], ref: PicRef, index: int) -> str:
    values: dict[str, object] = {
        "index": index,
        "pic_key": ref.pic_key,
        "sheet": ref.sheet or "",
        "cell": ref.cell.rsplit("!", 1)[-1] if ref.cell else "",
        "caption": ref.caption or "",
        "tag": ref.tag,
    }
    out, gap = "", False
    for literal, name, spec in pieces:
        out = _join_over_gap(out, literal) if gap else out + literal
        gap = False
        if name is not None:
            try:
                text = _clean(format(values[name], spec))
            except (ValueError, OverflowError):
                text = _clean(str(values[name]))
            if text:
                out += text
            else:
                gap = True
    out = " ".join(_EMPTY_BRACKETS.sub(" ", _clean(out)).split())
    return out.strip(_END_STRIP)


def _fit(text: str, budget: int) -> str:
    """``text`` cut to at most ``budget`` UTF-8 bytes, never through the middle of a character."""
    data = text.encode("utf-8")
    return text if len(data) <= budget else data[: max(budget, 0)].decode("utf-8", "ignore")


def _finish(stem: str, ext: str) -> str | None:
    stem = _fit(stem, MAX_NAME_BYTES - len(ext.encode())).strip(_END_STRIP)
    if not stem:
        return None
    name = sanitize_filename(stem + ext, platform="universal", max_len=MAX_NAME_BYTES)  # reserved: CON → CON_
    return name if name.strip(_END_STRIP) and name != ext else None


def render_name(template: str, ref: PicRef, index: int, ext: str) -> str:
    """The file name for picture ``index`` (1-based); never empty, falls back to the pic_key."""
    ext = ("." + ext.lstrip(".")) if ext else ""
    if not re.fullmatch(r"(\.[A-Za-z0-9]{1,10})?", ext):
        raise ValueError(f"not a file extension: {ext!r}")
    stem = _render_stem(_parse_template(template), ref, index)
    return _finish(stem, ext) or _finish(_clean(ref.pic_key), ext) or f"picture{ext}"


def _with_counter(name: str, n: int) -> str:
    """``name (n).ext``, still within the byte cap."""
    if n <= 1:
        return name
    stem, ext = os.path.splitext(name)
    suffix = f" ({n})"
    return _fit(stem, MAX_NAME_BYTES - len((suffix + ext).encode())).rstrip() + suffix + ext


def _key(name: str) -> str:
    """Case- and normalisation-insensitive identity, as macOS and Windows see names."""
    return unicodedata.normalize("NFC", name).casefold()


class NameReserver:
    """Thread-safe claims on final names in one folder, for one batch.

    A name is free when no other item of the batch holds it and no file of that name exists (compared
    case-insensitively with what was in the folder at the start, and checked live on disk).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._reserved: set[str] = set()
        try:
            self._existing = {_key(n): n for n in os.listdir(self.folder)}
        except FileNotFoundError:
            self._existing = {}

    def reserve(self, name: str, policy: ConflictPolicy, *, start: int = 1) -> str | None:
        """Claim ``name`` or, past ``start``, ``name (n)``; None when SKIP meets an existing file.

        Under OVERWRITE an existing file keeps its own spelling ("Image.JPG"), so it is replaced rather than
        joined by a near-twin; names claimed by this batch are never overwritten.
        """
        with self._lock:
            for n in count(max(start, 1)):
                candidate = _with_counter(name, n)
                key = _key(candidate)
                if key in self._reserved:
                    continue
                on_disk = self._existing.get(key)
                if on_disk is None and os.path.lexists(self.folder / candidate):
                    on_disk = candidate
                if on_disk is not None:
                    if policy is ConflictPolicy.SKIP:
                        return None
                    if policy is ConflictPolicy.UNIQUIFY:
                        continue
                    candidate = on_disk
                self._reserved.add(key)
                return candidate
        raise AssertionError("unreachable")

    def release(self, name: str) -> None:
        with self._lock:
            self._reserved.discard(_key(name))

    def mark_existing(self, name: str) -> None:
        """Someone else created ``name`` meanwhile (found when the no-clobber rename refused)."""
        with self._lock:
            self._existing[_key(name)] = name


# --- atomic writes --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveOutcome:
    status: Literal["saved", "skipped"]
    path: Path
    bytes: int = 0


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


class _SourceChanged(Exception):
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
    return _fit("." + final, MAX_NAME_BYTES - len(tail)) + tail


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
    an edit of either would change. Raises _SourceChanged when the cache evicted or replaced the file.
    """
    linked = False

    def make(part: Path) -> int:
        nonlocal linked
        try:
            shared = os.stat(source.path).st_nlink > 1
        except FileNotFoundError:
            raise _SourceChanged() from None
        if not shared:
            try:
                os.link(source.path, part)
            except FileExistsError:
                raise
            except OSError as e:
                if not os.path.lexists(source.path):
                    raise _SourceChanged() from None
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
                raise _SourceChanged()
            os.chmod(part.path, _new_file_mode())  # the cache's entries are private; a saved picture is not
        else:
            if not source.matches(os.stat(source.path)):
                raise _SourceChanged()
            shutil.copyfile(source.path, part.path)  # the file we hold: nobody else removes or replaces it
            if not source.matches(os.stat(source.path)) or os.fstat(part.fileno()).st_size != source.size:
                raise _SourceChanged()
        _check(cancel)
        os.fsync(part.fileno())  # the cache never fsyncs: make the bytes durable now
    except FileNotFoundError:
        part.discard()
        raise _SourceChanged() from None
    except BaseException:
        part.discard()
        raise
    return part, source.size


def _read_head(source: bytes | CachedFile) -> bytes:
    """The first bytes, to name the file by its format."""
    if not isinstance(source, CachedFile):
        return bytes(source[:SNIFF_BYTES])
    try:
        with open(source.path, "rb") as f:
            return f.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise _SourceChanged() from None


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


def _save(
    folder: Path,
    name: str,
    data: bytes | Iterable[bytes] | CachedFile,
    policy: ConflictPolicy,
    reserver: NameReserver,
    cancel: threading.Event | None,
    start: int,
) -> SaveOutcome:
    _check(cancel)
    final = reserver.reserve(name, policy, start=start)
    if final is None:
        return SaveOutcome("skipped", folder / _with_counter(name, start))
    part: _HeldPart | None = None
    try:
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
    return _save(folder, name, data, policy, reserver, cancel, 1)


# --- batches --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SaveProgress:
    done: int
    total: int
    bytes_done: int


@dataclass
class SaveItemResult:
    ref: PicRef
    status: Literal["saved", "skipped", "failed", "cancelled"]
    path: Path | None = None
    reason: str | None = None  # for people; never contains a URL or token
    bytes: int = 0


@dataclass
class SaveSummary:
    results: list[SaveItemResult]  # in the order of the refs given

    def _with(self, status: str) -> list[SaveItemResult]:
        return [r for r in self.results if r.status == status]

    @property
    def saved(self) -> list[SaveItemResult]:
        return self._with("saved")

    @property
    def skipped(self) -> list[SaveItemResult]:
        return self._with("skipped")

    @property
    def failed(self) -> list[SaveItemResult]:
        return self._with("failed")

    @property
    def cancelled(self) -> list[SaveItemResult]:
        return self._with("cancelled")

    @property
    def bytes(self) -> int:
        return sum(r.bytes for r in self.results)


def _reason(template: str, error: BaseException) -> str:
    """A short, URL-free account of ``error`` (exception texts from HTTP libraries embed signed URLs),
    put into ``template`` as ``{detail}``."""
    text = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    text = redact_links(text or type(error).__name__, translate("saving", "(link hidden)"))
    return template.format(detail=" ".join(text.split())[:300])


def _batch_starts(template: str, refs: Sequence[PicRef]) -> list[int]:
    """The n-th picture whose name repeats starts at "name (n)", so names do not depend on timing."""
    seen: Counter[str] = Counter()
    starts = []
    for i, ref in enumerate(refs, 1):
        key = _key(render_name(template, ref, i, ""))
        seen[key] += 1
        starts.append(seen[key])
    return starts


Source = bytes | CachedFile
"""What a save's ``fetch`` returns: the bytes, or a complete file to link or copy (the viewer's cache)."""


def save_batch(
    refs: Sequence[PicRef],
    fetch: Callable[[PicRef, threading.Event | None], Source],
    folder: Path,
    *,
    template: str = DEFAULT_TEMPLATE,
    policy: ConflictPolicy = ConflictPolicy.UNIQUIFY,
    workers: int = 8,
    progress: Callable[[SaveProgress], None] | None = None,
    cancel: threading.Event | None = None,
    on_saved: Callable[[PicRef, Path], None] | None = None,
) -> SaveSummary:
    """Fetch and save every picture, ``workers`` fetches at a time; one failure never stops the others.

    Writing (with its fsync) happens outside the fetch slots, on up to ``workers // 2`` more threads, so the
    network keeps ``workers`` downloads busy while finished ones reach the disk. ``on_saved(ref, path)`` is
    called (from a worker) for each picture saved from downloaded bytes — a cache can adopt the file instead
    of storing a second copy; its failures are logged, never a failed save.

    ``folder`` is created if missing, and part files a crashed or killed save left there are removed first
    (``remove_stale_parts``), whatever the policy. ``progress`` is called from the calling thread, at most
    ~10 times a second and once at the end. Setting ``cancel`` stops quickly: items not started become
    "cancelled", writes in flight are removed. Raises ValueError for a bad template before doing anything.
    """
    validate_template(template)
    if workers < 1:
        raise ValueError("workers must be at least 1")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(folder)
    stop = cancel if cancel is not None else threading.Event()
    reserver = NameReserver(folder)
    starts = _batch_starts(template, refs)
    fetch_slots = threading.Semaphore(workers)

    def cancelled(ref: PicRef) -> SaveItemResult:
        return SaveItemResult(ref, "cancelled", reason=translate("saving", "cancelled"))

    def one(i: int) -> SaveItemResult:
        ref = refs[i]
        for attempt in (1, 2):
            if stop.is_set():
                return cancelled(ref)
            try:
                with fetch_slots:
                    data = fetch(ref, stop)
            except Exception as e:
                if stop.is_set():
                    return cancelled(ref)
                failed = translate("saving", "download failed: {detail}")
                return SaveItemResult(ref, "failed", reason=_reason(failed, e))
            try:
                head = _read_head(data)
                if not head:
                    raise ValueError(translate("saving", "the picture is empty (0 bytes)"))
                name = render_name(template, ref, i + 1, sniff_extension(head) or ".bin")
                outcome = _save(folder, name, data, policy, reserver, stop, starts[i])
            except _SourceChanged:
                if attempt == 1:
                    continue  # evicted from the cache meanwhile: the second fetch downloads it
                detail = translate("saving", "the cached copy kept changing while it was being saved")
                failed = translate("saving", "could not save: {detail}")
                return SaveItemResult(ref, "failed", reason=failed.format(detail=detail))
            except SaveCancelled:
                return cancelled(ref)
            except Exception as e:
                failed = translate("saving", "could not save: {detail}")
                return SaveItemResult(ref, "failed", reason=_reason(failed, e))
            break
        if outcome.status == "skipped":
            exists = translate("saving", "{name} already exists").format(name=repr(outcome.path.name))
            return SaveItemResult(ref, "skipped", outcome.path, exists)
        if on_saved is not None and not isinstance(data, CachedFile):
            try:
                on_saved(ref, outcome.path)
            except Exception as e:
                log.warning("after saving a picture: %s", _reason("{detail}", e))
        return SaveItemResult(ref, "saved", outcome.path, bytes=outcome.bytes)

    results: list[SaveItemResult | None] = [None] * len(refs)
    done = bytes_done = 0
    last_report = float("-inf")
    finished: queue.SimpleQueue[Future[SaveItemResult]] = queue.SimpleQueue()  # O(1) per completion
    threads = min(workers + max(1, workers // 2), max(len(refs), 1))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="save") as pool:
        futures: dict[Future[SaveItemResult], int] = {}
        for i in range(len(refs)):
            future = pool.submit(one, i)
            futures[future] = i
            future.add_done_callback(finished.put)
        cancelled_rest = False
        try:
            while done < len(refs):
                with contextlib.suppress(queue.Empty):
                    future = finished.get(timeout=PROGRESS_INTERVAL)
                    i = futures[future]
                    result = cancelled(refs[i]) if future.cancelled() else future.result()
                    results[i] = result
                    done += 1
                    bytes_done += result.bytes
                if stop.is_set() and not cancelled_rest:
                    cancelled_rest = True
                    for future in futures:
                        future.cancel()  # not started yet: they come back as cancelled
                now = time.monotonic()
                if progress is not None and done < len(refs) and now - last_report >= PROGRESS_INTERVAL:
                    last_report = now
                    progress(SaveProgress(done, len(refs), bytes_done))
        except BaseException:
            stop.set()  # a failing progress callback or Ctrl+C: wind the workers down, then re-raise
            for future in futures:
                future.cancel()
            raise
    if progress is not None:
        progress(SaveProgress(done, len(refs), bytes_done))
    return SaveSummary([r for r in results if r is not None])
