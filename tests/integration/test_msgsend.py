"""msgsend against a real private Dovecot submission service (STARTTLS and
implicit TLS, PLAIN/LOGIN/CRAM-MD5/SCRAM) relaying to Postfix's smtp-sink:
the project's fixtures (and the external corpus where it is present) arrive
byte for byte (minus Bcc); many messages in one session
from a directory, an mbox, a maildir and every archive layout (mutt,
Thunderbird, Apple Mail, MH), what is not mail in a tree named; -t envelopes; per-recipient results;
--dry-run; trace redaction; TLS refusals and mode mismatches; every secret
source and its permission check; config file accounts. Then misbehaving
servers, each a transcript played by transcript-peer that also checks every
line msgsend sends, in order: each fault gives its exit code and one clear
line, the message is kept with --spool, and --flush delivers it later; and
servers that cheat at SCRAM."""
import base64
import hashlib
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from tap import (Tap, tool, run, serve_once, SOURCE_DIR, CORPUS_MISSING, corpus_messages, fixture_messages,  # noqa: E402
                 write_dir)
from layouts import write_layouts  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
from peers import Dovecot, SmtpSink  # noqa: E402
from transcriptpeer import TranscriptPeer, transcript_lines  # noqa: E402

MSGSEND = tool("msgsend")
MSGBUILD = tool("msgbuild")
EX_OK, EX_USAGE, EX_DATAERR, EX_NOUSER, EX_UNAVAILABLE = 0, 64, 65, 67, 69
EX_IOERR, EX_TEMPFAIL, EX_PROTOCOL, EX_NOPERM, EX_CONFIG = 74, 75, 76, 77, 78
t = Tap()
# LeakSanitizer crashes on the dynamic TLS of the GIO TLS module (glibc >= 2.35)
# unless __tls_get_addr is left alone.
os.environ["ASAN_OPTIONS"] = ":".join(x for x in (os.environ.get("ASAN_OPTIONS", ""), "intercept_tls_get_addr=0") if x)
for var in ("MSGTK_PASSWORD", "MSGTK_TOKEN", "MSGTK_NETRC"):
    os.environ.pop(var, None)

work = tempfile.mkdtemp(prefix="msgsend-test-")
# No config file or netrc of the user running the tests may leak in.
os.environ["XDG_CONFIG_HOME"] = os.path.join(work, "xdg")
os.environ["HOME"] = os.path.join(work, "home")
os.makedirs(os.environ["HOME"], exist_ok=True)


# ---- oracles ----

def header_end(data):
    m = re.search(rb"\r?\n\r?\n", data)
    return m.end() if m else len(data)


def strip_bcc(data):
    """The message without its Bcc:/Resent-Bcc: fields (an independent oracle)."""
    h = header_end(data)
    out, skipping = [], False
    for line in data[:h].splitlines(keepends=True):
        if line[:1] not in (b" ", b"\t"):
            skipping = re.match(rb"(?i)(resent-)?bcc[ \t]*:", line) is not None
        if not skipping:
            out.append(line)
    return b"".join(out) + data[h:]


def as_sink_stores(data):
    """What smtp-sink writes for @data sent over SMTP: LF line ends, a final newline."""
    data = re.sub(rb"(?<!\r)\n", b"\r\n", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data.replace(b"\r\n", b"\n")


def on_the_wire(data):
    """@data as SMTP carries it: CRLF line ends, a final line end."""
    data = re.sub(rb"(?<!\r)\n", b"\r\n", data)
    return data if data.endswith(b"\r\n") else data + b"\r\n"


def bare_cr(data):
    return re.search(rb"\r(?!\n)", data) is not None


# smtp-sink stores a message without its CR bytes, so a bare CR (one not
# before an LF) cannot be checked through it: the messages with one go to a
# transcript instead, which checks every byte.
MSGS = [m for m in fixture_messages(skip_mbox_like=True) if not bare_cr(m[1])]
BARE_CR_MSGS = [m for m in fixture_messages(skip_mbox_like=True) if bare_cr(m[1])]


def mbox_ok(data):
    return not re.search(rb"(^|\n)>*From ", data)


def write_mbox(path, msgs):
    with open(path, "wb") as f:
        for _, data in msgs:
            f.write(b"From sender@example.org Mon Jan  3 04:05:06 2005\n")
            f.write(data if data.endswith(b"\n") else data + b"\n")
            f.write(b"\n")


def write_maildir(path, msgs):
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    for i, (_, data) in enumerate(msgs):
        with open(os.path.join(path, "new", f"{1000 + i}.M{i}P1.test"), "wb") as f:
            f.write(data)


def out_of(r):
    return (r.stdout + r.stderr).decode(errors="replace")


def err_lines(r):
    return [l for l in r.stderr.decode(errors="replace").splitlines() if l.strip()]


def write_secret(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def spool_entries(d):
    try:
        return sorted(os.listdir(os.path.join(d, "new")))
    except FileNotFoundError:
        return []


# ---- scripted servers: the dialogues of transcripts (tests/data/transcripts/README.md) ----
# msgsend says EHLO test (--helo) to them.

GREET = b"S: 220 fake.test ESMTP ready\n"
CAPS = ("PIPELINING", "8BITMIME", "SIZE 10485760")
QUEUED = b"S: 250 2.0.0 Ok: queued\n"
BYE = b"C: QUIT\nS: 221 2.0.0 Bye\n"


def ehlo(*caps):
    """The client's EHLO and the server's reply offering @caps."""
    words = ["fake.test greets you"] + list(caps)
    return b"C: EHLO test\n" + "".join(f"S: 250{'-' if i < len(words) - 1 else ' '}{w}\n"
                                       for i, w in enumerate(words)).encode()


def data_lines(msg):
    """@msg as DATA carries it (CRLF line ends, dot-stuffed, the final dot), as C: lines."""
    wire = on_the_wire(msg)[:-2].split(b"\r\n")
    return transcript_lines("C", b"".join((b"." if l.startswith(b".") else b"") + l + b"\r\n"
                                          for l in wire) + b".\r\n")


def transaction(sender, rcpts, msg, replies=None, queued=b""):
    """MAIL, RCPT and DATA of @msg pipelined (RFC 2920), then the server's replies:
    @queued (the previous message's final reply), MAIL's, each RCPT's (@replies,
    by default 250) and 354."""
    replies = replies or ["250 2.1.5 Ok"] * len(rcpts)
    return (f"C: MAIL FROM:<{sender}> SIZE={len(on_the_wire(msg))}\n".encode()
            + "".join(f"C: RCPT TO:<{r}>\n" for r in rcpts).encode() + b"C: DATA\n"
            + queued + b"S: 250 2.1.0 Ok\n" + "".join(f"S: {r}\n" for r in replies).encode()
            + b"S: 354 End data with <CR><LF>.<CR><LF>\n")


def session(sender, rcpts, msgs, replies=None):
    """A plain session accepting @msgs: each message's data goes with the next
    message's envelope, the last with QUIT."""
    out = GREET + ehlo(*CAPS)
    for i, m in enumerate(msgs):
        out += transaction(sender, rcpts, m, replies, QUEUED if i else b"") + data_lines(m)
    return out + b"C: QUIT\n" + QUEUED + b"S: 221 2.0.0 Bye\n"


def peer_send(peer, *args, input=None, env=None):
    """msgsend to the transcript's server @peer, no TLS unless @args say otherwise."""
    return run([MSGSEND, "--host", peer.host, "--port", str(peer.port), "--helo", "test",
                "--tls-trust-file", peer.cafile] + (["--tls", "none"] if "--tls" not in args else [])
               + list(args), input=input, env=env, timeout=60)


# ---- peers ----

sink = SmtpSink(os.path.join(work, "sink"), dump=True).start()
dv = Dovecot(os.path.join(work, "dovecot"), relay_port=sink.port).start()
PW = dv.password


def wait_arrivals(n, timeout=60.0):
    """Wait until exactly @n messages sit in the sink and their files stopped growing."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        files = sink._dump_files()
        sizes = [os.path.getsize(p) for p in files]
        if len(files) >= n and sizes == last:
            return sink.messages()
        last = sizes if len(files) >= n else None
        time.sleep(0.2)
    return sink.messages()


def strip_transit(data):
    """@data without the two Received: fields the relay (Dovecot) and smtp-sink
    added. Unlike peers.strip_received this keeps a message's own leading
    Received: fields, and a first line of its own that begins with a space
    (the transit fields continue their lines with a tab only)."""
    for _ in range(2):
        if not data.startswith(b"Received:"):
            break
        end = data.find(b"\n")
        while end >= 0 and data[end + 1:end + 2] == b"\t":
            end = data.find(b"\n", end + 1)
        data = data[end + 1:]
    return data


def arrived_bytes(msgs):
    return [strip_transit(m["data"]) for m in msgs]


def send(*args, tls="starttls", user=True, password=True, input=None, env=None, trust=True,
         port=None, timeout=300):
    a = [MSGSEND, "--host", "127.0.0.1"]
    if port is None:
        port = dv.submissions_port if tls == "implicit" else dv.submission_port
    a += ["--port", str(port), "--tls", tls]
    if trust:
        a += ["--tls-trust-file", dv.cafile]
    if user:
        a += ["--user", dv.user]
    e = {"MSGTK_PASSWORD": PW} if password else {}
    if env:
        e.update(env)
    return run(a + list(args), input=input, env=e, timeout=timeout)


def simple(subject, to="rcpt@example.org", extra=""):
    return (f"From: Sender <sender@example.org>\nTo: {to}\n{extra}Subject: {subject}\n"
            f"Message-ID: <{hashlib.md5(subject.encode()).hexdigest()}@example.org>\n\n"
            f"Body of {subject}.\n.a line starting with a dot\n").encode()


def fresh():
    """Let late arrivals land, then empty the sink."""
    wait_arrivals(10**6, timeout=0.6)
    sink.clear()


try:
    # ---- the fixtures and the corpus, each in one session, STARTTLS + SCRAM-SHA-256 ----
    def one_session(what, msgs):
        with t.case(f"STARTTLS + SCRAM-SHA-256: all {len(msgs)} {what} messages arrive byte for byte (minus Bcc), one session"):
            fresh()
            d = os.path.join(work, what)
            write_dir(d, msgs)
            r = send("--trace", "--from", "sender@example.org", "-i", d, "rcpt@example.org")
            out = out_of(r)
            t.check(r.returncode == 0, f"exit {r.returncode}: {out[-3000:]}")
            t.check(out.count("-- TLS established") == 1 and len(re.findall(r"^S: 220 ", out, re.M)) == 2,
                    "one connection, one STARTTLS for every message")
            t.check("C: AUTH SCRAM-SHA-256 " in out, "SCRAM-SHA-256 chosen as the strongest mechanism")
            t.check(out.count("C: MAIL FROM:") == len(msgs), "one MAIL per message")
            got = arrived_bytes(wait_arrivals(len(msgs)))
            want = [as_sink_stores(strip_bcc(data)) for _, data in msgs]
            t.check(len(got) == len(want), f"{len(got)} arrived, want {len(want)}")
            missing = [name for (name, _), w in zip(msgs, want) if w not in got]
            t.check(not missing, f"not byte-identical: {missing[:10]}")
            t.check(sorted(got) == sorted(want), f"the arrivals are exactly the {what} messages")

    one_session("fixture", MSGS)
    if t.corpus():
        one_session("corpus", [m for m in corpus_messages(skip_mbox_like=True) if not bare_cr(m[1])])
    else:
        t.skip("STARTTLS + SCRAM-SHA-256: all corpus messages arrive byte for byte (minus Bcc), one session",
               CORPUS_MISSING)
    with t.case(f"{len(BARE_CR_MSGS)} fixture messages with a bare CR go out with it, byte for byte (a transcript)"):
        d = os.path.join(work, "bare-cr")
        write_dir(d, BARE_CR_MSGS)
        t.check(BARE_CR_MSGS, "the fixtures have a message with a bare CR")
        dialogue = session("sender@example.org", ["rcpt@example.org"], [m for _, m in BARE_CR_MSGS])
        with TranscriptPeer(os.path.join(work, "peer"), "bare-cr", dialogue) as peer:
            r = peer_send(peer, "--from", "sender@example.org", "-i", d, "rcpt@example.org")
        peer.check(t)
        t.check(r.returncode == 0, out_of(r))

    # ---- every mechanism, both TLS modes ----
    for i, mech in enumerate(["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-1", "SCRAM-SHA-256"]):
        for tls in ("implicit", "starttls"):
            with t.case(f"{tls} TLS + AUTH {mech}: sent, arrived, mechanism as asked"):
                fresh()
                msg = simple(f"{mech} over {tls}")
                r = send("--trace", "--auth", mech, "rcpt@example.org", tls=tls, input=msg)
                out = out_of(r)
                t.check(r.returncode == 0, f"exit {r.returncode}: {out}")
                t.check(f"C: AUTH {mech}" in out, f"AUTH {mech} used")
                t.check(PW not in out, "password not in the trace")
                if tls == "implicit":
                    t.check(out.index("-- TLS established") < out.index("S: 220 "),
                            "TLS before the greeting")
                got = arrived_bytes(wait_arrivals(1))
                t.check(got == [as_sink_stores(msg)], f"arrived byte for byte: {got!r}")

    # ---- many messages from an mbox and a maildir ----
    box_msgs = [m for m in MSGS if mbox_ok(m[1])][:25]
    for kind, name, write in (("an mbox", "out.mbox", write_mbox), ("a maildir", "outbox", write_maildir)):
        with t.case(f"{len(box_msgs)} messages from {kind} in one session, each byte for byte"):
            fresh()
            box = os.path.join(work, name)
            write(box, box_msgs)
            r = send("--trace", "--from", "sender@example.org", "-i", box, "rcpt@example.org")
            out = out_of(r)
            t.check(r.returncode == 0, f"exit {r.returncode}: {out[-2000:]}")
            t.check(out.count("-- TLS established") == 1, "one session")
            t.check(f"{len(box_msgs)} sent" in out, "summary counts every message")
            got = arrived_bytes(wait_arrivals(len(box_msgs)))
            want = [as_sink_stores(strip_bcc(d)) for _, d in box_msgs]
            bad = [n for (n, _), w in zip(box_msgs, want) if w not in got]
            t.check(sorted(got) == sorted(want), f"messages arrived byte for byte; not: {bad}")

    # ---- every archive layout (msgtk-archives(5)) ----
    LAYOUTS = write_layouts(os.path.join(work, "layouts"))
    for name in ("mutt", "thunderbird", "apple", "mh"):
        lay = LAYOUTS[name]
        with t.case(f"-i {name}'s tree: each of its {len(lay.messages())} messages arrives byte for byte, one session"):
            fresh()
            r = send("--trace", "--from", "sender@example.org", "-i", lay.path, "rcpt@example.org")
            out = out_of(r)
            t.check(r.returncode == 0, f"exit {r.returncode}: {out[-2000:]}")
            t.check(out.count("-- TLS established") == 1, "one session")
            got = arrived_bytes(wait_arrivals(len(lay.messages())))
            t.check(sorted(got) == sorted(as_sink_stores(m) for _, m, _ in lay.messages()),
                    "the tree's messages arrived, byte for byte")

    with t.case("-i a tree with what is not mail: each named with what it is, the rest sent, exit 65"):
        fresh()
        lay = LAYOUTS["not-mail"]
        r = send("--quiet", "--from", "sender@example.org", "-i", lay.path, "rcpt@example.org")
        t.check(r.returncode == EX_DATAERR, f"exit {r.returncode}: {out_of(r)}")
        t.check(err_lines(r) == [f"msgsend: {e}" for e in lay.errors], out_of(r))
        got = arrived_bytes(wait_arrivals(1))
        t.check(got == [as_sink_stores(lay.messages()[0][1])], f"the message beside them arrived: {got!r}")
        fresh()
        lay = LAYOUTS["nothing"]
        r = send("--from", "sender@example.org", "-i", lay.path, "rcpt@example.org")
        t.check(r.returncode == EX_DATAERR and err_lines(r) == [f"msgsend: {e}" for e in lay.errors],
                f"exit {r.returncode}: {out_of(r)}")
        t.check(not wait_arrivals(1, timeout=1.0), "nothing sent")

    # ---- -t envelope and Bcc ----
    with t.case("-t: envelope from To/Cc/Bcc, sender from From, Bcc removed from the copy"):
        fresh()
        msg = simple("envelope", to="To One <to1@example.org>, to2@example.org",
                     extra="Cc: cc@example.org\nBcc: Hidden <hidden@example.org>,\n  hidden2@example.org\n")
        r = send("-t", input=msg)
        t.check(r.returncode == 0, out_of(r))
        m = wait_arrivals(1)
        t.check(len(m) == 1, f"{len(m)} arrived")
        t.check(m[0]["mail_from"].startswith("<sender@example.org>"), m[0]["mail_from"])
        rcpts = sorted(x.split()[0] for x in m[0]["rcpts"])
        t.check(rcpts == sorted(f"<{a}@example.org>" for a in ("to1", "to2", "cc", "hidden", "hidden2")),
                f"envelope recipients {rcpts}")
        data = strip_transit(m[0]["data"])
        t.check(b"hidden" not in data.lower() and b"bcc" not in data.lower(), "no Bcc in what arrived")
        t.check(data == as_sink_stores(strip_bcc(msg)), "the rest byte for byte")
    with t.case("-t with Resent-* fields: the resent envelope, Resent-Bcc removed"):
        fresh()
        msg = (b"Resent-From: fwd@example.org\nResent-To: new@example.org\nResent-Bcc: rb@example.org\n"
               + simple("resent", to="old@example.org"))
        r = send("-t", input=msg)
        t.check(r.returncode == 0, out_of(r))
        m = wait_arrivals(1)
        t.check(m[0]["mail_from"].startswith("<fwd@example.org>"), m[0]["mail_from"])
        rcpts = sorted(x.split()[0] for x in m[0]["rcpts"])
        t.check(rcpts == ["<new@example.org>", "<rb@example.org>"], f"envelope {rcpts}")
        t.check(strip_transit(m[0]["data"]) == as_sink_stores(strip_bcc(msg)), "Resent-Bcc removed")
    with t.case("msgbuild … | msgsend -t: a built message with Bcc arrives without it"):
        fresh()
        body = os.path.join(work, "report.txt")
        with open(body, "w") as f:
            f.write("Nightly report: all green.\n")
        built = run([MSGBUILD, "--from", "me@example.org", "--to", "team@example.org", "--bcc",
                     "boss@example.org", "--keep-bcc", "--subject", "Nightly report", "--text", body])
        t.check(built.returncode == 0 and b"Bcc:" in built.stdout, out_of(built))
        r = send("-t", input=built.stdout)
        t.check(r.returncode == 0, out_of(r))
        m = wait_arrivals(1)
        rcpts = sorted(x.split()[0] for x in m[0]["rcpts"])
        t.check(rcpts == ["<boss@example.org>", "<team@example.org>"], f"envelope {rcpts}")
        t.check(strip_transit(m[0]["data"]) == as_sink_stores(strip_bcc(built.stdout)),
                "built message arrived byte for byte minus Bcc")

    with t.case("-t with a recipient also given as an argument: one RCPT for it"):
        fresh()
        r = send("--trace", "-t", "TO1@example.org", "extra@example.org",
                 input=simple("dedupe", to="to1@example.org, to2@example.org"))
        out = out_of(r)
        t.check(r.returncode == 0, out)
        t.check(out.count("C: RCPT TO:") == 3, f"three RCPT: {out.count('C: RCPT TO:')}")
        wait_arrivals(1)

    # ---- message handling options ----
    with t.case("--add-missing adds Date and Message-ID at the top only when missing; without it nothing is added"):
        fresh()
        bare = b"From: sender@example.org\nTo: rcpt@example.org\nSubject: bare\n\nno date, no id\n"
        r = send("-t", input=bare)
        t.check(r.returncode == 0, out_of(r))
        t.check(arrived_bytes(wait_arrivals(1)) == [as_sink_stores(bare)], "unchanged without --add-missing")
        fresh()
        r = send("-t", "--add-missing", input=bare)
        t.check(r.returncode == 0, out_of(r))
        got = arrived_bytes(wait_arrivals(1))[0]
        m = re.match(rb"Date: [^\n]+\nMessage-ID: <[^@>\s]+@example\.org>\n", got)
        t.check(m and got[m.end():] == as_sink_stores(bare), f"added on top: {got[:200]!r}")
        fresh()
        full = simple("has both", extra="Date: Mon, 3 Jan 2005 04:05:06 +0000\n")
        r = send("-t", "--add-missing", input=full)
        t.check(r.returncode == 0, out_of(r))
        t.check(arrived_bytes(wait_arrivals(1)) == [as_sink_stores(full)], "nothing added when present")
    with t.case("--no-chunking: DATA with dot-stuffing instead of BDAT, the dot line arrives intact"):
        fresh()
        msg = simple("dots") + b".\n..two dots\n. \n"
        r = send("--trace", "--no-chunking", "x@example.org", input=msg)
        out = out_of(r)
        t.check(r.returncode == 0, out)
        t.check("C: DATA" in out and "C: BDAT" not in out, "DATA used")
        t.check(arrived_bytes(wait_arrivals(1)) == [as_sink_stores(msg)], "arrived byte for byte")
    with t.case("BDAT is used when offered (CHUNKING), with the exact byte count"):
        fresh()
        msg = simple("bdat")
        r = send("--trace", "x@example.org", input=msg)
        out = out_of(r)
        wire = len(as_sink_stores(msg).replace(b"\n", b"\r\n"))
        t.check(f"C: BDAT {wire} LAST" in out and f"SIZE={wire}" in out, out)
        wait_arrivals(1)
    with t.case("DSN options reach a server offering DSN (smtp-sink, no TLS, no credentials)"):
        fresh()
        r = run([MSGSEND, "--host", "127.0.0.1", "--port", str(sink.port), "--tls", "none", "--dsn-notify",
                 "SUCCESS,FAILURE", "--dsn-return", "HDRS", "--envid", "env-42", "-t"], input=simple("dsn"))
        t.check(r.returncode == 0, out_of(r))
        m = wait_arrivals(1)
        t.check("RET=HDRS" in m[0]["mail_from"] and "ENVID=env-42" in m[0]["mail_from"], m[0]["mail_from"])
        t.check("NOTIFY=SUCCESS,FAILURE" in m[0]["rcpts"][0], m[0]["rcpts"])
    with t.case("--envid goes as xtext: '+', '=' and spaces encoded"):
        fresh()
        r = run([MSGSEND, "--host", "127.0.0.1", "--port", str(sink.port), "--tls", "none", "--envid", "a+b=c d",
                 "-t"], input=simple("xtext"))
        t.check(r.returncode == 0, out_of(r))
        m = wait_arrivals(1)
        t.check("ENVID=a+2Bb+3Dc+20d" in m[0]["mail_from"], m[0]["mail_from"])
    for opt, value in (("--helo", "x\r\nVRFY root"), ("--envid", "id\r\nVRFY root"),
                       ("--dsn-notify", "FAILURE\r\nVRFY root"), ("--dsn-return", "HDRS\nVRFY root"),
                       ("--dsn-notify", "SOMETIMES")):
        with t.case(f"{opt} {value!r}: refused before connecting (exit 64), nothing sent"):
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(1)
            listener.settimeout(0.2)
            r = run([MSGSEND, "--host", "127.0.0.1", "--port", str(listener.getsockname()[1]), "--tls", "none",
                     opt, value, "x@example.org"], input=simple("inject"))
            try:
                conn, _ = listener.accept()
                conn.close()
                connected = True
            except socket.timeout:
                connected = False
            listener.close()
            t.check(r.returncode == 64 and not connected and "VRFY" not in out_of(r).replace("\\r\\nVRFY", ""),
                    f"exit {r.returncode}, connected {connected}: {out_of(r)}")
    with t.case("--quiet prints nothing on success"):
        fresh()
        r = send("-q", "x@example.org", input=simple("quiet"))
        t.check(r.returncode == 0 and r.stdout == b"" and r.stderr == b"", out_of(r))
        wait_arrivals(1)

    # ---- per-recipient results ----
    with t.case("a recipient refused by the server: reported with its reply, the others get it, exit 67"):
        fresh()
        r = send("--from", "sender@example.org", "ok1@example.org", "bad@@example.org", "ok2@example.org",
                 input=simple("partial"))
        lines = err_lines(r)
        t.check(r.returncode == EX_NOUSER, f"exit {r.returncode}: {lines}")
        t.check(any("<bad@@example.org>" in l and "501" in l for l in lines), f"refusal reported: {lines}")
        t.check(any("sent to 2 of 3 recipients" in l for l in lines), f"{lines}")
        m = wait_arrivals(1)
        rcpts = sorted(x.split()[0] for x in m[0]["rcpts"])
        t.check(rcpts == ["<ok1@example.org>", "<ok2@example.org>"], f"{rcpts}")
    with t.case("a control character in an address is refused before anything is sent (no command injection)"):
        fresh()
        r = send("--trace", "--from", "sender@example.org", "ok@example.org>\r\nRSET", input=simple("inject"))
        out = out_of(r)
        t.check(r.returncode == EX_USAGE, f"exit {r.returncode}: {out}")
        t.check("C: MAIL" not in out, "no MAIL sent")

    # ---- dry run ----
    with t.case("--dry-run: MAIL and RCPT checked, RSET, nothing arrives"):
        fresh()
        r = send("--dry-run", "--trace", "-t", input=simple("dry", to="a@example.org, b@example.org"))
        out = out_of(r)
        t.check(r.returncode == 0, out)
        t.check(out.count("C: RCPT TO:") == 2 and "C: RSET" in out, "RCPT for each, then RSET")
        t.check("C: DATA" not in out and "C: BDAT" not in out, "no DATA/BDAT")
        t.check("would be accepted for 2 of 2" in out, out)
        time.sleep(2)
        t.check(sink._dump_files() == [], "nothing arrived")
    with t.case("--dry-run with a bad recipient: reported, exit non-zero, nothing spooled or sent"):
        fresh()
        sp = os.path.join(work, "dry-spool")
        r = send("--dry-run", "--spool", sp, "--from", "s@example.org", "a@example.org", "bad@@example.org",
                 input=simple("dry2"))
        out = out_of(r)
        t.check(r.returncode != 0, f"exit {r.returncode}")
        t.check("bad@@example.org" in out and "501" in out, out)
        t.check(spool_entries(sp) == [], "nothing spooled")
        time.sleep(1.5)
        t.check(sink._dump_files() == [], "nothing arrived")

    # ---- trace redaction ----
    for mech in ("PLAIN", "LOGIN"):
        with t.case(f"--trace with AUTH {mech}: the password and its base64 forms never appear"):
            fresh()
            r = send("--trace", "--auth", mech, "x@example.org", input=simple(f"trace {mech}"))
            out = out_of(r)
            t.check(r.returncode == 0, out)
            forms = [PW, base64.b64encode(PW.encode()).decode(),
                     base64.b64encode(f"\0{dv.user}\0{PW}".encode()).decode()]
            t.check(not any(f in out for f in forms), "no password form in the trace")
            t.check(re.search(rf"^C: AUTH {mech}( <redacted>)?$", out, re.M), "AUTH line redacted")
            t.check("<redacted>" in out, "redaction marked")
            t.check(re.search(r"^C: <\d+ bytes of message data>$", out, re.M), "message data as a count")
            wait_arrivals(1)

    # ---- TLS and AUTH refusals ----
    with t.case("credentials over a plaintext session are refused before AUTH (exit 77)"):
        r = send("--trace", "x@example.org", tls="none", input=simple("plain"))
        out = out_of(r)
        t.check(r.returncode == EX_NOPERM, f"exit {r.returncode}: {out}")
        t.check("C: AUTH" not in out and "C: MAIL" not in out, "no AUTH, no MAIL")
        t.check("without TLS" in out, out)
    with t.case("certificate not trusted without --tls-trust-file: exit 74, names the fix"):
        r = send("x@example.org", trust=False, input=simple("untrusted"))
        lines = err_lines(r)
        t.check(r.returncode == EX_IOERR, f"exit {r.returncode}: {lines}")
        t.check(any("--tls-trust-file" in l for l in lines), f"{lines}")
    with t.case("--tls-fingerprint pins the certificate: the right one works, a wrong one is refused"):
        fresh()
        with open(dv.cafile) as f:
            der = ssl.PEM_cert_to_DER_cert(f.read())
        fp = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        r = send("--tls-fingerprint", fp, "x@example.org", trust=False, input=simple("pinned"))
        t.check(r.returncode == 0, out_of(r))
        wait_arrivals(1)
        r = send("--tls-fingerprint", "00" * 32, "x@example.org", trust=False, input=simple("pin2"))
        t.check(r.returncode == EX_IOERR, f"exit {r.returncode}: {out_of(r)}")
    with t.case("--tls-insecure works without a trust file and says loudly what it disables"):
        fresh()
        r = send("--tls-insecure", "x@example.org", trust=False, input=simple("insecure"))
        t.check(r.returncode == 0, out_of(r))
        t.check("NOT checked" in out_of(r) and "credentials" in out_of(r), out_of(r))
        wait_arrivals(1)
    with t.case("--tls implicit against the plaintext port: a one-line error saying --tls starttls"):
        r = send("--timeout", "10", "x@example.org", tls="implicit", port=dv.submission_port,
                 input=simple("wrong mode"))
        lines = err_lines(r)
        t.check(r.returncode == EX_IOERR, f"exit {r.returncode}: {lines}")
        t.check(any("--tls starttls" in l for l in lines), f"{lines}")
    with t.case("--tls starttls against the implicit-TLS port: an error saying --tls implicit"):
        r = send("--timeout", "3", "x@example.org", tls="starttls", port=dv.submissions_port,
                 input=simple("wrong mode 2"))
        lines = err_lines(r)
        t.check(r.returncode == EX_TEMPFAIL, f"exit {r.returncode}: {lines}")
        t.check(any("--tls implicit" in l for l in lines), f"{lines}")
    with t.case("a wrong password: exit 77, the server's refusal in one line"):
        r = send("x@example.org", env={"MSGTK_PASSWORD": "wrong"}, input=simple("badpw"))
        lines = err_lines(r)
        t.check(r.returncode == EX_NOPERM, f"exit {r.returncode}: {lines}")
        t.check(any("refused authentication" in l and "535" in l for l in lines), f"{lines}")

    # ---- secrets ----
    sec = os.path.join(work, "secrets")
    os.makedirs(sec, exist_ok=True)
    with t.case("--password-file (mode 600) supplies the password"):
        fresh()
        pf = write_secret(os.path.join(sec, "pw"), PW + "\nsecond line ignored\n")
        r = send("--password-file", pf, "x@example.org", password=False, input=simple("pwfile"))
        t.check(r.returncode == 0, out_of(r))
        t.check(len(wait_arrivals(1)) == 1, "arrived")
    with t.case("--password-file readable by others is refused (exit 78, says chmod 600)"):
        pf = write_secret(os.path.join(sec, "pw-open"), PW + "\n", 0o644)
        r = send("--password-file", pf, "x@example.org", password=False, input=simple("pwfile2"))
        lines = err_lines(r)
        t.check(r.returncode == EX_CONFIG, f"exit {r.returncode}: {lines}")
        t.check(any("chmod 600" in l and "pw-open" in l for l in lines), f"{lines}")
        t.check(PW not in out_of(r), "password not printed")
    with t.case("--password-command supplies the password (first line of its output)"):
        fresh()
        pf = write_secret(os.path.join(sec, "pw2"), PW + "\n")
        r = send("--password-command", f"cat {pf}; echo trailing", "x@example.org", password=False,
                 input=simple("pwcmd"))
        t.check(r.returncode == 0, out_of(r))
        t.check(len(wait_arrivals(1)) == 1, "arrived")
    with t.case("a failing --password-command: exit 78 with its exit status"):
        r = send("--password-command", "echo nope >&2; exit 3", "x@example.org", password=False,
                 input=simple("pwcmd2"))
        lines = err_lines(r)
        t.check(r.returncode == EX_CONFIG, f"exit {r.returncode}: {lines}")
        t.check(any("exit status 3" in l for l in lines), f"{lines}")
    with t.case("--token-file readable by others, a --password-command printing nothing: exit 78 each"):
        tf = write_secret(os.path.join(sec, "token-open"), "tok\n", 0o604)
        r = send("--token-file", tf, "x@example.org", password=False, input=simple("token"))
        t.check(r.returncode == EX_CONFIG and "chmod 600" in out_of(r), f"exit {r.returncode}: {out_of(r)}")
        r = send("--password-command", "true", "x@example.org", password=False, input=simple("empty cmd"))
        t.check(r.returncode == EX_CONFIG and "printed nothing" in out_of(r), f"exit {r.returncode}: {out_of(r)}")
    with t.case("MSGTK_PASSWORD supplies the password"):
        fresh()
        r = send("x@example.org", input=simple("env"))
        t.check(r.returncode == 0, out_of(r))
        t.check(len(wait_arrivals(1)) == 1, "arrived")
    with t.case("an empty MSGTK_PASSWORD is no credential: no AUTH tried, the server's 530 gives exit 77"):
        r = send("--trace", "x@example.org", user=False, password=False, env={"MSGTK_PASSWORD": ""},
                 input=simple("empty env"))
        out = out_of(r)
        t.check("C: AUTH" not in out, "no AUTH")
        t.check(r.returncode == EX_NOPERM, f"exit {r.returncode}: {out[-1500:]}")
    with t.case("netrc (MSGTK_NETRC, mode 600): login and password for the host, no --user needed"):
        fresh()
        nf = write_secret(os.path.join(sec, "netrc"),
                          f"machine other.example login nobody password nothing\n"
                          f"machine 127.0.0.1\n  login {dv.user}\n  password {PW}\n")
        r = send("--trace", "x@example.org", user=False, password=False, env={"MSGTK_NETRC": nf},
                 input=simple("netrc"))
        out = out_of(r)
        t.check(r.returncode == 0, out[-2000:])
        t.check("C: AUTH " in out and PW not in out, "authenticated, password not shown")
        t.check(len(wait_arrivals(1)) == 1, "arrived")
    with t.case("a netrc readable by others is refused (exit 78)"):
        nf = write_secret(os.path.join(sec, "netrc-open"), f"machine 127.0.0.1 login {dv.user} password {PW}\n",
                          0o640)
        r = send("x@example.org", user=False, password=False, env={"MSGTK_NETRC": nf},
                 input=simple("netrc2"))
        lines = err_lines(r)
        t.check(r.returncode == EX_CONFIG, f"exit {r.returncode}: {lines}")
        t.check(any("netrc-open" in l and "chmod 600" in l for l in lines), f"{lines}")

    # ---- config file accounts ----
    cfgdir = os.path.join(work, "xdg", "msgtk")
    os.makedirs(cfgdir, exist_ok=True)
    cfg = os.path.join(cfgdir, "config")
    pwfile = write_secret(os.path.join(sec, "cfg-pw"), PW + "\n")
    with open(cfg, "w") as f:
        f.write(f"""# test accounts
[defaults]
timeout = 20
port = 1

[account work]
host = 127.0.0.1
smtp-port = {dv.submission_port}
imap-port = {dv.imaps_port}
tls = starttls
user = {dv.user}
from = work@example.org
password-file = {pwfile}
tls-trust-file = {dv.cafile}
auth = SCRAM-SHA-1, PLAIN

[account secure]
host = 127.0.0.1
port = {dv.submissions_port}
tls = implicit
user = {dv.user}
password-command = cat {pwfile}
tls-trust-file = {dv.cafile}

[account clear]
host = 127.0.0.1
port = {dv.submission_port}
tls = none
user = {dv.user}
allow-plaintext-auth = true
""")
    with t.case("--account from the default config: host, smtp-port over port, user, from, password-file, trust file, auth"):
        fresh()
        r = run([MSGSEND, "--account", "work", "--trace", "-t"], input=simple("account work"))
        out = out_of(r)
        t.check(r.returncode == 0, out[-2000:])
        t.check("C: AUTH SCRAM-SHA-1" in out, "auth list honoured (strongest allowed)")
        m = wait_arrivals(1)
        t.check(m and m[0]["mail_from"].startswith("<work@example.org>"), "from key is the envelope sender")
    with t.case("the README example: msgbuild … --bcc --keep-bcc | msgsend --account work -t"):
        fresh()
        cwd = os.path.join(work, "readme")
        os.makedirs(cwd, exist_ok=True)
        with open(os.path.join(cwd, "report.txt"), "w") as f:
            f.write("All green.\n")
        r = subprocess.run(f"'{MSGBUILD}' --from me@example.org --to team@example.org --bcc boss@example.org "
                           f"--keep-bcc --subject 'Nightly report' --text report.txt "
                           f"| '{MSGSEND}' --account work -t", shell=True, cwd=cwd,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        t.check(r.returncode == 0, out_of(r))
        m = wait_arrivals(1)
        t.check(len(m) == 1, f"{len(m)} arrived")
        rcpts = sorted(x.split()[0] for x in m[0]["rcpts"])
        t.check(rcpts == ["<boss@example.org>", "<team@example.org>"], f"envelope {rcpts}")
        data = strip_transit(m[0]["data"])
        t.check(b"Subject: Nightly report\n" in data and b"boss" not in data and b"All green." in data,
                "arrived without Bcc")
    with t.case("--config FILE --account with implicit TLS and a password-command; options override keys"):
        fresh()
        r = run([MSGSEND, "--config", cfg, "--account", "secure", "--from", "opt@example.org", "-t"],
                input=simple("account secure"))
        t.check(r.returncode == 0, out_of(r))
        m = wait_arrivals(1)
        t.check(m and m[0]["mail_from"].startswith("<opt@example.org>"), "--from overrides")
    with t.case("allow-plaintext-auth = true lets credentials go without TLS"):
        fresh()
        r = run([MSGSEND, "--account", "clear", "--trace", "-t"], input=simple("account clear"),
                env={"MSGTK_PASSWORD": PW})
        out = out_of(r)
        t.check(r.returncode == 0, out[-2000:])
        t.check("-- TLS established" not in out and "C: AUTH" in out, "AUTH without TLS")
        t.check(len(wait_arrivals(1)) == 1, "arrived")
    with t.case("config problems: missing account, unknown key, bad port, a password key in a readable file (exit 78)"):
        r = run([MSGSEND, "--account", "nosuch", "x@example.org"], input=simple("c"))
        t.check(r.returncode == EX_CONFIG and "nosuch" in out_of(r), out_of(r))
        bad = os.path.join(work, "bad.conf")
        for body, needle in ((f"[account a]\nhost = h\nfrobnicate = 1\n", "frobnicate"),
                             (f"[account a]\nport = 99999\n", "99999"),
                             (f"[account a]\ntls = maybe\n", "maybe"),
                             (f"[account a]\npassword = {PW}\n", "chmod 600")):
            with open(bad, "w") as f:
                f.write(body)
            os.chmod(bad, 0o644)
            r = run([MSGSEND, "--config", bad, "--account", "a", "x@example.org"], input=simple("c"))
            t.check(r.returncode == EX_CONFIG, f"{body!r}: exit {r.returncode}")
            t.check(needle in out_of(r) and PW not in out_of(r), f"{body!r}: {out_of(r)}")
            t.check(len(err_lines(r)) == 1, f"one line: {err_lines(r)}")
    with t.case("a password key in a private config file works"):
        fresh()
        priv = write_secret(os.path.join(work, "priv.conf"),
                            f"[account p]\nhost = 127.0.0.1\nport = {dv.submission_port}\nuser = {dv.user}\n"
                            f"password = {PW}\ntls-trust-file = {dv.cafile}\n")
        r = run([MSGSEND, "--config", priv, "--account", "p", "-t"], input=simple("config password"))
        t.check(r.returncode == 0, out_of(r))
        t.check(len(wait_arrivals(1)) == 1, "arrived")
    os.unlink(cfg)

    # ---- faults: misbehaving peers, spool, flush ----
    def flush(spool, *extra):
        return send("--flush", spool, *extra)

    big = simple("fault", extra="X-Pad: " + "p" * 60 + "\n") + b"filler line of text\n" * 80
    GREET_421 = b"S: 421 4.3.2 fake.test Service not available, closing channel\n-- close --\n"
    FAULTS = [
        # name, the server that, its dialogue, exit, words in the one-line error,
        # credentials (STARTTLS) or not
        ("greet-421", "greets with 421", GREET_421, EX_TEMPFAIL, "421", False),
        # the client gives up after EHLO and closes, before credentials can go in clear
        ("no-starttls", "does not offer STARTTLS", GREET + ehlo(*CAPS, "AUTH PLAIN LOGIN"),
         EX_UNAVAILABLE, "does not offer STARTTLS", True),
        # a forged reply in the same write as STARTTLS's 220: no handshake, nothing more sent
        ("inject", "injects a reply after STARTTLS's", GREET + ehlo(*CAPS, "STARTTLS", "AUTH PLAIN LOGIN")
         + b"C: STARTTLS\nS: 220 2.0.0 ready to start TLS\nS: 250 2.1.0 injected before TLS\n",
         EX_PROTOCOL, "after agreeing to STARTTLS", True),
        ("drop", "hangs up in the middle of the message",
         GREET + ehlo(*CAPS) + transaction("sender@example.org", ["rcpt@example.org"], big)
         + data_lines(big).split(b"\n", 1)[0] + b"\n-- close --\n",
         EX_TEMPFAIL, "closed the connection", False),
        # the client's --timeout 2 ends it
        ("silent", "never says anything", b"-- connection --\n", EX_TEMPFAIL, "within 2 s", False),
        ("garbage", "answers EHLO with a line that is not SMTP",
         GREET + b"C: EHLO test\nS: hello? this is not SMTP\n", EX_PROTOCOL, "malformed reply", False),
        ("longline", "answers EHLO with a 100,000-byte line",
         GREET + b"C: EHLO test\nS: 250-" + b"x" * 100_000 + b"\nS: 250 OK\n",
         EX_PROTOCOL, "longer than", False),
        # refused before MAIL
        ("size", "takes nothing over 1000 bytes (SIZE)", GREET + ehlo("PIPELINING", "8BITMIME", "SIZE 1000") + BYE,
         EX_DATAERR, "SIZE limit of 1000", False),
    ]
    for mode, does, dialogue, code, words, creds in FAULTS:
        with t.case(f"a server that {does}: exit {code}, one clear line, the dialogue as written, "
                    "kept in --spool, --flush delivers it later"):
            fresh()
            spool = os.path.join(work, f"spool-{mode}")
            args, env = ["--timeout", "2", "--spool", spool, "-t"], {}
            if creds:
                args += ["--tls", "starttls", "--user", "someone"]
                env["MSGTK_PASSWORD"] = "fake-secret"
            with TranscriptPeer(os.path.join(work, "peer"), mode, dialogue) as peer:
                r = peer_send(peer, *args, input=big, env=env)
            peer.check(t)
            lines = err_lines(r)
            t.check(r.returncode == code, f"exit {r.returncode}, want {code}: {lines}")
            errs = [l for l in lines if "not sent" in l]
            t.check(len(errs) == 1 and words in errs[0], f"one line saying {words!r}: {lines}")
            if creds:
                t.check("fake-secret" not in out_of(r), "secret not printed")
            entries = spool_entries(spool)
            t.check(len(entries) == 1, f"kept once in the spool: {entries}")
            r = flush(spool)
            t.check(r.returncode == 0, f"flush: {out_of(r)}")
            t.check(spool_entries(spool) == [], "flush emptied the spool")
            got = arrived_bytes(wait_arrivals(1))
            t.check(got == [as_sink_stores(big)], "flushed message arrived byte for byte")
    with t.case("no server and a spool that cannot be written (a full disk): exit 73, each message said lost"):
        import resource
        import signal as sig

        def small_disk():
            resource.setrlimit(resource.RLIMIT_FSIZE, (200, 200))
            sig.signal(sig.SIGXFSZ, sig.SIG_IGN)
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()
        spool = os.path.join(work, "spool-full")
        msgs = os.path.join(work, "full-in")
        os.makedirs(msgs)
        inputs = []
        for i in range(3):
            inputs.append(os.path.join(msgs, f"{i}.eml"))
            with open(inputs[-1], "wb") as f:
                f.write(big)
        p = subprocess.run([MSGSEND, "--host", "127.0.0.1", "--port", str(port), "--tls", "none", "--spool", spool,
                            "--from", "s@example.org", "x@example.org"] + sum((["-i", x] for x in inputs), []),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=small_disk, timeout=60)
        text = (p.stdout + p.stderr).decode(errors="replace")
        t.check(p.returncode == 73, f"exit {p.returncode}: {text}")
        t.check(len(spool_entries(spool)) == 0 and "0 kept in the spool" in text, text)
    with t.case("plaintext after STARTTLS was accepted (an injection the handshake meets): exit 74, said as "
                "such, no advice to use --tls starttls"):
        def inject(conn):
            f = conn.makefile("rb")
            conn.sendall(b"220 mx.test ESMTP\r\n")
            f.readline()
            conn.sendall(b"250-mx.test\r\n250 STARTTLS\r\n")
            f.readline()
            conn.sendall(b"220 2.0.0 Ready to start TLS\r\n")
            conn.recv(4096)  # the client's hello
            conn.sendall(b"250 2.1.0 injected after the hello\r\n")
            time.sleep(0.5)
        port = serve_once(inject)
        r = run([MSGSEND, "--host", "127.0.0.1", "--port", str(port), "--tls", "starttls", "--timeout", "5",
                 "--from", "s@example.org", "x@example.org"], input=simple("inject"), timeout=60)
        t.check(r.returncode == 74 and "after STARTTLS" in out_of(r) and "use --tls starttls" not in out_of(r),
                f"exit {r.returncode}: {out_of(r)}")
    with t.case("a server that drips its greeting a byte at a time: given up within --timeout (exit 75)"):
        def drip(conn):
            for b in b"220 " + b"x" * 200:
                conn.sendall(bytes([b]))
                time.sleep(0.5)
        port = serve_once(drip)
        t0 = time.time()
        r = run([MSGSEND, "--host", "127.0.0.1", "--port", str(port), "--tls", "none",
                 "--timeout", "2", "--from", "s@example.org", "x@example.org"], input=simple("drip"), timeout=60)
        took = time.time() - t0
        t.check(r.returncode == 75 and "too slowly" in out_of(r) and took < 4.5,
                f"exit {r.returncode} after {took:.1f} s: {out_of(r)}")
    with t.case("a server refusing two recipients (550): partial success, exit 67, refusals reported, nothing spooled"):
        spool = os.path.join(work, "spool-550")
        msg = simple("550")
        dialogue = session("s@example.org", ["good@example.org", "bad1@example.org", "bad2@example.org"], [msg],
                           ["250 2.1.5 Ok", "550 5.1.1 <bad1@example.org>: No such user here",
                            "550 5.1.1 <bad2@example.org>: No such user here"])
        with TranscriptPeer(os.path.join(work, "peer"), "rcpt-550", dialogue) as peer:
            r = peer_send(peer, "--spool", spool, "--from", "s@example.org", "good@example.org",
                          "bad1@example.org", "bad2@example.org", input=msg)
        peer.check(t)
        lines = err_lines(r)
        t.check(r.returncode == EX_NOUSER, f"exit {r.returncode}: {lines}")
        t.check(sum("550 5.1.1" in l for l in lines) == 2, f"both refusals reported: {lines}")
        t.check(spool_entries(spool) == [], "permanent refusals not spooled")
    with t.case("a server deferring a recipient (452): exit 75, kept for it only, --flush sends to it alone"):
        fresh()
        spool = os.path.join(work, "spool-452")
        msg = simple("452")
        dialogue = session("s@example.org", ["good@example.org", "busy1@example.org"], [msg],
                           ["250 2.1.5 Ok", "452 4.2.2 <busy1@example.org>: Mailbox full, try again later"])
        with TranscriptPeer(os.path.join(work, "peer"), "rcpt-452", dialogue) as peer:
            r = peer_send(peer, "--spool", spool, "--from", "s@example.org", "good@example.org",
                          "busy1@example.org", input=msg)
        peer.check(t)
        lines = err_lines(r)
        t.check(r.returncode == EX_TEMPFAIL, f"exit {r.returncode}: {lines}")
        t.check(any("<busy1@example.org>" in l and "452" in l for l in lines), f"{lines}")
        t.check(len(spool_entries(spool)) == 1, "kept")
        r = flush(spool)
        t.check(r.returncode == 0 and spool_entries(spool) == [], f"flushed: {out_of(r)}")
        m = wait_arrivals(1)
        t.check([x.split()[0] for x in m[0]["rcpts"]] == ["<busy1@example.org>"], f"only the deferred one: {m}")
    with t.case("many messages into a server that greets with 421: one connection, all kept, one flush sends all"):
        fresh()
        spool = os.path.join(work, "spool-many")
        d = os.path.join(work, "many")
        msgs = [(f"m{i}", simple(f"many {i}")) for i in range(5)]
        write_dir(d, msgs)
        # a second connection would be one the transcript does not have
        with TranscriptPeer(os.path.join(work, "peer"), "many-421", GREET_421) as peer:
            r = peer_send(peer, "--spool", spool, "-t", "-i", d)
        peer.check(t)
        t.check(r.returncode == EX_TEMPFAIL, out_of(r))
        t.check(len(spool_entries(spool)) == 5, f"all kept: {spool_entries(spool)}")
        t.check("5 kept" in out_of(r), out_of(r))
        r = flush(spool, "--trace")
        t.check(r.returncode == 0, out_of(r)[-2000:])
        t.check(out_of(r).count("-- TLS established") == 1, "one session for the whole queue")
        t.check(spool_entries(spool) == [], "spool empty")
        got = arrived_bytes(wait_arrivals(5))
        t.check(sorted(got) == sorted(as_sink_stores(m) for _, m in msgs), "all five arrived")
    # A session that breaks before a message got anywhere is replaced, once.
    two = [(f"s{i}", simple(f"session {i}")) for i in range(2)]
    d_two = os.path.join(work, "two")
    write_dir(d_two, two)
    SHUTDOWN = b"S: 421 4.3.2 fake.test shutting down\n-- close --\n"

    def second_refused(first=True):
        """A session that takes the first of @two (when @first) and answers the
        envelope of the second with 421 and a hang-up."""
        (_, m0), (_, m1) = two
        out = GREET + ehlo(*CAPS)
        if first:
            out += transaction("sender@example.org", ["rcpt@example.org"], m0) + data_lines(m0)
        env = transaction("sender@example.org", ["rcpt@example.org"], m1).split(b"S: ", 1)[0]
        return out + env + (QUEUED if first else b"") + SHUTDOWN

    with t.case("a server that hangs up between two messages: the second goes in a new session, exit 0"):
        dialogue = (second_refused() + b"-- connection --\n"
                    + session("sender@example.org", ["rcpt@example.org"], [two[1][1]]))
        with TranscriptPeer(os.path.join(work, "peer"), "replaced", dialogue) as peer:
            r = peer_send(peer, "--from", "sender@example.org", "-i", d_two, "rcpt@example.org")
        peer.check(t)
        t.check(r.returncode == 0, out_of(r))
        t.check("2 sent, 0 failed" in out_of(r), out_of(r))
    with t.case("a new session that breaks too: the message is kept (exit 75), no third connection"):
        fresh()
        spool = os.path.join(work, "spool-replaced")
        dialogue = second_refused() + b"-- connection --\n" + second_refused(first=False)
        with TranscriptPeer(os.path.join(work, "peer"), "replaced-once", dialogue) as peer:
            r = peer_send(peer, "--spool", spool, "--from", "sender@example.org", "-i", d_two,
                          "rcpt@example.org")
        peer.check(t)
        lines = err_lines(r)
        t.check(r.returncode == EX_TEMPFAIL, f"exit {r.returncode}: {lines}")
        t.check(len([l for l in lines if "not sent" in l]) == 1 and "1 sent, 1 failed" in out_of(r),
                f"one message not sent: {lines}")
        t.check(len(spool_entries(spool)) == 1, f"kept: {spool_entries(spool)}")
        r = flush(spool)
        t.check(r.returncode == 0 and spool_entries(spool) == [], f"flushed: {out_of(r)}")
        t.check(arrived_bytes(wait_arrivals(1)) == [as_sink_stores(two[1][1])], "the second arrived")
    with t.case("--flush against a server that still fails keeps the queue (re-queued, nothing lost)"):
        spool = os.path.join(work, "spool-again")
        # one connection for the first run, one for the flush
        with TranscriptPeer(os.path.join(work, "peer"), "again-421",
                            GREET_421 + b"-- connection --\n" + GREET_421) as peer:
            r = peer_send(peer, "--spool", spool, "-t", input=simple("again"))
            t.check(r.returncode == EX_TEMPFAIL and len(spool_entries(spool)) == 1, out_of(r))
            r = peer_send(peer, "--flush", spool)
        peer.check(t)
        t.check(r.returncode == EX_TEMPFAIL, out_of(r))
        t.check(len(spool_entries(spool)) == 1, f"still queued once: {spool_entries(spool)}")
        with open(os.path.join(spool, "new", spool_entries(spool)[0]), "rb") as f:
            t.check(f.read() == simple("again"), "queued bytes unchanged")
    with t.case("a second --flush while one holds the spool lock: exit 75, the queue untouched"):
        import fcntl
        spool = os.path.join(work, "spool-again")
        before = spool_entries(spool)
        with open(os.path.join(spool, "lock"), "a") as lk:
            fcntl.flock(lk, fcntl.LOCK_EX)
            r = flush(spool)
        lines = err_lines(r)
        t.check(r.returncode == EX_TEMPFAIL, f"exit {r.returncode}: {lines}")
        t.check(len(lines) == 1 and "another process" in lines[0], f"{lines}")
        t.check(spool_entries(spool) == before and len(before) == 1, "queue untouched")
        fresh()
        r = flush(spool)
        t.check(r.returncode == 0 and spool_entries(spool) == [], f"once free, flushed: {out_of(r)}")
        t.check(arrived_bytes(wait_arrivals(1)) == [as_sink_stores(simple("again"))], "arrived")
    with t.case("--flush with input or recipients is a usage error"):
        r = run([MSGSEND, "--host", "127.0.0.1", "--flush", work, "x@example.org"])
        t.check(r.returncode == EX_USAGE, out_of(r))
finally:
    dv.stop()
    sink.stop()
    subprocess.run(["rm", "-rf", work])

# ---- a server that cheats at SCRAM (a transcript): the exchange fails, no message goes ----
SECRET = "fake-Secret-77"
# The server takes the client's first and final SCRAM messages (the
# reference SASL server checks them: the client's proof is a real one), then
# instead of its signature (v=...) it says 235 without one, or sends one
# forged as a server that does not know the password must. The client cancels
# a wrong signature with "*" (RFC 4954 4) and takes 235 without one for no
# proof; either way it quits without MAIL.
SCRAM_CHEATS = {
    "no-signature": ("accepted SCRAM-SHA-256 without proving that it knows the password",
                     b"S: 235 2.7.0 Authentication successful\n"),
    "bad-signature": ("the server's signature is wrong",
                      b"S: 334 <sasl:forged>\nC: *\nS: 501 5.7.0 Authentication cancelled\n"),
}

sasl_work = tempfile.mkdtemp(prefix="msgsend-sasl-test-")
try:
    for mode, (says, cheat) in SCRAM_CHEATS.items():
        with t.case(f"AUTH SCRAM-SHA-256 with a server that sends {mode}: exit 77, one clear line, "
                    "no MAIL, the password not shown"):
            dialogue = (f"protocol: smtp\nsasl-server: SCRAM-SHA-256\nuser: someone\npassword: {SECRET}\n"
                        "-- TLS --\n".encode() + GREET + ehlo("PIPELINING", "8BITMIME", "AUTH SCRAM-SHA-256")
                        + b"C: AUTH SCRAM-SHA-256 <sasl>\nS: 334 <sasl>\nC: <sasl>\n" + cheat + BYE)
            with TranscriptPeer(sasl_work, mode, dialogue) as peer:
                r = peer_send(peer, "--tls", "implicit", "--user", "someone", "-t",
                              input=simple(f"scram {mode}"), env={"MSGTK_PASSWORD": SECRET})
            peer.check(t)
            lines = err_lines(r)
            t.check(r.returncode == EX_NOPERM, f"exit {r.returncode}, want {EX_NOPERM}: {lines}")
            errs = [l for l in lines if "not sent" in l]
            t.check(len(errs) == 1 and says in errs[0], f"one line saying {says!r}: {lines}")
            t.check(SECRET not in out_of(r), "the password is not printed")
finally:
    subprocess.run(["rm", "-rf", sasl_work])
t.done()
