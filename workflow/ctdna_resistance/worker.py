"""The long-lived worker behind ``worker_client``: imports once, forks one child per job (issue 19).

``python -m ctdna_resistance.worker --socket PATH --idle SECONDS`` imports everything a job uses,
then listens on a Unix socket (in a folder only its user can enter). Each connection is one job:
the client sends its argv, working folder, environment, umask and stdin/stdout/stderr; a forked
child takes them over, runs ``job_command.main(argv)`` exactly as a fresh interpreter would, and
sends back its exit code. A child is a copy of the worker made in ~5 ms, so jobs stay isolated (own
process, memory, signals) while none pays the ~0.6 CPU-s of imports.

The worker exits after ``--idle`` seconds with no job asked for or running, and at once, telling the
client so, when a module of the package changed on disk since it started (an edited checkout gets
a new worker). Its last log line gives its own and its jobs' CPU time and peak memory.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import resource
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def preload() -> None:
    """Import what jobs import, including what they import only when a draw needs it."""
    import pyranges  # noqa: F401 - copy number
    import pysam  # noqa: F401 - re-genotyping BAMs

    import ctdna_resistance.genotype
    import ctdna_resistance.io.coverage
    import ctdna_resistance.job_command
    import ctdna_resistance.scripting
    import ctdna_resistance.steps  # noqa: F401
    from ctdna_resistance.report.html import DRAW_TEMPLATE, _environment
    from ctdna_resistance.report.longitudinal import LONGITUDINAL_TEMPLATE
    from ctdna_resistance.schemas import schema_errors

    # what every job builds on first use, built once here: the report templates (compiled) and
    # the schemas' validators
    for template in (DRAW_TEMPLATE, LONGITUDINAL_TEMPLATE):
        _environment().get_template(template)
    for schema in ("report", "samples", "treatments"):
        schema_errors({}, schema)
    _warm_interval_join()


def _warm_interval_join() -> None:
    """One tiny gene-segment join, as copy_number makes for every patient: pandas, pyarrow and
    pyranges import some of their modules on first use, which each forked child would repeat."""
    import pandas as pd
    import pyranges as pr

    from ctdna_resistance.copy_number import overlap_join

    def ranges(start: int, end: int, column: str):
        frame = {"Chromosome": ["1"], "Start": [start], "End": [end], column: [0]}
        return pr.PyRanges(pd.DataFrame(frame))

    pairs = overlap_join(ranges(0, 10, "gene_index"), ranges(5, 20, "segment_index")).df
    if len(pairs) != 1:  # [0, 10) and [5, 20) overlap once
        raise RuntimeError(f"pyranges joined two overlapping ranges into {len(pairs)} pairs")


def package_files() -> dict[str, int]:
    """The package's loaded source files and their modification times."""
    files = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if path and path.startswith(PACKAGE_DIR + os.sep):
            try:
                files[path] = os.stat(path).st_mtime_ns
            except OSError:
                files[path] = -1
    return files


def changed(files: dict[str, int]) -> bool:
    for path, mtime in files.items():
        try:
            if os.stat(path).st_mtime_ns != mtime:
                return True
        except OSError:
            return True
    return False


def _receive(conn) -> tuple[dict, list[int]]:
    data, fds, _flags, _address = socket.recv_fds(conn, 65536, 3)
    if len(data) < 8:
        raise ConnectionError("short request")
    size = int.from_bytes(data[:8], "big")
    body = bytearray(data[8:])
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise ConnectionError("request cut short")
        body.extend(chunk)
    return json.loads(bytes(body)), fds


def _exit_code(value) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    print(value, file=sys.stderr)
    return 1


def run_child(conn) -> None:
    """In the forked child: take over the client's job, run it, answer its exit code, exit."""
    from ctdna_resistance.outputs import terminate_as_interrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    terminate_as_interrupt()  # as in the job itself: SIGTERM unwinds, temporaries are removed
    finished = threading.Event()
    code = 1
    try:
        request, fds = _receive(conn)
        for target, fd in zip(request["fds"], fds, strict=True):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.umask(request["umask"])
        tempfile.tempdir = None  # found again from the job's TMPDIR
        conn.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")

        def watch() -> None:
            # the client went away (killed): stop the job as Snakemake would have
            try:
                gone = not conn.recv(1)
            except OSError:
                gone = True
            if gone and not finished.is_set():
                os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=watch, daemon=True).start()
        from ctdna_resistance.job_command import main

        code = _exit_code(main(request["argv"]))
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except KeyboardInterrupt:
        code = 130
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        finished.set()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        with contextlib.suppress(OSError):
            conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
        os._exit(code)


def _refuse_stale(conn) -> None:
    """This worker's code is not what is on disk: the client starts a new worker."""
    with contextlib.suppress(OSError):
        conn.sendall(b'{"stale": true}\n')
    conn.close()


def _serve_one(conn, children: set[int], listener) -> None:
    pid = os.fork()
    if pid == 0:
        listener.close()  # the child serves its one client only
        run_child(conn)  # never returns
    children.add(pid)
    conn.close()


def _reap(children: set[int]) -> None:
    """Collect finished children (so their CPU and memory count in RUSAGE_CHILDREN)."""
    for pid in list(children):
        done, _status = os.waitpid(pid, os.WNOHANG)
        if done:
            children.discard(pid)


def usage_line(jobs: int) -> str:
    """CPU and peak memory of the worker and of its jobs, for its log (and the benchmark, whose
    process-tree accounting does not see the worker: it runs in its own session)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (
        f"worker {os.getpid()}: {jobs} jobs; cpu_s worker={own.ru_utime + own.ru_stime:.2f} "
        f"jobs={kids.ru_utime + kids.ru_stime:.2f}; max_rss_mb worker={own.ru_maxrss / 1024:.0f} "
        f"largest_job={kids.ru_maxrss / 1024:.0f}"
    )


def serve(path: str, idle_s: float) -> None:
    preload()
    # Objects made so far (modules, classes, caches) go to a generation the collector never
    # scans: a child's collections would otherwise touch, and so copy, every page of the heap
    gc.collect()
    gc.freeze()
    files = package_files()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    # bound under a temporary name and renamed: a client connects only once the imports are done
    temporary = f"{path}.{os.getpid()}"
    listener.bind(temporary)
    listener.listen(128)
    os.replace(temporary, path)
    inode = os.stat(path).st_ino
    # wake at least once a second to collect finished children
    listener.settimeout(min(idle_s, 1.0))
    print(f"worker {os.getpid()} listening on {path} ({len(files)} package files)", flush=True)
    stale = False
    children: set[int] = set()
    jobs = 0
    last = time.monotonic()
    try:
        while True:
            _reap(children)
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                # idle: no job asked for idle_s and none is running
                if not children and time.monotonic() - last >= idle_s:
                    break
                continue
            last = time.monotonic()
            if changed(files):
                stale = True
                _refuse_stale(conn)
                print(f"worker {os.getpid()}: package changed on disk, exiting", flush=True)
                break
            _serve_one(conn, children, listener)
            jobs += 1
    finally:
        # unlink first (no new client finds this worker), then serve those already queued
        try:
            if os.stat(path).st_ino == inode:
                os.unlink(path)
        except FileNotFoundError:
            pass
        listener.setblocking(False)
        while True:
            try:
                conn, _ = listener.accept()
            except (BlockingIOError, OSError):
                break
            conn.setblocking(True)
            if stale:
                _refuse_stale(conn)
            else:
                _serve_one(conn, children, listener)
                jobs += 1
        listener.close()
        for pid in list(children):  # a stale worker's running jobs finish first
            os.waitpid(pid, 0)
    print(usage_line(jobs), flush=True)
    print(f"worker {os.getpid()}: exiting", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, help="Unix socket path to listen on")
    parser.add_argument("--idle", type=float, default=60.0, help="exit after this long idle (s)")
    args = parser.parse_args(argv)
    serve(args.socket, args.idle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
