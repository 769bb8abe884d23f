"""The benchmarks' link-shaping proxy (tests/bench/linkproxy.py) against a
small server on loopback that answers PONG to each PING: its delay is one
RTT per round trip (not per chunk), the connect waits one RTT, its bandwidth
cap holds for one connection and is shared by two, slow start holds a fresh
connection back, and it reports what it forwarded and its CPU time."""
import os
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, SOURCE_DIR  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "bench"))
from linkproxy import Proxy  # noqa: E402

t = Tap()


def pong_server():
    """A server answering PONG to every PING line; returns its port."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)

    def one(c):
        tail = b""
        with c:
            while True:
                data = c.recv(65536)
                if not data:
                    return
                tail = (tail + data)[-5:]
                if tail == b"PING\n":
                    c.sendall(b"PONG\n")
                    tail = b""

    def serve():
        while True:
            c, _ = srv.accept()
            threading.Thread(target=one, args=(c,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()[1]


def connect(proxy):
    s = socket.create_connection((proxy.host, proxy.port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def exchange(s, data=b""):
    """Send @data and a PING; seconds until the PONG is back."""
    t0 = time.monotonic()
    s.sendall(data + b"PING\n")
    got = b""
    while not got.endswith(b"PONG\n"):
        chunk = s.recv(16)
        if not chunk:
            raise ConnectionError("closed")
        got += chunk
    return time.monotonic() - t0


port = pong_server()
MB = 1_000_000

with t.case("RTT 100 ms: the connect takes one RTT more, a round trip one RTT"):
    with Proxy(port, rtt_ms=100, mbit=100) as p:
        s = connect(p)
        first = exchange(s)
        rounds = [exchange(s) for _ in range(3)]
        s.close()
    t.check(0.2 <= first < 0.3, f"connect and first round trip: {first:.3f} s")
    t.check(all(0.1 <= r < 0.2 for r in rounds), f"round trips: {rounds}")

with t.case("8 Mbit/s: 1 MB takes about 1 s; two connections share the cap"):
    with Proxy(port, rtt_ms=0, mbit=8) as p:
        s = connect(p)
        exchange(s)
        one = exchange(s, b"x" * MB)
        s.close()
        times = []

        def half():
            c = connect(p)
            exchange(c)
            times.append(exchange(c, b"x" * (MB // 2)))
            c.close()

        threads = [threading.Thread(target=half) for _ in range(2)]
        t0 = time.monotonic()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        both = time.monotonic() - t0
    t.check(0.7 <= one <= 1.3, f"1 MB in {one:.3f} s")
    t.check(0.7 <= both <= 1.3 and min(times) >= 0.7, f"2 x 0.5 MB together in {both:.3f} s ({times})")
    st = p.stats
    t.check(st["connections"] == 3, f"stats: {st}")
    # six PINGs and their PONGs (5 bytes each) beside the data
    t.check(st["bytes_up"] == 2 * MB + 6 * 5, f"bytes forwarded up: {st}")
    t.check(st["bytes_down"] == 6 * 5, f"bytes forwarded down: {st}")
    t.check(0 < st["cpu_seconds"] < st["wall_seconds"], f"its own CPU time: {st}")

with t.case("slow start: a fresh connection sends 100 KB in three RTTs or more, a warm one faster"):
    with Proxy(port, rtt_ms=100, mbit=8) as p:
        s = connect(p)
        exchange(s)
        cold = exchange(s, b"x" * 100_000)
        warm = exchange(s, b"x" * 100_000)
        s.close()
    # 14,600 + 29,200 + 58,400 bytes in the first three RTTs; at the cap
    # alone 100 KB take 0.1 s, and one RTT for the PING and PONG
    t.check(cold >= 0.3, f"cold: {cold:.3f} s")
    t.check(warm < cold and warm < 0.3, f"warm: {warm:.3f} s, cold {cold:.3f} s")

t.done()
