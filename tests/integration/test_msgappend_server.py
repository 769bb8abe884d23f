"""msgappend against scripted IMAP servers on loopback (what Dovecot cannot be
made to do), each a transcript played by transcript-peer (tests/servers/
transcriptpeer.py) that also checks every line msgappend sends, in order:
one session (the one that asked for the hierarchy delimiter), a STATUS of
each mailbox before its first message goes,
ENABLE UTF8=ACCEPT and a UTF-8 mailbox name, APPENDLIMIT, LITERAL- with its
4096-byte limit, several APPENDs in flight with completions out of order and
the limit of eight in flight, a throttling reply backed off and the batch sent
again, and a BYE in the middle of an upload (reported, the run goes on with a
new session)."""
import os
import re
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, tool, run, serve_once, SOURCE_DIR  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
from transcriptpeer import TranscriptPeer, transcript_lines  # noqa: E402

MSGAPPEND = tool("msgappend")
t = Tap()


def out_of(r):
    return (r.stdout + r.stderr).decode(errors="replace")


def upload(peer, *args):
    return run([MSGAPPEND, "--host", peer.host, "--port", str(peer.port), "--tls", "none",
                "--no-journal"] + list(args), env={"MSGTK_PASSWORD": "", "MSGTK_TOKEN": ""}, timeout=60)


def write_msgs(d, msgs):
    os.makedirs(d, exist_ok=True)
    for i, data in enumerate(msgs):
        with open(os.path.join(d, f"{i:02d}.eml"), "wb") as f:
            f.write(data)


def message(i, size):
    head = f"Subject: m{i}\r\nMessage-ID: <m{i}@example.org>\r\n\r\n".encode()
    return head + b"x" * (size - len(head) - 2) + b"\r\n"


# ---- the dialogues: a PREAUTH server (no credentials) ----

def greeting(caps):
    return f"S: * PREAUTH [CAPABILITY {caps}] fake server ready\n".encode()


def enable(tag, caps):
    """ENABLE UTF8=ACCEPT, which the client sends first where it is offered."""
    if "UTF8=ACCEPT" not in caps.split():
        return b""
    return f"C: {tag} ENABLE UTF8=ACCEPT\nS: * ENABLED UTF8=ACCEPT\nS: {tag} OK enabled\n".encode()


def logout(tag):
    return f"C: {tag} LOGOUT\nS: * BYE bye\nS: {tag} OK logged out\n".encode()


class Tags:
    """The client's tags, in the order it uses them."""

    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1
        return f"A{self.n:04d}"


def session_start(caps, tags):
    """msgappend's first session: ENABLE where offered, the hierarchy
    delimiter (LIST "" "", no NAMESPACE here) and the mailboxes (LIST "" "*",
    for their special uses); it then serves the first worker."""
    out = greeting(caps)
    if "UTF8=ACCEPT" in caps.split():
        out += enable(tags(), caps)
    t, all_ = tags(), tags()
    return out + (f'C: {t} LIST "" ""\nS: * LIST (\\Noselect) "/" ""\nS: {t} OK listed\n'
                  f'C: {all_} LIST "" "*"\nS: * LIST (\\HasNoChildren) "/" INBOX\nS: {all_} OK listed\n').encode()


def status(tag, mailbox, uidnext=1):
    """The look at a mailbox before its first message goes (STATUS)."""
    return (f'C: {tag} STATUS "{mailbox}" (MESSAGES UIDNEXT UIDVALIDITY)\n'
            f'S: * STATUS "{mailbox}" (MESSAGES {uidnext - 1} UIDNEXT {uidnext} UIDVALIDITY 9)\n'
            f"S: {tag} OK status\n").encode()


def append(tag, mailbox, msgs, sync=False):
    """The client's APPEND of @msgs (several: MULTIAPPEND) as it goes on the wire:
    non-synchronising literals, or with @sync one message waiting for '+'."""
    head = f'{tag} APPEND "{mailbox}"'.encode()
    if sync:
        (m,) = msgs
        return (transcript_lines("C", head + f" () {{{len(m)}}}\r\n".encode()) + b"S: + go ahead\n"
                + transcript_lines("C", m + b"\r\n"))
    wire = head + b"".join(f" () {{{len(m)}+}}\r\n".encode() + m for m in msgs) + b"\r\n"
    return transcript_lines("C", wire)


def ok(tag, code=""):
    return f"S: {tag} OK {code}append completed\n".encode()


with tempfile.TemporaryDirectory(prefix="msgtk-imap-peer-") as work:
    with t.case("UTF8=ACCEPT: the mailbox name in UTF-8; LITERAL- up to 4096; APPENDLIMIT respected"):
        caps = "IMAP4rev1 LITERAL- UIDPLUS APPENDLIMIT=6000 ENABLE UTF8=ACCEPT"
        d = os.path.join(work, "limits")
        msgs = [message(0, 4096), message(1, 4097), message(2, 6001), message(3, 100)]
        write_msgs(d, msgs)
        # 4096 bytes go as {4096+}, 4097 as a synchronising {4097}; 6001 not at all
        n = Tags()
        dialogue = (session_start(caps, n) + status(n(), "Entwürfe")
                    + append(n(), "Entwürfe", [msgs[0]]) + ok(f"A{n.n:04d}")
                    + append(n(), "Entwürfe", [msgs[1]], sync=True) + ok(f"A{n.n:04d}")
                    + append(n(), "Entwürfe", [msgs[3]]) + ok(f"A{n.n:04d}")
                    + logout(n()))
        with TranscriptPeer(work, "limits", dialogue) as peer:
            r = upload(peer, "--mailbox", "Entwürfe", d)
        peer.check(t)
        t.check(r.returncode == 2, f"exit {r.returncode}: {out_of(r)}")
        t.check("3 uploaded" in out_of(r) and "1 failed" in out_of(r), out_of(r))
        t.check(re.search(r"02\.eml: refused by the server: \[TOOBIG\] .*APPENDLIMIT of 6000", out_of(r)),
                out_of(r))

    with t.case("a throttling reply is backed off and the batch sent again"):
        caps = "IMAP4rev1 LITERAL+ MULTIAPPEND"
        d = os.path.join(work, "throttle")
        msgs = [message(i, 300) for i in range(3)]
        write_msgs(d, msgs)
        n = Tags()
        dialogue = (session_start(caps, n) + status(n(), "INBOX")
                    + append(n(), "INBOX", msgs) + f"S: A{n.n:04d} NO [THROTTLED] slow down\n".encode()
                    + append(n(), "INBOX", msgs) + ok(f"A{n.n:04d}")
                    + logout(n()))
        with TranscriptPeer(work, "throttle", dialogue) as peer:
            r = upload(peer, d)
        peer.check(t)
        t.check(r.returncode == 0, f"exit {r.returncode}: {out_of(r)}")
        t.check("3 uploaded" in out_of(r), out_of(r))

    with t.case("several APPENDs in flight (LITERAL+, no MULTIAPPEND), eight at the most, completions in any order"):
        caps = "IMAP4rev1 LITERAL+ UIDPLUS"
        d = os.path.join(work, "inflight")
        msgs = [message(i, 150 + i) for i in range(10)]
        write_msgs(d, msgs)
        n = Tags()
        start = session_start(caps, n) + status(n(), "INBOX")
        tags = [n() for i in range(10)]
        # eight APPENDs go before the first completion is read (a client that
        # waits for each would wait here for ever); the completions come last
        # first; the first one read lets the ninth go, then the tenth
        dialogue = (start
                    + b"".join(append(tags[i], "INBOX", [msgs[i]]) for i in range(8))
                    + b"".join(ok(tags[i], f"[APPENDUID 9 {i + 1}] ") for i in reversed(range(8)))
                    + append(tags[8], "INBOX", [msgs[8]]) + append(tags[9], "INBOX", [msgs[9]])
                    + ok(tags[9]) + ok(tags[8])
                    + logout(n()))
        with TranscriptPeer(work, "inflight", dialogue) as peer:
            r = upload(peer, d)
        peer.check(t)
        t.check(r.returncode == 0, f"exit {r.returncode}: {out_of(r)}")
        t.check("10 uploaded" in out_of(r), out_of(r))

    with t.case("BYE in the middle of an upload: reported with the server's words, the run goes on in a new session"):
        caps = "IMAP4rev1 LITERAL+ MULTIAPPEND"
        d = os.path.join(work, "bye")
        msgs = [message(i, 200 + i) for i in range(6)]
        write_msgs(d, msgs)
        n = Tags()
        dialogue = (session_start(caps, n) + status(n(), "INBOX")
                    + append(n(), "INBOX", msgs[0:2]) + ok(f"A{n.n:04d}")
                    + append(n(), "INBOX", msgs[2:4])
                    + b"S: * BYE server shutting down for maintenance\n-- close --\n"
                    + b"-- connection --\n" + greeting(caps)
                    + append("A0001", "INBOX", msgs[4:6]) + ok("A0001")
                    + logout("A0002"))
        with TranscriptPeer(work, "bye", dialogue) as peer:
            r = upload(peer, "--batch", "2", d)
        peer.check(t)
        t.check(r.returncode == 2, f"exit {r.returncode} (some uploaded): {out_of(r)}")
        t.check("4 uploaded" in out_of(r) and "2 failed" in out_of(r), out_of(r))
        t.check(len(re.findall(r"failed: .*BYE server shutting down for maintenance", out_of(r))) == 2, out_of(r))


# ---- servers that misbehave below the protocol: a drip, a literal bomb ----
def drip(conn):
    # a greeting that never ends: a byte every half second
    for b in b"* OK " + b"x" * 200:
        conn.sendall(bytes([b]))
        time.sleep(0.5)


def bomb(conn):
    # before any login, a greeting whose literal would take 100 MB
    conn.sendall(b"* OK {104857600}\r\n")
    chunk = b"x" * 65536
    for _ in range(1600):
        conn.sendall(chunk)


with t.case("a server that drips its greeting a byte at a time: given up within the timeout (exit 75)"):
    port = serve_once(drip)
    t0 = time.time()
    r = run([MSGAPPEND, "--host", "127.0.0.1", "--port", str(port), "--tls", "none", "--timeout", "2",
             "--no-journal", "--mailbox", "X", os.devnull], env={"MSGTK_PASSWORD": ""}, timeout=60)
    took = time.time() - t0
    t.check(r.returncode == 75 and "too slowly" in out_of(r) and took < 4.5, f"exit {r.returncode} after "
            f"{took:.1f} s: {out_of(r)}")

with t.case("a literal bomb before the login: refused at once (exit 76), msgappend stays small"):
    import resource
    port = serve_once(bomb)
    t0 = time.time()
    r = run([MSGAPPEND, "--host", "127.0.0.1", "--port", str(port), "--tls", "none", "--no-journal",
             "--mailbox", "X", os.devnull], env={"MSGTK_PASSWORD": ""}, timeout=60)
    rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    t.check(r.returncode == 76 and "before the login" in out_of(r), f"exit {r.returncode}: {out_of(r)}")
    t.check(rss_mb < 100 and time.time() - t0 < 10, f"{rss_mb:.0f} MB")

t.done()
