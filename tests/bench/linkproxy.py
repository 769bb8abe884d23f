#!/usr/bin/env python3
"""A link-shaping TCP proxy for benchmarks: a slow, distant network on loopback.

    linkproxy.py --target HOST:PORT [--port N] [--rtt-ms 50] [--mbit 100] [--stats FILE]

It listens on 127.0.0.1 (--port, default a free one; the port is printed on
standard output, one line, once it listens) and forwards every connection to
the target, shaping both directions as a link would:

- delay: a fixed one-way delay of rtt/2 each way. Data read at time t leaves
  the link at t' (below) and is delivered at t' + rtt/2: a timestamped queue,
  so the delay is paid once per byte, not once per chunk.
- bandwidth: --mbit (0: no cap) for each direction, shared by all the
  proxy's connections (one link, first come first served): a chunk of n
  bytes takes n / rate on the link after whatever is ahead of it. The proxy
  reads no faster than that, so a sender feels the link's back pressure.
- the connect handshake: the target is connected one RTT after the client
  connected (the client's first bytes wait in its socket).
- slow start: each connection's direction may have at most a congestion
  window in flight (sent, not acknowledged; an acknowledgement comes an RTT
  after the data left); the window starts at 10 segments of 1460 bytes and
  grows by what is acknowledged (doubling per RTT) up to twice the link's
  bandwidth-delay product: beyond the product the bandwidth cap is what
  binds. No loss, no reset after idle.

On SIGTERM or SIGINT it stops; it writes its totals (connections, bytes each
way, its CPU time from time.process_time, wall time) as one JSON object to
--stats (and a line on standard error), so that a benchmark can show that
the proxy did not bound its result.

As a module, Proxy starts it as a process:  with Proxy(port, rtt_ms=50) as p:
p.port ...; p.stats after the block.
"""
import argparse
import asyncio
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import time

MSS = 1460
INITIAL_WINDOW = 10 * MSS
CHUNK = 64 * 1024


class Link:
    """One direction of the link, shared by every connection: when it is free."""

    def __init__(self, rate):
        self.rate = rate  # bytes/s; 0: no cap
        self.free_at = 0.0

    def transmit(self, now, n):
        """The time n bytes handed over at @now have left the link."""
        start = max(now, self.free_at)
        self.free_at = start + (n / self.rate if self.rate else 0.0)
        return self.free_at


class Window:
    """A connection's congestion window in one direction (slow start)."""

    def __init__(self, rtt, cap):
        self.rtt = rtt
        self.cwnd = INITIAL_WINDOW
        self.cap = max(INITIAL_WINDOW, int(cap))
        self.acks = collections.deque()  # (time acknowledged, bytes)
        self.in_flight = 0

    def _acknowledge(self, now):
        while self.acks and self.acks[0][0] <= now:
            _, n = self.acks.popleft()
            self.in_flight -= n
            self.cwnd = min(self.cap, self.cwnd + n)

    async def room(self, loop, want):
        """How many of @want bytes may go now (at least one), waiting for acks."""
        if self.rtt <= 0:
            return want
        while True:
            now = loop.time()
            self._acknowledge(now)
            free = self.cwnd - self.in_flight
            if free >= min(want, MSS):
                return min(want, free)
            await asyncio.sleep(max(0.0, self.acks[0][0] - now))

    def sent(self, departed, n):
        if self.rtt > 0:
            self.in_flight += n
            self.acks.append((departed + self.rtt, n))


class Shaper:
    def __init__(self, target, rtt, mbit):
        self.target = target
        self.rtt = rtt
        self.delay = rtt / 2
        rate = mbit * 1e6 / 8
        self.links = {"up": Link(rate), "down": Link(rate)}
        self.window_cap = 2 * rate * rtt if rate else 1 << 30
        self.stats = {"connections": 0, "bytes_up": 0, "bytes_down": 0}

    async def pump(self, reader, writer, way):
        """Read, shape, queue with the delivery time; a second task delivers."""
        loop = asyncio.get_running_loop()
        link, window = self.links[way], Window(self.rtt, self.window_cap)
        queue = asyncio.Queue()
        deliverer = asyncio.create_task(self.deliver(queue, writer))
        try:
            while True:
                data = await reader.read(CHUNK)
                if not data:
                    break
                while data:
                    n = await window.room(loop, len(data))
                    part, data = data[:n], data[n:]
                    departed = link.transmit(loop.time(), len(part))
                    window.sent(departed, len(part))
                    self.stats["bytes_" + way] += len(part)
                    queue.put_nowait((departed + self.delay, part))
                    # back pressure: read on once this has left the link
                    await asyncio.sleep(max(0.0, departed - loop.time()))
        except (ConnectionError, OSError):
            pass
        finally:
            queue.put_nowait(None)
            await deliverer

    async def deliver(self, queue, writer):
        loop = asyncio.get_running_loop()
        try:
            while True:
                item = await queue.get()
                if item is None:
                    if writer.can_write_eof():
                        writer.write_eof()
                    await writer.drain()
                    return
                when, data = item
                wait = when - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            # the other side is gone: drop what is left
            while (await queue.get()) is not None:
                pass

    async def handle(self, creader, cwriter):
        self.stats["connections"] += 1
        nodelay(cwriter)
        try:
            if self.rtt > 0:
                await asyncio.sleep(self.rtt)  # SYN, SYN-ACK
            sreader, swriter = await asyncio.open_connection(*self.target)
        except OSError:
            cwriter.close()
            return
        nodelay(swriter)
        await asyncio.gather(self.pump(creader, swriter, "up"), self.pump(sreader, cwriter, "down"))
        for w in (cwriter, swriter):
            w.close()


def nodelay(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


async def serve(args):
    host, _, port = args.target.rpartition(":")
    shaper = Shaper((host or "127.0.0.1", int(port)), args.rtt_ms / 1000.0, args.mbit)
    server = await asyncio.start_server(shaper.handle, "127.0.0.1", args.port)
    print(server.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    t0 = time.monotonic()
    await stop.wait()
    server.close()
    stats = dict(shaper.stats, rtt_ms=args.rtt_ms, mbit=args.mbit,
                 cpu_seconds=round(time.process_time(), 3), wall_seconds=round(time.monotonic() - t0, 3))
    if args.stats:
        with open(args.stats, "w") as f:
            json.dump(stats, f)
    sys.stderr.write("linkproxy: " + json.dumps(stats) + "\n")


class Proxy:
    """linkproxy.py as a process: the port once it listens, its stats once stopped."""

    def __init__(self, target_port, rtt_ms=0, mbit=100, target_host="127.0.0.1", stats=None):
        self.args = ["--target", f"{target_host}:{target_port}", "--rtt-ms", str(rtt_ms),
                     "--mbit", str(mbit)]
        self.stats_path = stats
        self.stats = None
        self.host = "127.0.0.1"

    def __enter__(self):
        if self.stats_path is None:
            import tempfile
            fd, self.stats_path = tempfile.mkstemp(prefix="linkproxy-", suffix=".json")
            os.close(fd)
            self._own_stats = True
        else:
            self._own_stats = False
        self.proc = subprocess.Popen([sys.executable, os.path.abspath(__file__)] + self.args
                                     + ["--stats", self.stats_path], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        self.port = int(self.proc.stdout.readline())
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=10)
        self.proc.stdout.close()
        with open(self.stats_path) as f:
            self.stats = json.load(f)
        if self._own_stats:
            os.unlink(self.stats_path)


def main():
    ap = argparse.ArgumentParser(description="a link-shaping TCP proxy on loopback")
    ap.add_argument("--target", required=True, help="HOST:PORT to forward to")
    ap.add_argument("--port", type=int, default=0, help="port to listen on (default: a free one)")
    ap.add_argument("--rtt-ms", type=float, default=0.0, help="round-trip time (default 0)")
    ap.add_argument("--mbit", type=float, default=100.0,
                    help="bandwidth each way, shared by all connections (default 100; 0: no cap)")
    ap.add_argument("--stats", help="write the totals here (JSON) on exit")
    asyncio.run(serve(ap.parse_args()))


if __name__ == "__main__":
    main()
