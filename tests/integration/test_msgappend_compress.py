"""msgappend --compress against a private Dovecot with the imap_zlib plugin
(COMPRESS=DEFLATE, RFC 4978), over implicit TLS and STARTTLS: a few hundred
generated messages (text, HTML, base64 attachments, one of 3 MB) from an
mbox land byte for byte, with one connection, with -j 4 and with
MULTIAPPEND batches; the benchmarks' link proxy (tests/bench/linkproxy.py)
between msgappend and Dovecot counts the bytes on the wire, which show that
compression was used (and how much it saves); --compress=never and auto on
loopback send no COMPRESS."""
import base64
import imaplib
import os
import random
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, SOURCE_DIR  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "bench"))
from peers import Dovecot  # noqa: E402
from linkproxy import Proxy  # noqa: E402
from appendlib import append, check_exactly_once, ctx_for, mbox_ok, out_of, write_mbox  # noqa: E402

t = Tap()
os.environ["ASAN_OPTIONS"] = ":".join(x for x in (os.environ.get("ASAN_OPTIONS", ""), "intercept_tls_get_addr=0") if x)

N = 300
rnd = random.Random(4978)
WORDS = ("the quarterly report meeting archive invoice attached please find below regards "
         "schedule project budget review draft final thanks tomorrow").split()


def text(nbytes):
    lines, n = [], 0
    while n < nbytes:
        line = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(6, 14)))
        lines.append(line)
        n += len(line) + 1
    return "\n".join(lines) + "\n"


def message(i):
    head = (f"From: Sender {i % 17} <s{i % 17}@example.org>\nTo: r@example.net\nSubject: m{i}\n"
            f"Message-ID: <compress-{i}@example.org>\nMIME-Version: 1.0\n")
    kind = i % 10
    if i == 7:  # one large message: literals far longer than a flush
        return (head + "Content-Type: text/plain\n\n" + text(3_000_000)).encode()
    if kind < 7:
        return (head + "Content-Type: text/plain; charset=utf-8\n\n" + text(rnd.randint(500, 8000))).encode()
    if kind < 9:
        body = text(rnd.randint(2000, 6000))
        html = "<html><body><p>" + body.replace("\n", "</p><p>") + "</p></body></html>\n"
        return (head + 'Content-Type: multipart/alternative; boundary="b"\n\n--b\nContent-Type: text/plain\n\n'
                + body + "--b\nContent-Type: text/html\n\n" + html + "--b--\n").encode()
    blob = base64.encodebytes(rnd.randbytes(rnd.randint(5000, 40000))).decode()
    return (head + 'Content-Type: multipart/mixed; boundary="m"\n\n--m\nContent-Type: text/plain\n\n'
            + text(800) + "--m\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n"
            + blob + "--m--\n").encode()


MSGS = [(f"m{i}", message(i)) for i in range(N)]
assert all(mbox_ok(d) for _, d in MSGS)
TOTAL = sum(len(d) for _, d in MSGS)


def upload(dv, proxy, mailbox, *args, tls="implicit"):
    """msgappend of the mbox into @mailbox (through @proxy, if not None), with a trace."""
    return append(dv, "--no-journal", "--create", "--mailbox", mailbox, "--trace", *args, MBOX,
                  port=proxy.port if proxy else None, tls=tls)


def compressions(r):
    """How many connections the trace says were compressed; and COMPRESS commands."""
    err = r.stderr.decode(errors="replace")
    return (len(re.findall(r"^-- deflate compression on \(level \d\) --$", err, re.M)),
            len(re.findall(r"^C: A\d+ COMPRESS DEFLATE$", err, re.M)))


with tempfile.TemporaryDirectory(prefix="msgtk-compress-") as work:
    os.chmod(work, 0o755)
    MBOX = os.path.join(work, "archive.mbox")
    write_mbox(MBOX, MSGS)
    print(f"# {N} messages, {TOTAL} bytes")
    with Dovecot(os.path.join(work, "dv"), compress=True) as dv:
        wire = {}
        for mode in ("always", "never"):
            with t.case(f"--compress={mode}: {N} messages from an mbox, byte for byte, one connection"):
                with Proxy(dv.imaps_port, rtt_ms=0, mbit=0) as proxy:
                    r = upload(dv, proxy, f"One-{mode}", f"--compress={mode}")
                t.check(r.returncode == 0, f"exit {r.returncode}: {out_of(r)[-2000:]}")
                on, commands = compressions(r)
                t.check((on, commands) == ((1, 1) if mode == "always" else (0, 0)),
                        f"{on} compressed connections, {commands} COMPRESS commands")
                check_exactly_once(t, dv, f"One-{mode}", [d for _, d in MSGS])
                wire[mode] = proxy.stats
        with t.case("compression on the wire: what msgappend sent, compressed and not"):
            up = {m: wire[m]["bytes_up"] for m in wire}
            down = {m: wire[m]["bytes_down"] for m in wire}
            print(f"# client to server: {up['always']} bytes compressed, {up['never']} not "
                  f"({up['always'] / up['never']:.2f}); server to client: {down['always']} and {down['never']}")
            t.check(up["never"] > TOTAL, f"uncompressed, the messages and more: {up['never']} > {TOTAL}")
            t.check(up["always"] < 0.5 * up["never"], f"compressed: {up['always']} vs {up['never']}")

        with t.case(f"--compress=always -j 4 --batch 25: {N} messages over four compressed connections"):
            with Proxy(dv.imaps_port, rtt_ms=0, mbit=0) as proxy:
                r = upload(dv, proxy, "Four", "--compress=always", "-j", "4", "--batch", "25")
            t.check(r.returncode == 0, f"exit {r.returncode}: {out_of(r)[-2000:]}")
            on, commands = compressions(r)
            connections = proxy.stats["connections"]
            print(f"# -j 4: {connections} connections, {proxy.stats['bytes_up']} bytes to the server")
            t.check(on == commands == connections and connections >= 4,
                    f"{on} compressed of {connections} connections ({commands} COMPRESS)")
            t.check(len(re.findall(r"^C: A\d+ APPEND .*\{\d+\+\}$", r.stderr.decode(errors="replace"),
                                   re.M)) >= N // 25, "MULTIAPPEND batches with LITERAL+")
            t.check(proxy.stats["bytes_up"] < 0.5 * up["never"], f"compressed: {proxy.stats}")
            check_exactly_once(t, dv, "Four", [d for _, d in MSGS])

        with t.case("STARTTLS, then compressed (-j 2, MULTIAPPEND of 100)"):
            r = upload(dv, None, "Starttls", "--compress=always", "-j", "2", tls="starttls")
            t.check(r.returncode == 0, f"exit {r.returncode}: {out_of(r)[-2000:]}")
            on, commands = compressions(r)
            t.check(on >= 2 and on == commands, f"{on} compressed connections")
            check_exactly_once(t, dv, "Starttls", [d for _, d in MSGS])

        with t.case("auto (the default) on loopback: no COMPRESS, though the server offers it"):
            small = os.path.join(work, "small.mbox")
            write_mbox(small, MSGS[:5])
            r = append(dv, "--no-journal", "--create", "--mailbox", "Auto", "--trace", small)
            t.check(r.returncode == 0, f"exit {r.returncode}: {out_of(r)[-2000:]}")
            im = imaplib.IMAP4_SSL(dv.host, dv.imaps_port, ssl_context=ctx_for(dv))
            im.login(dv.user, dv.password)
            caps = im.capability()[1][0].decode().split()
            t.check("COMPRESS=DEFLATE" in caps, f"offered once logged in: {caps}")
            im.logout()
            t.check(compressions(r) == (0, 0), "no COMPRESS sent")
            check_exactly_once(t, dv, "Auto", [d for _, d in MSGS[:5]])

t.done()
