"""The fast path: a link with no toxic moves bytes kernel to kernel on a worker thread.

    src socket ──splice──> pipe ──splice──> dst socket        (one Pump per link direction)

The event loop is not entered per chunk: the pump waits in ``poll`` on the source (while the
pipe has room), the destination (while the pipe holds data) and a wake-up eventfd, and calls
``os.splice`` with bounded lengths, so the bytes never reach Python. ``os.splice`` and ``poll``
release the GIL, so several links (and the event loop) run on several cores at once. Pumps run
on worker threads that are kept for reuse (``Workers``): a thread per pump would cost a thread
start and join per link, a few hundred microseconds on every short connection.

The loop owns the lifecycle. ``stop()`` sets a flag, wakes the pump and waits until it has
returned (it never blocks in a system call: every fd is non-blocking), then ``drain()`` returns
what is still in the pipe: bytes read from the source but not yet written, which the link hands
to its toxic pipeline (or writes itself) so nothing is lost or reordered. When a pump ends by
itself (EOF, a socket error, splice unsupported) it tells the loop with ``call_soon_threadsafe``.

A pump works on duplicates of the two socket fds, so a transport that closes its own fd
meanwhile never leaves it with a closed or reused descriptor; the link stops the pump (and
closes the duplicates) before it closes the sockets.
"""

from __future__ import annotations

import errno
import fcntl
import os
import queue
import select
import sys
import threading
from typing import Callable

PIPE_SIZE = 1 << 20  # bytes in flight per link; Linux grants up to /proc/sys/fs/pipe-max-size
CHUNK = 1 << 20  # the most one splice call moves

# Why a pump ended (reported to the loop).
STOPPED, EOF, ERROR, UNSUPPORTED, SMALL = "stopped", "eof", "error", "unsupported", "small"

# When links use the fast path (GAMEDAY_PROXY_SPLICE): never; from a bulk read on (a read of
# 64 KiB or more) until the traffic is small again; or whenever the link has no toxic.
OFF, BULK, ALWAYS = "off", "bulk", "always"
SMALL_BYTES = 64 * 1024  # a wait for the source after moving less than this is a small wait ...
SMALL_WAITS = 64  # ... and this many in a row hand a BULK-mode link back to the event loop

AVAILABLE = sys.platform.startswith("linux") and hasattr(os, "splice") and hasattr(os, "eventfd")


def mode() -> str:
    """GAMEDAY_PROXY_SPLICE: ``always`` (the default; also ``1``), ``bulk``, or ``off`` (``0``);
    off where splice is unavailable."""
    value = os.environ.get("GAMEDAY_PROXY_SPLICE", ALWAYS).strip().lower()
    if not AVAILABLE or value in ("0", OFF):
        return OFF
    return BULK if value == BULK else ALWAYS


_UNSUPPORTED_ERRNOS = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP}
_FLAGS = getattr(os, "SPLICE_F_MOVE", 1) | getattr(os, "SPLICE_F_NONBLOCK", 2)
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


IDLE_SECONDS = 10.0  # an idle worker thread ends after this long


class Workers:
    """Threads that run pumps, one pump at a time each, kept for reuse: starting and joining a
    thread costs a few hundred microseconds, which a short connection would pay twice.

    Every submitted pump has a worker: an idle one (reserved under the lock) or a new one.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queue: queue.SimpleQueue[Pump] = queue.SimpleQueue()
        self.idle = 0  # workers waiting for a pump that no submit has reserved
        self.threads = 0
        self.started = 0  # pumps started (diagnostics: SIGUSR1's state dump)

    def submit(self, pump: "Pump") -> None:
        with self.lock:
            self.started += 1
            self.queue.put(pump)
            if self.idle:
                self.idle -= 1
                return
            self.threads += 1
        threading.Thread(target=self._work, name="proxy-splice", daemon=True).start()

    def _work(self) -> None:
        while True:
            try:
                pump = self.queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self.lock:
                    if self.idle:  # nobody reserved this worker: end it
                        self.idle -= 1
                        self.threads -= 1
                        return
                pump = self.queue.get()  # a submit reserved it; its pump is on the way
            pump.run()
            with self.lock:
                self.idle += 1


WORKERS = Workers()


class Pump:
    """One link's splice loop, run on a worker thread: ``Pump(src_fd, dst_fd, on_exit)``,
    ``start()``, and from the loop ``stop()``, ``drain()``, ``close()``.

    ``received``/``sent`` count bytes read from the source / written to the destination;
    ``on_exit(pump)`` runs on the thread when it ends by itself (not after ``stop()``).
    """

    def __init__(self, src_fd: int, dst_fd: int, on_exit: Callable[["Pump"], None],
                 leave_when_small: bool = False) -> None:
        self.leave_when_small = leave_when_small  # end (SMALL) once the traffic is small again
        self.received = 0
        self.sent = 0
        self.reason = STOPPED
        self.error: OSError | None = None
        self._on_exit = on_exit
        self._stopping = False
        self._ended = threading.Event()
        self._claim = threading.Lock()  # held from when a worker takes the pump until it ends
        self._cancelled = False
        self._fds: list[int] = []
        try:
            self._src = self._keep(os.dup(src_fd))
            self._dst = self._keep(os.dup(dst_fd))
            self._pr, self._pw = (self._keep(fd) for fd in os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC))
            self._wake = self._keep(os.eventfd(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC))
        except BaseException:
            self._close_fds()
            raise
        try:
            self.capacity = fcntl.fcntl(self._pw, _F_SETPIPE_SZ, PIPE_SIZE)
        except OSError:  # over the per-user pipe quota: keep the default size
            self.capacity = 64 * 1024

    def _keep(self, fd: int) -> int:
        self._fds.append(fd)
        return fd

    def _close_fds(self) -> None:
        for fd in self._fds:
            try:
                os.close(fd)
            except OSError:  # pragma: no cover - nothing else closes these
                pass
        self._fds = []

    def start(self) -> None:
        WORKERS.submit(self)

    # -- the worker thread ---------------------------------------------------------------------
    def run(self) -> None:
        with self._claim:
            if self._cancelled:
                return
            try:
                self._pump()
            finally:
                self._ended.set()
        if not self._stopping:
            self._on_exit(self)

    def _pump(self) -> None:
        src, dst, pr, pw, wake = self._src, self._dst, self._pr, self._pw, self._wake
        splice, capacity, flags = os.splice, self.capacity, _FLAGS
        poller = select.poll()
        poller.register(wake, select.POLLIN)
        poller.register(src, select.POLLIN)
        on_src, on_dst = select.POLLIN, 0  # the events asked for on each socket
        pending = 0  # bytes in the pipe
        # The pipe can be full with fewer than ``capacity`` bytes (one page slot per socket
        # buffer fragment): a read that fails although poll said the source was readable means
        # that, and the source is not watched again until a write makes room.
        src_ready = pipe_full = False
        moved_since_wait = small_waits = 0
        leave_when_small = self.leave_when_small
        reason = STOPPED
        try:
            while not self._stopping:
                moved = drained = False
                if pending < capacity and not pipe_full:
                    want = min(CHUNK, capacity - pending)
                    try:
                        n = splice(src, pw, want, flags=flags)
                        drained = n < want  # took all there was: poll before reading again
                    except BlockingIOError:
                        n = -1
                        pipe_full = src_ready and pending > 0
                    if n == 0:
                        reason = EOF
                        break
                    if n > 0:
                        moved_since_wait += n
                        pending += n
                        self.received += n
                        moved = True
                if pending:
                    try:
                        m = splice(pr, dst, pending, flags=flags)
                    except BlockingIOError:
                        m = 0
                    if m:
                        pipe_full = False
                        pending -= m
                        self.sent += m
                        moved = True
                if moved and not (drained and pending == 0):
                    continue  # (a short read fully written goes to poll: saves a failing splice)
                if leave_when_small and not pending:  # about to wait for the source
                    small_waits = small_waits + 1 if moved_since_wait < SMALL_BYTES else 0
                    moved_since_wait = 0
                    if small_waits >= SMALL_WAITS:
                        reason = SMALL
                        break
                # Nothing moved: wait until the source has data (while the pipe has room) or the
                # destination has room (while the pipe holds data).
                want_src = select.POLLIN if pending < capacity and not pipe_full else 0
                want_dst = select.POLLOUT if pending else 0
                if want_src != on_src:  # unregistered, not 0: a hung-up fd would wake poll forever
                    poller.register(src, want_src) if want_src else poller.unregister(src)
                    on_src = want_src
                if want_dst != on_dst:
                    poller.register(dst, want_dst) if want_dst else poller.unregister(dst)
                    on_dst = want_dst
                src_ready = False
                for fd, _ev in poller.poll():
                    if fd == wake:
                        break  # ``_stopping`` is set; the loop condition ends the pump
                    src_ready = src_ready or fd == src
        except OSError as exc:
            self.error = exc
            reason = UNSUPPORTED if exc.errno in _UNSUPPORTED_ERRNOS and not self.sent else ERROR
        self.reason = reason

    # -- the loop's side -----------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the pump to stop and wait until it has (it never blocks outside ``poll``); a pump
        no worker has taken yet is cancelled."""
        self._stopping = True
        try:
            os.eventfd_write(self._wake, 1)
        except OSError:  # pragma: no cover - the fd is ours and open until close()
            pass
        if self._claim.acquire(blocking=False):  # not taken by a worker (or already ended)
            self._cancelled = True
            self._claim.release()
            return
        self._ended.wait()

    def drain(self) -> bytes:
        """What the pipe still holds (read from the source, not yet written); call after stop()."""
        parts = []
        while True:
            try:
                data = os.read(self._pr, CHUNK)
            except BlockingIOError:
                break
            if not data:
                break
            parts.append(data)
        return b"".join(parts)

    def close(self) -> None:
        """Close the pipe, the eventfd and the duplicated socket fds (after stop())."""
        self._close_fds()
