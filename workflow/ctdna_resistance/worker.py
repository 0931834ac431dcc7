"""The long-lived worker behind ``worker_client``: imports once, runs jobs in children (issue 19).

``python -m ctdna_resistance.worker --socket PATH --idle SECONDS`` imports everything a job uses,
then listens on a Unix socket (in a folder only its user can enter). Each connection is one job:
the client sends its argv, working folder, environment, umask and stdin/stdout/stderr; a child of
the worker takes them over, runs ``job_command.main(argv)`` exactly as a fresh interpreter would,
and sends back its exit code. Jobs stay isolated from the worker and from each other's failures
(own process, signals, exit code), while none pays the ~0.6 CPU-s of imports.

A child serves jobs one after another (at most as many at once as jobs run at once): a fork and
the copy-on-write faults of a fresh child cost ~0.04 CPU-s, a third of a patient job. Before each
job it gets a fresh warnings state, environment, folder and streams; after a job that failed, was
stopped or left a thread running, after the cohort job (a large heap), and after
MAX_JOBS_PER_CHILD jobs, it exits and a new child takes its place. What it
keeps between jobs are caches keyed by value (schemas, templates, statistics tables), never a
file's content by its path: a job reads every input file itself.

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
import selectors
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import warnings

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
# a child serves this many jobs, then exits and a new one takes its place (bounds what a
# long-lived process may accumulate: fragmented memory, caches)
MAX_JOBS_PER_CHILD = 100


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


def run_job(conn) -> tuple[int, bool]:
    """In a child: take over the client's job on ``conn``, run it, answer its exit code.

    Returns the exit code and whether the child may serve another job: only after a patient job
    that succeeded and left no thread behind.
    """
    from ctdna_resistance.outputs import terminate_as_interrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    terminate_as_interrupt()  # as in the job itself: SIGTERM unwinds, temporaries are removed
    finished = threading.Event()
    code, reusable = 1, False
    watcher = None
    # a fresh warnings state per job: a warning shown in an earlier job's log shows again
    with warnings.catch_warnings():
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

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            from ctdna_resistance.job_command import main

            code = _exit_code(main(request["argv"]))
            # a cohort job (large, once per run) leaves a big heap behind: its child goes
            reusable = code == 0 and request["argv"][:1] == ["patient"]
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
    # end the watcher (shutdown wakes its recv) and let go of everything the job had
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
    conn.close()
    if watcher is not None:
        watcher.join(timeout=5)
    # a thread the job left running would run on into the next job
    return code, reusable and threading.active_count() == 1


def _release_job_streams(saved: list[int]) -> None:
    """Give back the client's stdin/stdout/stderr (a reader of its pipe waits for their close)
    and the job's log, which run_logged made sys.stderr."""
    if sys.stderr is not sys.__stderr__:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.close()
        sys.stderr = sys.__stderr__
    for target, fd in enumerate(saved):
        os.dup2(fd, target)


def child_loop(control: socket.socket) -> None:
    """A child's life: jobs handed over by the worker on ``control``, one at a time, until the
    worker closes it, a job fails or is stopped, or MAX_JOBS_PER_CHILD were served."""
    saved = [os.dup(fd) for fd in (0, 1, 2)]
    served, code = 0, 0
    try:
        while True:
            message, fds, _flags, _address = socket.recv_fds(control, 16, 1)
            if not message or len(fds) != 1:
                break  # the worker is going (idle, stale) or went
            conn = socket.socket(fileno=fds[0])
            conn.setblocking(True)
            code, reusable = run_job(conn)
            _release_job_streams(saved)
            served += 1
            if not reusable or served >= MAX_JOBS_PER_CHILD:
                break
            control.sendall(b".")  # ready for the next job
    except (OSError, KeyboardInterrupt):
        pass  # the worker went, or stopped this idle child
    finally:
        os._exit(code)


def _refuse_stale(conn) -> None:
    """This worker's code is not what is on disk: the client starts a new worker."""
    with contextlib.suppress(OSError):
        conn.sendall(b'{"stale": true}\n')
    conn.close()


class Pool:
    """The worker's children: each serves jobs one after another, so a job pays neither a fork
    nor the copy-on-write faults of a fresh child (~0.04 CPU-s of a ~0.15 CPU-s job)."""

    def __init__(self, listener: socket.socket, selector: selectors.BaseSelector) -> None:
        self.listener = listener
        self.selector = selector
        self.controls: dict[int, socket.socket] = {}  # pid -> the worker's end of its control
        self.idle: list[int] = []
        self.spawned = 0

    @property
    def busy(self) -> int:
        return len(self.controls) - len(self.idle)

    def _spawn(self, conn: socket.socket) -> int:
        mine, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            # the child keeps its own control only: the worker's listener, the others' controls
            # and the job being handed out are not its (a copy held here would hide that child's
            # exit from the worker, or the job's end from its client)
            self.selector.close()
            self.listener.close()
            for control in self.controls.values():
                control.close()
            mine.close()
            conn.close()
            child_loop(theirs)  # never returns
        theirs.close()
        self.spawned += 1
        self.controls[pid] = mine
        self.selector.register(mine, selectors.EVENT_READ, pid)
        return pid

    def dispatch(self, conn: socket.socket) -> None:
        pid = self.idle.pop() if self.idle else self._spawn(conn)
        try:
            socket.send_fds(self.controls[pid], [b"j"], [conn.fileno()])
        except OSError:
            # the child went between its last job and this one: the job goes to a new child
            self.gone(pid)
            socket.send_fds(self.controls[self._spawn(conn)], [b"j"], [conn.fileno()])
        conn.close()

    def heard(self, pid: int) -> None:
        """A child's control is readable: ready for a job, or gone."""
        try:
            ready = self.controls[pid].recv(1)
        except OSError:
            ready = b""
        if ready:
            self.idle.append(pid)
        else:
            self.gone(pid)

    def gone(self, pid: int, wait: bool = True) -> None:
        """Close the child's control (it exits when it reads that) and collect it."""
        control = self.controls.pop(pid)
        self.selector.unregister(control)
        control.close()
        if pid in self.idle:
            self.idle.remove(pid)
        if wait:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)

    def close(self) -> None:
        """Let every child go, idle ones at once and busy ones after their job, and collect them
        (so that their CPU and memory count in RUSAGE_CHILDREN)."""
        pids = list(self.controls)
        for pid in pids:
            self.gone(pid, wait=False)
        for pid in pids:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def usage_line(jobs: int, children: int) -> str:
    """CPU and peak memory of the worker and of its jobs, for its log (and the benchmark, whose
    process-tree accounting does not see the worker: it runs in its own session)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (
        f"worker {os.getpid()}: {jobs} jobs; cpu_s worker={own.ru_utime + own.ru_stime:.2f} "
        f"jobs={kids.ru_utime + kids.ru_stime:.2f}; max_rss_mb worker={own.ru_maxrss / 1024:.0f} "
        f"largest_job={kids.ru_maxrss / 1024:.0f}; children={children}"
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
    print(f"worker {os.getpid()} listening on {path} ({len(files)} package files)", flush=True)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, None)
    pool = Pool(listener, selector)
    stale = False
    jobs = 0
    last = time.monotonic()
    try:
        while True:
            # wake at least once a second to see whether it has been idle long enough
            events = selector.select(timeout=min(idle_s, 1.0))
            for key, _mask in events:
                if key.data is not None:
                    pool.heard(key.data)
            if not any(key.data is None for key, _mask in events):
                # idle: no job asked for idle_s and none is running
                if not pool.busy and time.monotonic() - last >= idle_s:
                    break
                continue
            conn, _ = listener.accept()
            last = time.monotonic()
            if changed(files):
                stale = True
                _refuse_stale(conn)
                print(f"worker {os.getpid()}: package changed on disk, exiting", flush=True)
                break
            pool.dispatch(conn)
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
            if stale:
                _refuse_stale(conn)
            else:
                pool.dispatch(conn)
                jobs += 1
        pool.close()  # running jobs (a stale worker's too) finish first
        selector.close()
        listener.close()
    print(usage_line(jobs, pool.spawned), flush=True)
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
