"""One proxied connection: two sockets (Sides) and two one-way pipelines (Links).

      client                                                           upstream
    ┌────────┐        upstream link: client -> server                  ┌────────┐
    │  Side  │──read─> Channel > [toxic 1] > Channel > [toxic 2] ──write─>│  Side  │
    │        │<─write── [toxic 2] < Channel < [toxic 1] < Channel <─read──│        │
    └────────┘        downstream link: server -> client                └────────┘

Each link is: socket reader > Channel > stage(toxic 1) > Channel > ... > stage(toxic n) >
writer (the Link itself). A link with no toxic can run on the fast path (``lab.proxy.splice``):
its reader is paused and a thread splices the bytes from one socket to the other without
entering the event loop. By default (GAMEDAY_PROXY_SPLICE=always) every link without a toxic is
there; with ``bulk`` a link goes there on its first bulk read (64 KiB or more) and comes back
once its traffic is small again (small messages cost less CPU on the event loop).
Otherwise (and where splice is unavailable or fails) the reader writes straight to the other
socket: no task, no queue, no timestamp.

Switching is synchronous on the loop: adding a toxic stops the link's splice thread, and what
its pipe still holds enters the new stage ahead of anything read later. Going fast holds the
reader until the writer's transport has flushed what the event loop wrote.

Changing the chain is synchronous and never waits on data, so no byte is lost or reordered:
- add: the new stage goes last; the old last stage's output is repointed to its input;
- update: the stage's task is cancelled and started again with the new config (its state,
  e.g. limit_data's byte count, is kept);
- remove: the task is cancelled; a passthrough takes its place until its input is empty
  (drained at the writer's pace), then splices itself out.

Closing: when a link's reader sees EOF (or an error), an end marker travels down the chain
(toxics may delay it); when it reaches the writer the whole connection closes, both sockets,
as Toxiproxy does (half-close is not propagated). A toxic's ``reset()`` ends it with an RST.

Back-pressure: a writer whose socket buffer is full pauses the reader at the link's head and
holds the last toxic; a link whose channels hold more than QUEUE_HIGH bytes pauses its
reader until they drain. Bulk readers take turns (``Fair``).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections import deque
from typing import TYPE_CHECKING, Any

from lab.proxy import splice
from lab.proxy.stream import Channel, Chunk, Stub
from lab.proxy.toxics import noop

if TYPE_CHECKING:  # pragma: no cover
    from lab.proxy.model import Toxic
    from lab.proxy.proxy import Proxy

log = logging.getLogger("lab.proxy")

QUEUE_HIGH = 32 * 1024 * 1024  # what 1024 chunks of 32 KiB hold in Toxiproxy
QUEUE_LOW = 16 * 1024 * 1024
CLOSE_GRACE = 30.0  # seconds a closing socket may take to flush before it is aborted
WRITE_HIGH = 256 * 1024
WRITE_LOW = 64 * 1024

# Why a Side's reading is paused (a bit each); it reads again when none is left.
DIAL, SINK, QUEUE, FAIR, FAST = 1, 2, 4, 8, 16
FLUSH_POLL = 0.001  # seconds between checks that a writer flushed before the fast path resumes

# A read this large means more may be waiting: libuv would read the same socket up to 32
# times in one loop iteration (8 MiB), starving the other sockets and the control API.
BULK_READ = 64 * 1024
TICK_READS = 4  # bulk readers let back in per loop iteration


class Fair:
    """Round-robin for bulk readers, so one loop iteration moves a few MiB, not hundreds.

    After a bulk read a socket pauses and queues; at the end of each loop iteration the first
    TICK_READS queued sockets read again. Small reads (queries, RPCs) never queue, and the
    control API is served at least once every iteration.
    """

    def __init__(self) -> None:
        self.queue: deque[Side] = deque()
        self.scheduled = False

    def bulk_read(self, side: "Side") -> None:
        side.pause(FAIR)
        self.queue.append(side)
        if not self.scheduled:
            self.scheduled = True
            asyncio.get_running_loop().call_soon(self.tick)

    def tick(self) -> None:
        for _ in range(min(TICK_READS, len(self.queue))):
            self.queue.popleft().resume(FAIR)
        self.scheduled = bool(self.queue)
        if self.scheduled:
            asyncio.get_running_loop().call_soon(self.tick)


class Side(asyncio.Protocol):
    """One socket of a connection: feeds one link, is written by the other."""

    def __init__(self, proxy: "Proxy", conn: "Connection | None" = None) -> None:
        self.proxy = proxy
        self.conn = conn
        self.transport: Any = None
        self.feeds: Link | None = None  # the link this socket's data enters
        self.fed_by: Link | None = None  # the link that writes to this socket
        self.paused = 0
        self.lost = False
        self.early: list[bytes] = []  # data read before the links existed
        self.early_eof = False

    # -- asyncio.Protocol --------------------------------------------------------------------
    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        try:
            transport.set_write_buffer_limits(high=WRITE_HIGH, low=WRITE_LOW)
        except Exception:  # pragma: no cover - every TCP transport supports it
            pass
        if self.conn is None:  # an accepted client
            self.proxy.accepted(self)
        else:  # the upstream socket: hold its data until the links exist
            self.pause(DIAL)

    def data_received(self, data: bytes) -> None:
        link = self.feeds
        if link is not None:
            link.receive(data)
            if len(data) >= BULK_READ and not self.paused & FAIR:
                self.proxy.env.fair.bulk_read(self)
        else:  # uvloop starts reading after connection_made, whatever it asked for
            self.early.append(data)
            self.transport.pause_reading()

    def eof_received(self) -> bool:
        if self.feeds is not None:
            self.feeds.finish()
        else:
            self.early_eof = True
        return True

    def flush_early(self) -> None:
        """Hand what arrived before the links existed to the link this socket feeds."""
        link = self.feeds
        assert link is not None
        early, self.early = self.early, []
        for data in early:
            link.receive(data)
        if self.early_eof:
            link.finish()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        conn = self.conn
        if conn is None or conn.closed:
            return
        if self.feeds is not None:
            self.feeds.finish()
        else:
            conn.close()

    def pause_writing(self) -> None:
        link = self.fed_by
        if link is not None:
            link.blocked = True
            link.src.pause(SINK)

    def resume_writing(self) -> None:
        link = self.fed_by
        if link is not None:
            link.blocked = False
            link.src.resume(SINK)
            waiter, link.unblock_waiter = link.unblock_waiter, None
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    # -- flow control --------------------------------------------------------------------------
    def _usable(self) -> bool:
        return self.transport is not None and not self.lost and not self.transport.is_closing()

    def pause(self, reason: int) -> None:
        if not self.paused and self._usable():
            self.transport.pause_reading()
        self.paused |= reason

    def resume(self, reason: int) -> None:
        if not self.paused & reason:
            return
        self.paused &= ~reason
        if not self.paused and self._usable():
            self.transport.resume_reading()

    def abort_if_open(self) -> None:
        """A peer that stopped reading must not keep a closed connection's socket forever."""
        if not self.lost and self.transport is not None:
            self.transport.abort()

    def set_linger_zero(self) -> None:
        sock = self.transport.get_extra_info("socket") if self.transport else None
        if sock is not None:
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            except OSError:  # pragma: no cover - the socket is already gone
                pass


class Stage:
    """One toxic running on one link: its input channel, where it writes, its task and state."""

    __slots__ = ("toxic", "input", "output", "state", "task")

    def __init__(self, toxic: "Toxic | None", input: Channel, output: Any, state: Any) -> None:
        self.toxic = toxic  # None: a removed toxic's stage, passing on what it still holds
        self.input = input
        self.output = output
        self.state = state
        self.task: asyncio.Task[None] | None = None


class Link:
    """One direction of one connection: reader -> stages -> writer (see the module docstring)."""

    def __init__(self, conn: "Connection", direction: str, src: Side, dst: Side) -> None:
        self.conn = conn
        self.direction = direction
        self.src = src
        self.dst = dst
        src.feeds = self
        dst.fed_by = self
        self.stages: list[Stage] = []
        self.received = 0
        self.sent = 0
        self.queued_bytes = 0
        self.finished = False  # the reader has seen EOF
        self.done = False  # the end reached the writer (or the connection closed)
        self.blocked = False  # the writer's socket buffer is full
        self.unblock_waiter: asyncio.Future[None] | None = None
        self._write = dst.transport.write
        self._loop = asyncio.get_running_loop()
        self.pump: splice.Pump | None = None  # the splice thread while on the fast path
        self.can_splice = conn.proxy.env.splice != splice.OFF
        self.splice_always = conn.proxy.env.splice == splice.ALWAYS
        self._flush_timer: asyncio.TimerHandle | None = None
        self._flush_wait = FLUSH_POLL

    # -- reader side ---------------------------------------------------------------------------
    def receive(self, data: bytes) -> None:
        self.received += len(data)
        if self.stages:
            self.stages[0].input.put(Chunk(data, self._loop.time()))
        elif not self.done:
            self._write(data)
            self.sent += len(data)
            if len(data) >= BULK_READ and self.can_splice:
                self.go_fast()  # bulk: hand the link to a splice thread

    def finish(self) -> None:
        if self.finished:
            return
        self.leave_fast()
        self.finished = True
        end = Chunk(None, self._loop.time())
        if self.stages:
            self.stages[0].input.put(end)
        else:
            self.put(end)

    # -- writer side (the Output of the last stage) -------------------------------------------
    def put(self, item: Chunk) -> None:
        if self.done:
            return
        if item.data is None:
            self.done = True
            self.conn.close(reset=item.reset)
            return
        if not self.dst.lost:
            self._write(item.data)
            self.sent += len(item.data)

    async def unblocked(self) -> None:
        while self.blocked and not self.done:
            if self.unblock_waiter is None or self.unblock_waiter.done():
                self.unblock_waiter = self._loop.create_future()
            await self.unblock_waiter

    def queued(self, delta: int) -> None:
        self.queued_bytes += delta
        if delta > 0:
            if self.queued_bytes > QUEUE_HIGH:
                self.src.pause(QUEUE)
        elif self.queued_bytes < QUEUE_LOW and self.src.paused & QUEUE:
            self.src.resume(QUEUE)

    # -- the chain -----------------------------------------------------------------------------
    def add(self, toxic: "Toxic") -> None:
        kind = toxic.kind
        stage = Stage(toxic, Channel(self), self, kind.new_state() if kind.new_state else None)
        if self.stages:
            self.stages[-1].output = stage.input
        self.stages.append(stage)
        self.leave_fast()  # what the splice pipe holds enters the new stage first
        self._start(stage)

    def restart(self, toxic: "Toxic") -> None:
        """The toxic was updated: stop its stage and run it again with the new config."""
        for stage in self.stages:
            if stage.toxic is toxic:
                if stage.task is not None:
                    stage.task.cancel()
                self._start(stage)

    def remove(self, toxic: "Toxic") -> None:
        """Take the toxic out: what it still holds drains onward (at the writer's pace) through
        a passthrough left in its place, which splices itself out once it is empty."""
        for stage in self.stages:
            if stage.toxic is toxic:
                break
        else:
            return
        if stage.task is not None:
            stage.task.cancel()
        stage.toxic = None
        if not stage.input.items:
            self._splice(stage)
            return
        stub = Stub(stage.input, stage, None, self.conn.proxy.env.rng)
        stage.task = self._loop.create_task(self._guard(self._drain, stage, stub))

    async def _drain(self, stage: Stage, stub: Stub) -> None:
        while stage.input.items:
            chunk = await stub.peek()
            stub.forward()
            if chunk.end:
                return
        self._splice(stage)

    def _splice(self, stage: Stage) -> None:
        i = self.stages.index(stage)
        if i > 0:
            self.stages[i - 1].output = stage.output
        del self.stages[i]
        if not self.stages and self.splice_always:
            self.go_fast()

    # -- the fast path (see lab.proxy.splice) ---------------------------------------------------
    def go_fast(self) -> None:
        """Hand this link to a splice thread: hold its reader, and once the writer has flushed
        what the event loop wrote, start the pump (no-op if it has a stage or is ending)."""
        if (self.pump is not None or self._flush_timer is not None or self.stages or not self.can_splice
                or self.finished or self.done or self.conn.closed or self.src.lost or self.dst.lost):
            return
        src, dst = self.src.transport, self.dst.transport
        if src is None or dst is None or src.is_closing() or dst.is_closing():
            return
        self.src.pause(FAST)
        self._flush_wait = FLUSH_POLL
        self._start_pump()

    def _start_pump(self) -> None:
        self._flush_timer = None
        if self.stages or self.finished or self.done or self.conn.closed or self.src.lost or self.dst.lost:
            self.src.resume(FAST)
            return
        src, dst = self.src.transport, self.dst.transport
        if dst.get_write_buffer_size():  # what the event loop wrote must leave first
            self._flush_timer = self._loop.call_later(self._flush_wait, self._start_pump)
            self._flush_wait = min(0.005, self._flush_wait * 2)
            return
        src_sock, dst_sock = src.get_extra_info("socket"), dst.get_extra_info("socket")
        try:
            if src_sock is None or dst_sock is None:
                raise OSError("no socket to splice")
            pump = splice.Pump(src_sock.fileno(), dst_sock.fileno(), self._pump_exited,
                               leave_when_small=not self.splice_always)
        except OSError as exc:
            log.info("proxy %s: no splice fast path (%s); using the event loop", self.conn.proxy.name, exc)
            self.can_splice = False
            self.src.resume(FAST)
            return
        self.pump = pump
        pump.start()

    def _pump_exited(self, pump: splice.Pump) -> None:
        """On the pump's thread: it ended by itself (EOF, an error, splice unsupported)."""
        try:
            self._loop.call_soon_threadsafe(self._pump_ended, pump)
        except RuntimeError:  # pragma: no cover - the loop is closed: the server is going away
            pass

    def _pump_ended(self, pump: splice.Pump) -> None:
        if self.pump is not pump:
            return  # already stopped by the loop
        self.leave_fast()
        if pump.reason == splice.UNSUPPORTED:
            log.info("proxy %s: splice unsupported (%s); using the event loop", self.conn.proxy.name, pump.error)
            self.can_splice = False
        elif pump.reason in (splice.EOF, splice.ERROR):
            self.finish()

    def leave_fast(self) -> None:
        """Stop the splice thread; what its pipe still holds goes into the first stage (or, with
        no stage, is written), ahead of anything the socket reader delivers from now on."""
        if self._flush_timer is not None:  # waiting for the writer to flush: just let go
            self._flush_timer.cancel()
            self._flush_timer = None
            self.src.resume(FAST)
        pump = self.pump
        if pump is None:
            return
        self.pump = None
        pump.stop()
        data = pump.drain()
        pump.close()
        self.received += pump.received  # ``data`` was counted as received by the pump
        self.sent += pump.sent
        if data:
            if self.stages:
                self.stages[0].input.put(Chunk(data, self._loop.time()))
            elif not self.done and not self.dst.lost:
                self._write(data)
                self.sent += len(data)
        self.src.resume(FAST)

    def stop(self) -> None:
        for stage in self.stages:
            if stage.task is not None:
                stage.task.cancel()

    def _start(self, stage: Stage) -> None:
        toxic = stage.toxic
        assert toxic is not None
        rng = self.conn.proxy.env.rng
        active = rng.random() < toxic.toxicity
        run = toxic.kind.run if active else noop.run
        stub = Stub(stage.input, stage, stage.state, rng)
        stage.task = self._loop.create_task(self._guard(run, toxic.config, stub))

    async def _guard(self, fn: Any, *args: Any) -> None:
        # The coroutine is made here, not by the caller, so a task cancelled before it ever
        # ran leaves no never-awaited coroutine behind.
        try:
            await fn(*args)
        except asyncio.CancelledError:
            pass
        except Exception:  # a toxic bug must not take the proxy down
            log.exception("toxic failed on %s; closing the connection", self.conn.proxy.name)
            self.conn.close()


class Connection:
    """A client, its upstream socket and the two links between them."""

    def __init__(self, proxy: "Proxy", client: Side) -> None:
        self.proxy = proxy
        self.client = client
        self.server: Side | None = None
        self.up: Link | None = None
        self.down: Link | None = None
        self.closed = False
        self.dial_task: asyncio.Task[None] | None = None
        client.conn = self

    def links(self) -> list[Link]:
        return [x for x in (self.up, self.down) if x is not None]

    def link(self, direction: str) -> Link | None:
        return self.up if direction == "upstream" else self.down

    def attach(self, server: Side, toxics: list["Toxic"]) -> None:
        """The upstream answered: build both links with the proxy's current toxics, then read."""
        self.server = server
        self.up = Link(self, "upstream", self.client, server)
        self.down = Link(self, "downstream", server, self.client)
        for toxic in toxics:
            link = self.up if toxic.direction == "upstream" else self.down
            link.add(toxic)
        self.client.flush_early()
        server.flush_early()
        self.client.resume(DIAL)
        server.resume(DIAL)
        for link in (self.up, self.down):
            if link.splice_always:
                link.go_fast()

    def close(self, reset: bool = False, abort: bool = False) -> None:
        """Close both sockets (after flushing what was written, unless ``abort`` or ``reset``)."""
        if self.closed:
            return
        self.closed = True
        if self.dial_task is not None:
            self.dial_task.cancel()
        for link in self.links():
            link.leave_fast()  # the splice thread ends before its sockets close
            link.done = True
            link.stop()
        for side in (self.client, self.server):
            if side is None or side.transport is None:
                continue
            if reset:
                side.set_linger_zero()
            if reset or abort:
                side.transport.abort()
            else:
                side.transport.close()  # writes what is buffered first, like a kernel close
                asyncio.get_running_loop().call_later(CLOSE_GRACE, side.abort_if_open)
        self.proxy.forget(self)
