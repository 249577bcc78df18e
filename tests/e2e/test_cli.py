"""kdocs-pics as a real subprocess against the stand-in over loopback: scan → resolve → save, the error
paths and their exit codes, Ctrl+C, the keyring, and the token canary."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from kdocs_viewer.core.models import PicRef
from kdocs_viewer.core.piclist import dump_pic_list, parse_pic_list
from kdocs_viewer.core.saving import is_part_name
from kdocs_viewer.standin.dataset import COMMON_KINDS
from kdocs_viewer.standin.server import StandinServer
from tests.conftest import CANARY_TOKEN
from tests.part_files import part_files

TOKEN = "demo-token"
FILE_TOKEN = "demo-workbook"
NO_KEYRING = "keyring.backends.fail.Keyring"
ROOT = Path(__file__).resolve().parents[2]

Factory = Callable[..., StandinServer]


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def both(self) -> str:
        return self.out + self.err


def cli_env(**extra: str) -> dict[str, str]:
    """The test process's environment without anything that would pick a token or a keyring for us."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("KDOCS_") and k not in ("DBUS_SESSION_BUS_ADDRESS", "PYTHON_KEYRING_BACKEND")
    }
    env["PYTHON_KEYRING_BACKEND"] = NO_KEYRING
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Run:
    proc = subprocess.run(
        [sys.executable, "-m", "kdocs_viewer.cli", *args],
        input=(stdin or "").encode(),
        capture_output=True,
        env=env if env is not None else cli_env(),
        cwd=cwd,
        timeout=60,
    )
    return Run(proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8", "replace"))


def write_pics(path: Path, pics: Sequence[PicRef]) -> Path:
    path.write_text(dump_pic_list(pics), encoding="utf-8")
    return path


def saved_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file())


def assert_no_part_files(folder: Path) -> None:
    assert not [p.name for p in folder.iterdir() if p.name.endswith(".part")]


def assert_files_match(folder: Path, server: StandinServer, pics: Sequence[PicRef]) -> None:
    """Every file is byte-identical to the picture its index names ("0003 …" = the third picture)."""
    for path in saved_files(folder):
        index = int(path.name.split(" ", 1)[0])
        assert path.read_bytes() == server.image_bytes(pics[index - 1].pic_key), path.name


@pytest.fixture
def small(standin_factory: Factory) -> StandinServer:
    """Ten pictures: only common, decodable kinds (no empty/corrupt tail)."""
    return standin_factory(pictures=10)


# ---- the happy path -------------------------------------------------------------------------------------


def test_scan_reads_picture_cells_of_every_shape(standin_factory: Factory) -> None:
    server = standin_factory(pictures=9, cell_shape="mixed")
    scan = run_cli("scan", "--base-url", server.base_url, "--file-token", FILE_TOKEN, "--token-stdin",
                   stdin=TOKEN + "\n")  # fmt: skip
    assert scan.code == 0, scan.err
    pics = parse_pic_list(scan.out).pics
    expected = server.pictures()
    assert [(p.ident, p.cell, p.caption) for p in pics] == [(p.ident, p.cell, p.caption) for p in expected]


def test_scan_resolve_save_round_trip(small: StandinServer, tmp_path: Path) -> None:
    base = ["--base-url", small.base_url, "--file-token", FILE_TOKEN]

    scan = run_cli("scan", *base, "--token-stdin", stdin=TOKEN + "\n")
    assert scan.code == 0, scan.err
    pics = parse_pic_list(scan.out).pics
    expected = small.pictures()
    assert pics == expected
    assert [(p.sheet, p.cell, p.caption) for p in pics] == [(p.sheet, p.cell, p.caption) for p in expected]
    assert "found 10 pictures" in scan.err
    pics_file = tmp_path / "pics.json"
    pics_file.write_text(scan.out, encoding="utf-8")

    env = cli_env(KDOCS_ACCESS_TOKEN=TOKEN)
    resolve = run_cli("resolve", *base, "--pics", str(pics_file), env=env)
    assert resolve.code == 0, resolve.err
    lines = [json.loads(line) for line in resolve.out.splitlines()]
    assert [(d["pic_key"], d["tag"]) for d in lines] == [p.ident for p in pics]
    for item in lines:
        assert item["pic_url"].startswith(small.base_url + "/img/")
        if item["tag"] == "cloud":
            assert item["expires_at"] is None
        else:
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["expires_at"])

    out = tmp_path / "out"
    save = run_cli("save", *base, "--pics", str(pics_file), "--out", str(out), env=env)
    assert save.code == 0, save.err
    files = saved_files(out)
    assert len(files) == 10
    assert sorted(save.out.splitlines()) == sorted(str(p) for p in files)
    assert_files_match(out, small, pics)
    assert "saved 10, skipped 0, failed 0 of 10 pictures" in save.err
    assert_no_part_files(out)


def test_saving_twice_into_one_folder_leaves_one_file_per_picture(
    small: StandinServer, tmp_path: Path
) -> None:
    pics_file = tmp_path / "pics.json"
    pics_file.write_text(dump_pic_list(small.pictures()), encoding="utf-8")
    base = ["--base-url", small.base_url, "--file-token", FILE_TOKEN, "--pics", str(pics_file)]
    env = cli_env(KDOCS_ACCESS_TOKEN=TOKEN)
    out = tmp_path / "out"
    first = run_cli("save", *base, "--out", str(out), env=env)
    assert first.code == 0, first.err
    before = {p.name: p.stat().st_ino for p in saved_files(out)}
    assert len(before) == 10
    again = run_cli("save", *base, "--out", str(out), env=env)
    assert again.code == 0, again.err
    assert "saved 0, skipped 10, failed 0 of 10 pictures" in again.err
    assert {p.name: p.stat().st_ino for p in saved_files(out)} == before
    always = run_cli("save", *base, "--out", str(out), "--on-conflict", "uniquify", env=env)
    assert always.code == 0, always.err
    assert len(saved_files(out)) == 20  # the old behaviour stays available on request


def test_pic_list_from_stdin_and_a_template(small: StandinServer, tmp_path: Path) -> None:
    pics = small.pictures()[:3]
    out = tmp_path / "out"
    run = run_cli(
        "save",
        "--base-url",
        small.base_url,
        "--file-token",
        FILE_TOKEN,
        "--pics",
        "-",
        "--out",
        str(out),
        "--template",
        "{pic_key}",
        "--jobs",
        "2",
        stdin=dump_pic_list(pics),
        env=cli_env(KDOCS_ACCESS_TOKEN=TOKEN),
    )
    assert run.code == 0, run.err
    for ref in pics:
        (path,) = out.glob(f"{ref.pic_key}.*")
        assert path.read_bytes() == small.image_bytes(ref.pic_key)


def test_conflict_policies(small: StandinServer, tmp_path: Path) -> None:
    pics = small.pictures()[:4]
    pics_file = write_pics(tmp_path / "pics.json", pics)
    out = tmp_path / "out"
    env = cli_env(KDOCS_ACCESS_TOKEN=TOKEN)

    def save(policy: str) -> Run:
        args = ["save", "--base-url", small.base_url, "--file-token", FILE_TOKEN, "--pics", str(pics_file)]
        return run_cli(*args, "--out", str(out), "--on-conflict", policy, env=env)

    assert save("uniquify").code == 0
    first = {p.name: p.read_bytes() for p in saved_files(out)}
    assert len(first) == 4

    again = save("uniquify")
    assert again.code == 0, again.err
    assert len(saved_files(out)) == 8  # new names next to the old ones
    assert {p.name: p.read_bytes() for p in saved_files(out) if p.name in first} == first

    skip = save("skip")
    assert skip.code == 0, skip.err
    assert "saved 0, skipped 4, failed 0" in skip.err
    assert len(saved_files(out)) == 8

    victim = out / sorted(first)[0]
    victim.write_bytes(b"changed by the user")
    overwrite = save("overwrite")
    assert overwrite.code == 0, overwrite.err
    assert "saved 4" in overwrite.err
    assert victim.read_bytes() == first[victim.name]
    assert len(saved_files(out)) == 8
    assert_no_part_files(out)


# ---- errors and exit codes ------------------------------------------------------------------------------


def test_bad_pic_list_names_the_line(small: StandinServer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("pic_key,tag\nabc,attachment\nxyz\n", encoding="utf-8")
    run = run_cli(
        "resolve", "--base-url", small.base_url, "--file-token", FILE_TOKEN, "--pics", str(bad),
        env=cli_env(KDOCS_ACCESS_TOKEN=TOKEN),
    )  # fmt: skip
    assert run.code == 2
    assert "bad pic list" in run.err
    assert "line 3" in run.err
    assert run.out == ""
    assert small.api_calls_today() == 0


def test_missing_pic_list_file_and_bad_template(small: StandinServer, tmp_path: Path) -> None:
    env = cli_env(KDOCS_ACCESS_TOKEN=TOKEN)
    base = ["--base-url", small.base_url, "--file-token", FILE_TOKEN]
    missing = run_cli("resolve", *base, "--pics", str(tmp_path / "nope.json"), env=env)
    assert missing.code == 2
    assert "cannot read the pic list" in missing.err
    pics_file = write_pics(tmp_path / "pics.json", small.pictures()[:1])
    template = run_cli(
        "save", *base, "--pics", str(pics_file), "--out", str(tmp_path / "o"), "--template", "{nope}", env=env
    )
    assert template.code == 2
    assert "--template" in template.err
    assert not (tmp_path / "o").exists()


def test_rejected_token_exits_3(small: StandinServer, tmp_path: Path) -> None:
    env = cli_env(KDOCS_ACCESS_TOKEN="not-the-right-token")
    scan = run_cli("scan", "--base-url", small.base_url, "--file-token", FILE_TOKEN, env=env)
    assert scan.code == 3
    assert "the access token was rejected (code 20007):" in scan.err
    assert "--token-stdin" in scan.err and "KDOCS_ACCESS_TOKEN" in scan.err

    pics_file = write_pics(tmp_path / "pics.json", small.pictures())
    out = tmp_path / "out"
    save = run_cli(
        "save", "--base-url", small.base_url, "--file-token", FILE_TOKEN, "--pics", str(pics_file),
        "--out", str(out), env=env,
    )  # fmt: skip
    assert save.code == 3
    assert "code 20007" in save.err
    assert not out.exists() or saved_files(out) == []


def test_missing_token_says_the_three_ways(small: StandinServer) -> None:
    run = run_cli("scan", "--base-url", small.base_url, "--file-token", FILE_TOKEN)
    assert run.code == 3
    assert "no access token" in run.err
    for way in ("--token-stdin", "KDOCS_ACCESS_TOKEN", "kdocs-pics token set"):
        assert way in run.err
    assert small.api_calls_today() == 0


def test_unknown_file_token_exits_2(small: StandinServer, tmp_path: Path) -> None:
    env = cli_env(KDOCS_ACCESS_TOKEN=TOKEN)
    scan = run_cli("scan", "--base-url", small.base_url, "--file-token", "no-such-book", env=env)
    assert scan.code == 2
    assert "unknown file token 'no-such-book'" in scan.err
    pics_file = write_pics(tmp_path / "pics.json", small.pictures()[:2])
    resolve = run_cli(
        "resolve", "--base-url", small.base_url, "--file-token", "no-such-book", "--pics", str(pics_file),
        env=env,
    )  # fmt: skip
    assert resolve.code == 2
    assert "unknown file token" in resolve.err
    assert resolve.out == ""
    # The same words whether the sheets call or a resolve batch found out, the code said once.
    for run in (scan, resolve):
        assert run.err.count("(code 20404)") == 1 and "FileNotFound; no such file" in run.err


def test_a_failing_picture_exits_1_and_the_others_are_saved(small: StandinServer, tmp_path: Path) -> None:
    pics = small.pictures()[:5]
    ghost = PicRef("NoSuchPictureKey123456", "attachment")
    pics_file = write_pics(tmp_path / "pics.json", [*pics[:2], ghost, *pics[2:]])
    out = tmp_path / "out"
    env = cli_env(KDOCS_ACCESS_TOKEN=TOKEN)
    base = ["--base-url", small.base_url, "--file-token", FILE_TOKEN, "--pics", str(pics_file)]

    resolve = run_cli("resolve", *base, env=env)
    assert resolve.code == 1
    lines = [json.loads(line) for line in resolve.out.splitlines()]
    assert len(lines) == 6
    assert "error" in lines[2] and "pic_url" not in lines[2]
    assert all("pic_url" in item for i, item in enumerate(lines) if i != 2)

    save = run_cli("save", *base, "--out", str(out), env=env)
    assert save.code == 1
    assert "failed: NoSuchPictureKey123456" in save.err
    assert "saved 5, skipped 0, failed 1 of 6" in save.err
    files = saved_files(out)
    assert len(files) == 5
    by_index = [*pics[:2], ghost, *pics[2:]]
    assert_files_match(out, small, by_index)


def test_no_plain_token_option_and_documented_exit_codes() -> None:
    for given in (["--token", CANARY_TOKEN], [f"--token={CANARY_TOKEN}"]):
        bad = run_cli("scan", "--file-token", FILE_TOKEN, *given)
        assert bad.code == 2
        assert "there is no --token option" in bad.err
        assert CANARY_TOKEN not in bad.both
    abbreviated = run_cli("scan", "--file-token", FILE_TOKEN, "--token-std", stdin=TOKEN)
    assert abbreviated.code == 2  # no abbreviations: "--tok…" never turns into --token-stdin
    help_text = run_cli("--help")  # the exit statuses once, on the top-level help
    assert help_text.code == 0
    for line in ("0    success", "1    some pictures", "2    usage", "3    authentication", "4    network"):
        assert line in help_text.out
    for line in ("129  stopped by SIGHUP", "130  cancelled (Ctrl+C)", "143  stopped by SIGTERM"):
        assert line in help_text.out
    assert "--token-stdin" in help_text.out
    assert "no --token option" in help_text.out


# ---- Ctrl+C, SIGTERM, SIGHUP, kill -9 ---------------------------------------------------------------------


def _start_save(
    server: StandinServer,
    pics_file: Path,
    out: Path,
    *extra: str,
    jobs: int = 1,
    tty: int | None = None,
    inherit_signals: bool = False,
) -> subprocess.Popen[bytes]:
    """A save in the background; its output goes to pipes, or all of it to the terminal ``tty``.

    The child starts with Ctrl+C and hangups at their defaults, as from an interactive shell, however this
    suite was started (``nohup`` or a background job hand it them ignored, and the CLI rightly keeps them
    so); ``inherit_signals``: with this process's dispositions instead (the nohup test sets its own).
    """
    args = ["save", "--base-url", server.base_url, "--file-token", FILE_TOKEN, "--pics", str(pics_file)]
    with contextlib.ExitStack() as restore:
        if not inherit_signals and sys.platform != "win32":
            defaults = ((signal.SIGINT, signal.default_int_handler), (signal.SIGHUP, signal.SIG_DFL))
            for signum, default in defaults:
                restore.callback(signal.signal, signum, signal.signal(signum, default))
        return subprocess.Popen(
            [sys.executable, "-m", "kdocs_viewer.cli", *args, "--out", str(out), "--jobs", str(jobs), *extra],
            stdin=subprocess.DEVNULL if tty is None else tty,
            stdout=subprocess.PIPE if tty is None else tty,
            stderr=subprocess.PIPE if tty is None else tty,
            env=cli_env(KDOCS_ACCESS_TOKEN=TOKEN),
            start_new_session=tty is not None,
        )


def _wait_for_files(
    proc: subprocess.Popen[bytes], out: Path, count: int = 1, *, drain: int | None = None
) -> None:
    """Until ``out`` holds ``count`` finished files; reads ``drain`` meanwhile so a terminal never fills."""
    deadline = time.monotonic() + 30
    while not (out.is_dir() and sum(not p.name.endswith(".part") for p in out.iterdir()) >= count):
        assert proc.poll() is None, "finished before the test could step in"
        assert time.monotonic() < deadline
        if drain is not None:
            with contextlib.suppress(BlockingIOError):
                os.read(drain, 1 << 16)
        time.sleep(0.02)


STOP_SIGNALS = [
    pytest.param("SIGINT", 130, id="ctrl-c"),
    pytest.param("SIGTERM", 143, id="sigterm"),
    pytest.param("SIGHUP", 129, id="sighup"),
]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals to a child")
@pytest.mark.parametrize(("signame", "code"), STOP_SIGNALS)
def test_a_stop_signal_cancels_cleanly_with_the_summary(
    standin_factory: Factory, tmp_path: Path, signame: str, code: int
) -> None:
    server = standin_factory(pictures=10, latency_ms=250)
    pics = server.pictures()
    out = tmp_path / "out"
    proc = _start_save(server, write_pics(tmp_path / "pics.json", pics), out)
    try:
        _wait_for_files(proc, out)
        proc.send_signal(getattr(signal, signame))
        stdout, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    err = stderr.decode()
    assert proc.returncode == code, err
    assert "cancel" in err
    assert_no_part_files(out)
    files = saved_files(out)
    assert 1 <= len(files) < 10
    assert_files_match(out, server, pics)
    assert len(stdout.decode().splitlines()) == len(files)
    summary = re.search(r"saved (\d+), skipped 0, failed 0, cancelled (\d+) of 10 pictures", err)
    assert summary is not None, err
    assert int(summary[1]) == len(files) and int(summary[2]) == 10 - len(files)


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal and SIGHUP")
def test_closing_the_terminal_mid_save_exits_129_and_leaves_no_part_files(
    standin_factory: Factory, tmp_path: Path
) -> None:
    import pty

    server = standin_factory(pictures=10, latency_ms=250)
    pics = server.pictures()
    out = tmp_path / "out"
    terminal, tty = pty.openpty()  # a progress bar on stderr, then the terminal goes away mid-save
    proc = _start_save(server, write_pics(tmp_path / "pics.json", pics), out, tty=tty)
    os.close(tty)
    os.set_blocking(terminal, False)
    try:
        _wait_for_files(proc, out, drain=terminal)
        os.close(terminal)
        proc.send_signal(signal.SIGHUP)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 129  # not "unexpected error" from writing the summary to no terminal
    assert_no_part_files(out)
    assert 1 <= len(saved_files(out)) < 10
    assert_files_match(out, server, pics)


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal")
def test_a_terminal_gone_before_its_hangup_arrives_does_not_stop_the_save(
    standin_factory: Factory, tmp_path: Path
) -> None:
    """The terminal goes away and no SIGHUP comes (yet, or at all): the lines for it have nowhere to go,
    and that is no reason to stop. Writing a saved file's path to it failed with EIO, which ended the
    batch as "cannot write to <folder>: Input/output error" (a flaky failure of the test above, whose
    SIGHUP came after the terminal had closed)."""
    import pty

    server = standin_factory(pictures=8, latency_ms=150)
    pics = server.pictures()
    out = tmp_path / "out"
    terminal, tty = pty.openpty()
    proc = _start_save(server, write_pics(tmp_path / "pics.json", pics), out, tty=tty)  # not its ctty
    os.close(tty)
    os.set_blocking(terminal, False)
    try:
        _wait_for_files(proc, out, drain=terminal)
        os.close(terminal)  # gone; no signal follows
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert len(saved_files(out)) == 8
    assert_no_part_files(out)
    assert_files_match(out, server, pics)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGHUP")
def test_under_nohup_a_hangup_does_not_stop_the_save(standin_factory: Factory, tmp_path: Path) -> None:
    server = standin_factory(pictures=6, latency_ms=100)
    pics = server.pictures()
    out = tmp_path / "out"
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what nohup does; the child inherits it
    try:
        proc = _start_save(server, write_pics(tmp_path / "pics.json", pics), out, inherit_signals=True)
    finally:
        signal.signal(signal.SIGHUP, previous)
    try:
        _wait_for_files(proc, out)
        proc.send_signal(signal.SIGHUP)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr.decode()
    assert "saved 6, skipped 0, failed 0 of 6 pictures" in stderr.decode()
    assert_files_match(out, server, pics)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_after_kill_9_mid_save_one_more_save_leaves_no_part_files(
    standin_factory: Factory, tmp_path: Path
) -> None:
    server = standin_factory(pictures=300, latency_ms=20)
    pics = [p for p in server.pictures() if server.picture_info(p.pic_key).kind in COMMON_KINDS]
    assert len(pics) > 250
    pics_file = write_pics(tmp_path / "pics.json", pics)
    out = tmp_path / "out"
    proc = _start_save(server, pics_file, out, jobs=8)
    try:
        _wait_for_files(proc, out, 20)
        # Kill the moment a part file is seen, so that the kill usually lands mid-write and leaves one
        # behind (a kill between writes leaves none; the next save must cope with either).
        deadline = time.monotonic() + 5
        while proc.poll() is None and time.monotonic() < deadline and not part_files(out):
            pass
        proc.kill()
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == -signal.SIGKILL, "the save ended before the kill"
    left = part_files(out)
    assert all(is_part_name(name) for name in left), left
    saved_before = len(saved_files(out)) - len(left)
    assert 20 <= saved_before < len(pics)

    again = run_cli(
        "save", "--base-url", server.base_url, "--file-token", FILE_TOKEN, "--pics", str(pics_file),
        "--out", str(out), "--on-conflict", "skip", env=cli_env(KDOCS_ACCESS_TOKEN=TOKEN),
    )  # fmt: skip
    assert again.code == 0, again.err
    assert f"skipped {saved_before}, failed 0 of {len(pics)} pictures" in again.err
    assert part_files(out) == []
    files = saved_files(out)
    assert sorted(int(p.name.split(" ", 1)[0]) for p in files) == list(range(1, len(pics) + 1))
    assert_files_match(out, server, pics)


def test_token_revoked_during_save_exits_3(standin_factory: Factory, tmp_path: Path) -> None:
    server = standin_factory(pictures=10, latency_ms=150)
    pics = server.pictures()
    out = tmp_path / "out"
    proc = _start_save(server, write_pics(tmp_path / "pics.json", pics), out)
    try:
        _wait_for_files(proc, out)
        # The token is withdrawn and the links handed out so far stop working: the next picture's
        # re-resolve is answered 20007, and the rest of the batch stops instead of failing one by one.
        server.set_token("someone-else")
        for ref in pics:
            server.revoke_url(ref.pic_key)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, stderr.decode()
    assert "the access token was rejected (code 20007)" in stderr.decode()
    assert_no_part_files(out)
    assert 1 <= len(saved_files(out)) < 10
    assert_files_match(out, server, pics)


# ---- the keyring ----------------------------------------------------------------------------------------


@pytest.mark.keyring_service
def test_token_set_status_clear_with_a_real_keyring(
    secret_service: object, canary_standin: StandinServer, tmp_path: Path
) -> None:
    env = cli_env(
        DBUS_SESSION_BUS_ADDRESS=os.environ["DBUS_SESSION_BUS_ADDRESS"],
        PYTHON_KEYRING_BACKEND="keyring.backends.SecretService.Keyring",
    )
    base = ["--base-url", canary_standin.base_url]
    runs = []

    status = run_cli("token", "status", *base, env=env)
    runs.append(status)
    assert status.code == 0, status.err
    assert "not stored" in status.out and "Secret Service" in status.out

    stored = run_cli("token", "set", *base, stdin=CANARY_TOKEN + "\n", env=env)
    runs.append(stored)
    assert stored.code == 0, stored.err
    assert "Secret Service" in stored.err

    status = run_cli("token", "status", *base, env=env)
    runs.append(status)
    assert re.search(r"token:\s+stored", status.out)

    # No --token-stdin, no env: the keyring's token is used.
    scan = run_cli("scan", *base, "--file-token", FILE_TOKEN, "--verbose", env=env)
    runs.append(scan)
    assert scan.code == 0, scan.err
    assert len(parse_pic_list(scan.out).pics) == len(canary_standin.pictures())

    cleared = run_cli("token", "clear", *base, env=env)
    runs.append(cleared)
    assert cleared.code == 0
    assert "removed" in cleared.err
    status = run_cli("token", "status", *base, env=env)
    runs.append(status)
    assert "not stored" in status.out

    for run in runs:
        assert CANARY_TOKEN not in run.both


def test_token_set_without_a_keyring_fails_and_writes_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = cli_env(HOME=str(home), XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"))
    run = run_cli("token", "set", stdin=CANARY_TOKEN, env=env)
    assert run.code == 4
    assert "not stored" in run.err and "no keyring backend" in run.err
    assert CANARY_TOKEN not in run.both
    assert not any(p.is_file() for p in home.rglob("*"))  # no plaintext fallback anywhere


# ---- the canary -----------------------------------------------------------------------------------------


def test_canary_token_never_leaks(canary_standin: StandinServer, tmp_path: Path) -> None:
    server = canary_standin
    base = ["--base-url", server.base_url, "--file-token", FILE_TOKEN, "--verbose"]
    env = cli_env(KDOCS_ACCESS_TOKEN=CANARY_TOKEN)
    runs: list[Run] = []

    scan = run_cli("scan", *base, "--token-stdin", stdin=CANARY_TOKEN)
    runs.append(scan)
    assert scan.code == 0, scan.err
    assert "DEBUG" in scan.err  # verbose logging really was on

    pics = [*server.pictures()[:6], PicRef("NoSuchPictureKey123456", "local")]
    pics_file = write_pics(tmp_path / "pics.json", pics)

    server.queue_faults(["500", "html"])  # retried, logged
    resolve = run_cli("resolve", *base, "--pics", str(pics_file), env=env)
    runs.append(resolve)
    assert resolve.code == 1

    server.revoke_url(pics[0].pic_key)
    server.queue_image_faults(["403", "500", "truncated"])
    save = run_cli("save", *base, "--pics", str(pics_file), "--out", str(tmp_path / "out"), env=env)
    runs.append(save)
    assert save.code == 1

    server.queue_faults(["20007"])
    rejected = run_cli("resolve", *base, "--pics", str(pics_file), env=env)
    runs.append(rejected)
    assert rejected.code == 3

    wrong = run_cli("scan", *base, env=cli_env(KDOCS_ACCESS_TOKEN=CANARY_TOKEN + "-wrong"))
    runs.append(wrong)
    assert wrong.code == 3

    for run in runs:
        assert CANARY_TOKEN not in run.both
        assert "access_token=" not in run.err or "access_token=…" in run.err
    assert CANARY_TOKEN not in repr(server.request_log())
    for path in (tmp_path / "out").iterdir():
        assert CANARY_TOKEN.encode() not in path.read_bytes()
