"""The command a patient job runs: hand the job to a long-lived worker, or run it here (issue 19).

A Python job that imports pandas, cyvcf2, pysam and the product pays ~0.6 CPU-s before it reads a
file, more than a whole patient's calls (~25 ms per draw). So a Snakemake job runs this file with
``python -S`` (standard library only: ~20 ms), which passes the job's arguments and its own
stdin/stdout/stderr to a worker (``ctdna_resistance.worker``) over a Unix socket. The worker paid
the imports once; its children run the jobs, one at a time each, with their own exit code, log
and outputs, and one Snakemake job per patient is kept (a new draw re-runs only its patient).
The first job of a run starts the worker; it exits after ``IDLE_S`` without a job.

Without a worker (``CTDNA_RESISTANCE_WORKER=off``, or one that cannot start: no writable private
folder, a socket path too long) the job runs in a fresh interpreter, as before: same outputs.

Keep this module to the standard library: it is run with ``-S``, without site-packages.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import socket
import sys
import time

# the worker exits after this long without a job (override: CTDNA_RESISTANCE_WORKER_IDLE)
IDLE_S = 60.0
# how long a job waits for a worker it started to import everything and listen
START_TIMEOUT_S = 120.0
# how long an interrupted job waits for the worker's child to remove its temporaries
CANCEL_WAIT_S = 30.0
# Linux's limit for a Unix socket path is 107 bytes (104 on macOS)
MAX_SOCKET_PATH = 100
ENV_SWITCH = "CTDNA_RESISTANCE_WORKER"
PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class NoWorker(Exception):
    """The worker cannot be used here: the job runs in a fresh interpreter instead."""


def worker_wanted(environ=os.environ) -> bool:
    return environ.get(ENV_SWITCH, "on").strip().lower() not in {"off", "0", "false", "no"}


def worker_key() -> str:
    """One worker per interpreter, environment, package copy and user: another venv (even of the
    same base Python, whose executable is a symlink to it) or checkout gets its own."""
    parts = [sys.executable, sys.prefix, sys.version, PACKAGE_DIR, str(os.getuid())]
    text = "\0".join(parts)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def private_folder() -> str:
    """A folder only this user can enter, for the worker's socket, lock and log."""
    for base in (os.environ.get("XDG_RUNTIME_DIR"), os.environ.get("TMPDIR"), "/tmp"):
        if not base or not os.path.isdir(base):
            continue
        folder = os.path.join(base, f"ctdna-resistance-{os.getuid()}")
        if len(folder) + 22 > MAX_SOCKET_PATH:
            continue
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        except OSError:
            continue
        info = os.lstat(folder)
        # another user's folder (or a symlink planted in a shared /tmp) is never used
        if info.st_uid == os.getuid() and (info.st_mode & 0o077) == 0 and os.path.isdir(folder):
            return folder
    raise NoWorker("no private folder for the worker's socket (XDG_RUNTIME_DIR, TMPDIR, /tmp)")


def _connect(path: str):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        return None
    return conn


def _start_worker(folder: str, key: str) -> int:
    """Start a worker in its own session (so Snakemake waits for the job, not the worker)."""
    log = os.path.join(folder, f"{key}.log")
    argv = [
        sys.executable,
        "-m",
        "ctdna_resistance.worker",
        "--socket",
        os.path.join(folder, f"{key}.sock"),
        "--idle",
        os.environ.get(f"{ENV_SWITCH}_IDLE", str(IDLE_S)),
    ]
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    return os.posix_spawn(sys.executable, argv, os.environ, file_actions=actions, setsid=True)


def _log_tail(folder: str, key: str) -> str:
    try:
        with open(os.path.join(folder, f"{key}.log"), errors="replace") as handle:
            lines = handle.read().strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def connect_worker():
    """A connection to this interpreter's worker, started here if none is listening."""
    folder = private_folder()
    key = worker_key()
    path = os.path.join(folder, f"{key}.sock")
    conn = _connect(path)
    if conn is not None:
        return conn
    # one job starts the worker; the others wait on the lock and then connect to it
    with open(os.path.join(folder, f"{key}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        conn = _connect(path)
        if conn is not None:
            return conn
        pid = _start_worker(folder, key)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            conn = _connect(path)
            if conn is not None:
                os.waitpid(pid, os.WNOHANG)
                return conn
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                raise NoWorker(
                    f"the worker exited ({status}) before listening: {_log_tail(folder, key)}"
                )
            time.sleep(0.01)
        os.kill(pid, signal.SIGTERM)
        raise NoWorker(f"the worker did not listen within {START_TIMEOUT_S:.0f} s")


def _read_line(conn, buffer: bytearray) -> dict | None:
    """The next JSON line the worker sent, or None when it closed the connection."""
    while b"\n" not in buffer:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        buffer.extend(chunk)
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return json.loads(line)


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def submit(conn, argv: list[str]) -> int | None:
    """Run ``argv`` in a child of the worker with this process's stdio; its exit code.

    None when the worker is stale (its code changed on disk) and has gone: start a new one.
    """
    umask = os.umask(0)
    os.umask(umask)
    # the job's stdin/stdout/stderr, those that are open (a scheduler may close stdin)
    fds = [fd for fd in (0, 1, 2) if _is_open(fd)]
    request = json.dumps(
        {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ), "umask": umask, "fds": fds}
    ).encode()
    message = len(request).to_bytes(8, "big") + request
    buffer = bytearray()
    try:
        sent = socket.send_fds(conn, [message], fds)
        conn.sendall(message[sent:])
        first = _read_line(conn, buffer)
    except (BrokenPipeError, ConnectionResetError):
        first = None  # the worker went (idle or stale) as this job connected: start another
    if first is None or first.get("stale"):
        return None
    child = first["pid"]

    def cancel(signum, frame):
        # Snakemake (or the scheduler) stops the job: the worker's child removes its
        # temporaries (SIGTERM is an interrupt there) and answers with its exit code
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, signal.SIGTERM)
        conn.settimeout(CANCEL_WAIT_S)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, cancel)
    try:
        last = _read_line(conn, buffer)
    except TimeoutError:
        last = None
    if last is None:
        print(
            f"ctdna-resistance: error: the worker's child {child} ended without an exit code "
            "(killed?); see the job's log",
            file=sys.stderr,
        )
        return 1
    return int(last["exit"])


def run_here(argv: list[str]) -> None:
    """The job in a fresh interpreter with site-packages (this process becomes it)."""
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "ctdna_resistance.job_command", *argv])


def main(argv: list[str]) -> int:
    if worker_wanted():
        try:
            for _ in range(3):
                conn = connect_worker()
                with conn:
                    code = submit(conn, argv)
                if code is not None:
                    return code
            raise NoWorker("the worker kept going stale (package files changing?)")
        except NoWorker as why:
            print(f"ctdna-resistance: no worker ({why}); running the job here", file=sys.stderr)
    run_here(argv)
    return 1  # not reached: execv replaced this process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
