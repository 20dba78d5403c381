"""Toxics over channels, without sockets (checklist 22 and 25 exactly; the rest in shape).

Each toxic's ``run`` gets a Stub over an input Channel and writes to an output Channel, as it
does inside a link.
"""

from __future__ import annotations

import asyncio
import random
from types import SimpleNamespace

import pytest

from lab.proxy.stream import Channel, Chunk, Stub
from lab.proxy.toxics import TOXICS, limit_data, slicer


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 5))


async def pipe(type_: str, attrs: dict, chunks: list[bytes], end: bool = True, state=None, seed: int = 1):
    """Feed ``chunks`` (and an end) through one toxic; return what it put out."""
    kind = TOXICS[type_]
    inp, out = Channel(), Channel()
    stub = Stub(inp, SimpleNamespace(output=out), state, random.Random(seed))
    now = asyncio.get_running_loop().time()
    for c in chunks:
        inp.put(Chunk(c, now))
    if end:
        inp.put(Chunk(None, now))
    task = asyncio.ensure_future(kind.run(kind.config(**attrs), stub))
    if end:
        await task
    else:
        await asyncio.sleep(0.05)
        task.cancel()
    return list(out.items), list(inp.items)


def datas(items):
    return [c.data for c in items if c.data is not None]


def test_22_slicer_24_bytes_average_1_gives_24_pieces():
    out, _ = run(pipe("slicer", {"average_size": 1, "size_variation": 0, "delay": 0}, [bytes(range(24))]))
    assert datas(out) == [bytes([i]) for i in range(24)]
    assert out[-1].end


def test_22_slicer_480kb_average_1024_variation_512():
    data = random.Random(3).randbytes(480 * 1024)
    chunks = [data[i : i + 32768] for i in range(0, len(data), 32768)]
    out, _ = run(pipe("slicer", {"average_size": 1024, "size_variation": 512, "delay": 0}, chunks))
    pieces = datas(out)
    assert b"".join(pieces) == data
    assert 240 <= len(pieces) <= 720
    assert max(map(len, pieces)) <= 1536


def test_22_slicer_piece_sizes_always_add_up():
    rng = random.Random(5)
    for size in (1, 2, 7, 100, 4097):
        cfg = slicer.Config(average_size=3, size_variation=2)
        assert sum(slicer.piece_sizes(size, cfg, rng)) == size


@pytest.mark.parametrize(
    "limit, chunks, expected, closed",
    [
        (100, [b"x" * 50], [b"x" * 50], False),
        (100, [b"x" * 100], [b"x" * 100], True),
        (100, [b"x" * 150], [b"x" * 100], True),
        (100, [b"y" * 25] * 4, [b"y" * 25] * 4, True),
        (100, [b"a" * 90, b"b" * 20], [b"a" * 90, b"b" * 10], True),
        (0, [b"z" * 10], [], True),
    ],
)
def test_25_limit_data(limit, chunks, expected, closed):
    out, _ = run(pipe("limit_data", {"bytes": limit}, chunks, end=False, state=limit_data.State()))
    assert datas(out) == expected
    assert (bool(out) and out[-1].end) == closed


def test_25_limit_data_count_survives_a_restart():
    state = limit_data.State()
    out1, left = run(pipe("limit_data", {"bytes": 100}, [b"x" * 60], end=False, state=state))
    assert state.transmitted == 60 and not left
    out2, _ = run(pipe("limit_data", {"bytes": 100}, [b"y" * 60], end=False, state=state))
    assert datas(out2) == [b"y" * 40] and out2[-1].end


def test_latency_keeps_order_and_delays_each_chunk():
    async def go():
        loop = asyncio.get_running_loop()
        start = loop.time()
        out, _ = await pipe("latency", {"latency": 50, "jitter": 0}, [b"1", b"2", b"3"])
        return out, start

    out, start = run(go())
    assert datas(out) == [b"1", b"2", b"3"]
    assert all(c.at - start >= 0.049 for c in out[:3])


def test_timeout_drops_data_and_closes_on_end():
    out, _ = run(pipe("timeout", {"timeout": 0}, [b"lost", b"too"]))
    assert datas(out) == [] and out[-1].end


def test_reset_peer_drops_first_chunk_and_resets():
    out, left = run(pipe("reset_peer", {"timeout": 10}, [b"first", b"second"], end=False))
    assert datas(out) == [] and out[-1].reset
    assert [c.data for c in left] == [b"second"]


def test_cancelled_toxic_leaves_unsent_data_in_its_input():
    async def go():
        inp, out = Channel(), Channel()
        stub = Stub(inp, SimpleNamespace(output=out), None, random.Random(1))
        now = asyncio.get_running_loop().time()
        for c in (b"a", b"b"):
            inp.put(Chunk(c, now))
        cfg = TOXICS["latency"].config(latency=1000)
        task = asyncio.ensure_future(TOXICS["latency"].run(cfg, stub))
        await asyncio.sleep(0.02)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return datas(out.items), [c.data for c in inp.items]

    assert run(go()) == ([], [b"a", b"b"])


@pytest.mark.parametrize(
    "type_, attrs",
    [
        ("bandwidth", {"rate": -1}),
        ("slicer", {"average_size": 0}),
        ("slicer", {"average_size": 10, "size_variation": -1}),
        ("latency", {"jitter": -5}),
        ("timeout", {"timeout": -1}),
        ("limit_data", {"bytes": -1}),
    ],
)
def test_degenerate_attributes_are_rejected(type_, attrs):
    with pytest.raises(ValueError):
        TOXICS[type_].config(**attrs)
