"""msgappend against a scripted IMAP server on loopback (what Dovecot cannot be
made to do): ENABLE UTF8=ACCEPT and a UTF-8 mailbox name, APPENDLIMIT, LITERAL-
with its 4096-byte limit, several APPENDs in flight with completions out of
order, throttling replies backed off and retried, and a BYE
in the middle of an upload (reported, the run goes on with a new session)."""
import os
import re
import socket
import socketserver
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, tool, run  # noqa: E402

MSGAPPEND = tool("msgappend")
t = Tap()


class FakeImap(socketserver.ThreadingTCPServer):
    """PREAUTH server with the given capabilities. Records every APPEND as
    (mailbox bytes, [(literal size, synchronising?, data)]). @on_append(n)
    is asked for the answer to the n-th APPEND command (1-based): None for
    OK, a string for a tagged NO text, or "BYE ..." to end the session."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, caps, on_append=lambda n: None, hold=0):
        self.caps = caps
        self.on_append = on_append
        self.hold = hold  # answer the first @hold APPENDs only once all arrived, last first
        self.held = []
        self.waited = False  # the client waited for an answer while commands were held
        self.appends = []
        self.stored = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()


class Handler(socketserver.StreamRequestHandler):
    def send(self, text):
        self.wfile.write(text.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self):
        srv = self.server
        self.send(f"* PREAUTH [CAPABILITY {srv.caps}] fake server ready")
        self.request.settimeout(5)
        while True:
            try:
                line = self.rfile.readline()
            except socket.timeout:
                # the client waits for an answer: give the held ones in order
                srv.waited = True
                for tag, answer in srv.held:
                    self.send(f"{tag} {answer}")
                srv.held = []
                srv.hold = 0
                continue
            if not line:
                return
            line = line.rstrip(b"\r\n")
            tag, _, rest = line.partition(b" ")
            verb = rest.split(b" ", 1)[0].upper()
            t_ = tag.decode()
            if verb == b"APPEND":
                if not self.append(t_, rest):
                    return
            elif verb == b"ENABLE":
                self.send("* ENABLED UTF8=ACCEPT")
                self.send(f"{t_} OK enabled")
            elif verb == b"LIST":
                self.send('* LIST (\\Noselect) "/" ""')
                self.send(f"{t_} OK listed")
            elif verb == b"LOGOUT":
                self.send("* BYE bye")
                self.send(f"{t_} OK logged out")
                return
            else:
                self.send(f"{t_} OK done")

    def append(self, tag, rest):
        srv = self.server
        m = re.match(rb'APPEND ("(?:[^"\\]|\\.)*"|\S+)', rest)
        mailbox = m.group(1)
        items = []
        cur = rest
        while True:
            lit = re.search(rb"\{(\d+)(\+?)\}$", cur)
            if not lit:
                break
            size, sync = int(lit.group(1)), lit.group(2) != b"+"
            if sync:
                self.send("+ go ahead")
            data = self.rfile.read(size)
            items.append((size, sync, data))
            cur = self.rfile.readline().rstrip(b"\r\n")
        with srv.lock:
            srv.appends.append((mailbox, items))
            n = len(srv.appends)
        answer = srv.on_append(n)
        if answer is not None and answer.startswith("BYE"):
            self.send("* " + answer)
            return False
        if answer is not None:
            self.send(f"{tag} {answer}")
            return True
        with srv.lock:
            srv.stored += [d for _, _, d in items]
        if srv.hold:
            srv.held.append((tag, f"OK [APPENDUID 9 {n}] append completed"))
            if len(srv.held) == srv.hold:
                for t_, answer in reversed(srv.held):
                    self.send(f"{t_} {answer}")
                srv.held = []
                srv.hold = 0
            return True
        self.send(f"{tag} OK append completed")
        return True


def out_of(r):
    return (r.stdout + r.stderr).decode(errors="replace")


def upload(srv, *args):
    return run([MSGAPPEND, "--host", "127.0.0.1", "--port", str(srv.port), "--tls", "none",
                "--no-journal"] + list(args), env={"MSGTK_PASSWORD": "", "MSGTK_TOKEN": ""}, timeout=60)


def write_msgs(d, msgs):
    os.makedirs(d, exist_ok=True)
    for i, data in enumerate(msgs):
        with open(os.path.join(d, f"{i:02d}.eml"), "wb") as f:
            f.write(data)


def message(i, size):
    head = f"Subject: m{i}\r\nMessage-ID: <m{i}@example.org>\r\n\r\n".encode()
    return head + b"x" * (size - len(head) - 2) + b"\r\n"


with tempfile.TemporaryDirectory(prefix="msgtk-fakeimap-") as work:
    with t.case("UTF8=ACCEPT: the mailbox name in UTF-8; LITERAL- up to 4096; APPENDLIMIT respected"):
        srv = FakeImap("IMAP4rev1 LITERAL- UIDPLUS APPENDLIMIT=6000 ENABLE UTF8=ACCEPT")
        d = os.path.join(work, "limits")
        msgs = [message(0, 4096), message(1, 4097), message(2, 6001), message(3, 100)]
        write_msgs(d, msgs)
        r = upload(srv, "--mailbox", "Entwürfe", d)
        t.check(r.returncode == 2, f"exit {r.returncode}: {out_of(r)}")
        t.check("3 uploaded" in out_of(r) and "1 failed" in out_of(r), out_of(r))
        t.check(re.search(r"02\.eml: refused by the server: \[TOOBIG\] .*APPENDLIMIT of 6000", out_of(r)),
                out_of(r))
        t.check(all(mb == '"Entwürfe"'.encode() for mb, _ in srv.appends),
                f"mailbox names {[mb for mb, _ in srv.appends]}")
        sizes = [(size, sync) for _, items in srv.appends for size, sync, _ in items]
        t.check(sizes == [(4096, False), (4097, True), (100, False)], f"literals {sizes}")
        t.check(sorted(srv.stored) == sorted([msgs[0], msgs[1], msgs[3]]), "stored byte for byte")
        srv.shutdown()

    with t.case("a throttling reply is backed off and the batch sent again"):
        srv = FakeImap("IMAP4rev1 LITERAL+ MULTIAPPEND",
                       on_append=lambda n: "NO [THROTTLED] slow down" if n == 1 else None)
        d = os.path.join(work, "throttle")
        msgs = [message(i, 300) for i in range(3)]
        write_msgs(d, msgs)
        r = upload(srv, d)
        t.check(r.returncode == 0, f"exit {r.returncode}: {out_of(r)}")
        t.check(len(srv.appends) == 2 and len(srv.appends[0][1]) == 3, f"{len(srv.appends)} APPEND commands")
        t.check(sorted(srv.stored) == sorted(msgs), "each message stored once")
        srv.shutdown()

    with t.case("several APPENDs in flight (LITERAL+, no MULTIAPPEND), completions in any order"):
        srv = FakeImap("IMAP4rev1 LITERAL+ UIDPLUS", hold=4)
        d = os.path.join(work, "inflight")
        msgs = [message(i, 150 + i) for i in range(6)]
        write_msgs(d, msgs)
        r = upload(srv, d)
        t.check(r.returncode == 0, f"exit {r.returncode}: {out_of(r)}")
        t.check(not srv.waited, "four commands were sent before the first completion was read")
        t.check("6 uploaded" in out_of(r), out_of(r))
        t.check(srv.stored == msgs, "stored once each, in order")
        srv.shutdown()

    with t.case("BYE in the middle of an upload: reported with the server's words, the run goes on"):
        srv = FakeImap("IMAP4rev1 LITERAL+ MULTIAPPEND",
                       on_append=lambda n: "BYE server shutting down for maintenance" if n == 2 else None)
        d = os.path.join(work, "bye")
        msgs = [message(i, 200 + i) for i in range(6)]
        write_msgs(d, msgs)
        r = upload(srv, "--batch", "2", d)
        t.check(r.returncode == 2, f"exit {r.returncode} (some uploaded): {out_of(r)}")
        t.check("4 uploaded" in out_of(r) and "2 failed" in out_of(r), out_of(r))
        t.check(len(re.findall(r"failed: .*BYE server shutting down for maintenance", out_of(r))) == 2, out_of(r))
        t.check(sorted(srv.stored) == sorted(msgs[:2] + msgs[4:]), "the other batches stored")
        srv.shutdown()

t.done()
