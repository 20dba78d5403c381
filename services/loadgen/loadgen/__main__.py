"""`python -m loadgen --target http://127.0.0.1:8000 --control 127.0.0.1:9100 --rate 50`

Runs until SIGTERM or SIGINT, then closes every connection and exits (well within a second).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import signal
import sys

from loadgen.control import serve
from loadgen.generator import Generator, Target
from loadgen.mix import MixError, default_mix, parse_mix
from loadgen.shapes import SHAPES, ShapeError, parse_shape


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="loadgen", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--target", required=True, help="Arcade's base URL, http://HOST:PORT")
    p.add_argument("--control", required=True, metavar="HOST:PORT", help="where the control interface listens")
    p.add_argument("--rate", type=float, default=0.0, help="requests per second (the shape's base rate)")
    p.add_argument("--shape", default="constant", help=f"one of {', '.join(SHAPES)}")
    p.add_argument("--to", type=float, help="step/ramp/spike: the rate to go to")
    p.add_argument("--at", type=float, help="step/spike: seconds after start")
    p.add_argument("--over", type=float, help="ramp: seconds to reach --to")
    p.add_argument("--duration", type=float, help="spike: seconds at --to")
    p.add_argument("--mix", help="route weights, e.g. lobby=30,leaderboard=25,login=15 (default: the player mix)")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds from a request's scheduled start until it counts as timed out")
    p.add_argument("--max-conns", type=int, default=1000, help="connections to the target at most")
    p.add_argument("--seed", type=int, help="random seed for the mix (repeatable traffic)")
    p.add_argument("--no-uvloop", action="store_true", help="use the standard asyncio event loop")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    fields = {"shape": args.shape, "rate": args.rate}
    fields.update({k: getattr(args, k) for k in ("to", "at", "over", "duration") if getattr(args, k) is not None})
    try:
        shape = parse_shape(fields)
        mix = parse_mix(args.mix) if args.mix else default_mix()
        target = Target.parse(args.target)
        host, _, port = args.control.rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"--control: expected HOST:PORT, got {args.control!r}")
        if not 0 < args.timeout <= 600:
            raise ValueError(f"--timeout: {args.timeout} is out of range; valid: 0-600 seconds")
    except (ShapeError, MixError, ValueError) as exc:
        print(f"loadgen: error: {exc}", file=sys.stderr)
        return 2
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gen = Generator(target, shape, mix, timeout=args.timeout, max_conns=args.max_conns, seed=args.seed)
    runner = asyncio.run
    if not args.no_uvloop:
        try:
            import uvloop

            runner = uvloop.run
        except ImportError:
            pass
    try:
        runner(_run(gen, host, int(port)))
    except OSError as exc:
        print(f"loadgen: error: control {args.control}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


async def _run(gen: Generator, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, gen.stop)
    server = await serve(gen, host, port)
    print(f"loadgen: {gen.target.url} at {gen.shape.to_dict()}; control on http://{host}:{port}", flush=True)
    try:
        await gen.run()
    finally:
        server.close()
        print("loadgen: stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
