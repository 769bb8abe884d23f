"""The private test peers themselves work: Dovecot IMAP and submission over
STARTTLS and implicit TLS with certificate checks, relaying to smtp-sink; and
the scripted one, transcript-peer: a client that follows its transcript over
several connections and TLS passes, one that departs from it is told where,
and it leaves nothing behind."""
import imaplib
import os
import smtplib
import socket
import ssl
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, SOURCE_DIR  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
from peers import Dovecot, SmtpSink, strip_received  # noqa: E402
from transcriptpeer import TranscriptPeer  # noqa: E402

t = Tap()
with tempfile.TemporaryDirectory(prefix="msgtk-peers-") as work:
    with SmtpSink(os.path.join(work, "sink"), dump=True) as sink, \
         Dovecot(os.path.join(work, "dovecot"), relay_port=sink.port) as dv:
        ctx = ssl.create_default_context(cafile=dv.cafile)

        with t.case("IMAP STARTTLS login with a verified certificate"):
            im = imaplib.IMAP4(dv.host, dv.imap_port)
            im.starttls(ssl_context=ctx)
            im.login(dv.user, dv.password)
            typ, _ = im.select("INBOX")
            t.check(typ == "OK", "SELECT INBOX")
            im.logout()

        with t.case("IMAPS (implicit TLS) append is seen by doveadm"):
            im = imaplib.IMAP4_SSL(dv.host, dv.imaps_port, ssl_context=ctx)
            im.login(dv.user, dv.password)
            typ, _ = im.append("INBOX", "(\\Seen)", None, b"Subject: peer test\r\n\r\nhello\r\n")
            t.check(typ == "OK", "APPEND")
            im.logout()
            t.check(dv.message_count("INBOX") == 1, "one message in INBOX")

        with t.case("submission STARTTLS + AUTH relays to smtp-sink byte for byte"):
            s = smtplib.SMTP(dv.host, dv.submission_port, timeout=20)
            s.starttls(context=ctx)
            s.login(dv.user, dv.password)
            body = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: relay\r\n\r\nline\r\n..dot\r\n"
            s.sendmail("a@example.org", ["b@example.org"], body)
            s.quit()
            t.check(sink.wait_count(1, 20), "smtp-sink received the message")
            msgs = sink.messages()
            t.check(len(msgs) == 1, f"one dump, got {len(msgs)}")
            got = strip_received(msgs[0]["data"])
            t.check(got == body.replace(b"\r\n", b"\n"), f"relayed bytes differ: {got!r}")
            t.check(msgs[0]["rcpts"] == ["<b@example.org>"] or msgs[0]["rcpts"][0].startswith("<b@example.org>"),
                    f"rcpts {msgs[0]['rcpts']}")

        with t.case("submissions (implicit TLS) offers AUTH"):
            s = smtplib.SMTP_SSL(dv.host, dv.submissions_port, context=ctx, timeout=20)
            code, _ = s.ehlo()
            t.check(code == 250 and s.has_extn("auth"), "EHLO advertises AUTH")
            s.quit()

        pid = dv.pid
    t.ok(not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split(")")[-1].split()[0] == "Z",
         "Dovecot stopped by PID")

# ---- transcript-peer ----
TWO = ("# two connections, the second with implicit TLS\n"
       "S: 220 one\nC: HELLO\nS: 250 hi\n-- close --\n"
       "-- connection --\n-- TLS --\nS: 220 two\nC: QUIT\nS: 221 bye\n")


def client(peer, *sends, tls=False):
    """One connection to @peer: read the greeting, then each of @sends and its reply."""
    with socket.create_connection((peer.host, peer.port), timeout=10) as raw:
        sock = raw
        if tls:
            ctx = ssl.create_default_context(cafile=peer.cafile)
            sock = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        f = sock.makefile("rwb")
        got = [f.readline()]
        for line in sends:
            f.write(line + b"\r\n")
            f.flush()
            got.append(f.readline())
        return got


with tempfile.TemporaryDirectory(prefix="msgtk-transcript-peer-") as work:
    with t.case("transcript-peer: a client that follows two connections, the second over TLS, passes"):
        with TranscriptPeer(work, "two", TWO) as peer:
            t.check(client(peer, b"HELLO") == [b"220 one\r\n", b"250 hi\r\n"], "first connection")
            t.check(client(peer, b"QUIT", tls=True) == [b"220 two\r\n", b"221 bye\r\n"],
                    "second connection, the certificate verified against peer.cafile")
            cadir = os.path.dirname(peer.cafile)
        peer.check(t)
        t.check(not os.path.exists(cadir), f"its certificate removed: {cadir}")

    with t.case("transcript-peer: a departure is the line, what it expected and what came (exit 1)"):
        with TranscriptPeer(work, "depart", TWO) as peer:
            client(peer, b"HELO")
        t.check(peer.returncode == 1, f"exit {peer.returncode}")
        t.check("depart.txt:3: the transcript expects C: 'HELLO', the client sent 'HELO'" in peer.stderr,
                peer.stderr)

    with t.case("transcript-peer: a connection more than the transcript has, or one less, is a departure"):
        with TranscriptPeer(work, "more", "S: 220 one\n") as peer:
            client(peer)
            client(peer)
        t.check(not peer.followed and "opened connection 2; the transcript has 1" in peer.stderr, peer.stderr)
        with TranscriptPeer(work, "less", TWO) as peer:
            client(peer, b"HELLO")
        t.check(not peer.followed and "never opened connection 2" in peer.stderr, peer.stderr)

    with t.case("transcript-peer: header fields for test-transcripts' own client are refused (exit 2)"):
        try:
            TranscriptPeer(work, "steps", "protocol: smtp\nrun: connect\nS: 220 hi\n").start()
            t.check(False, "started")
        except RuntimeError as e:
            t.check("exit 2" in str(e) and "steps.txt:2: 'run' is for test-transcripts' own client" in str(e),
                    str(e))

    with t.case("transcript-peer: --timeout ends a peer that is never told the client is done"):
        peer = TranscriptPeer(work, "forgotten", "S: 220 hi\n", timeout=1).start()
        started = time.monotonic()
        peer.proc.wait(timeout=30)
        peer.finish()
        t.check(time.monotonic() - started < 15, "ended soon after its timeout")
        t.check(peer.returncode == 1 and "not told within 1 s that the client is done" in peer.stderr,
                f"exit {peer.returncode}: {peer.stderr}")
    t.check(sorted(os.listdir(work)) == sorted(f"{n}.{x}" for n in ("two", "depart", "more", "less", "steps",
                                                                     "forgotten") for x in ("txt", "stderr")),
            f"nothing left but the transcripts and their stderr: {sorted(os.listdir(work))}")
t.done()
