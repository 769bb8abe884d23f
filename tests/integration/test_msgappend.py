"""msgappend against a real private Dovecot over TLS: the project's fixtures (and
the external corpus where it is present) as files, the fixtures as mbox and
maildir, read back with IMAP FETCH (bytes, flags, dates); resume after kill -9 and
after a dropped connection; TRYCREATE; OVERQUOTA; a refused message inside a
MULTIAPPEND batch; the synchronising-literal path; refusing credentials without
TLS; AUTHENTICATE SCRAM-SHA-256 and PLAIN, LOGIN as fallback; a config-file
account; --date-from; the progress line on a terminal. Then servers that cheat
at SCRAM, each a transcript played by transcript-peer."""
import datetime
import imaplib
import os
import pty
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from tap import (Tap, tool, run, read_pty, SOURCE_DIR, CORPUS_MISSING, corpus_messages, fixture_messages,  # noqa: E402
                 write_dir)

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
from peers import Dovecot, free_port  # noqa: E402
from appendlib import (FROM_DATE, append, check_exactly_once, crlf, ctx_for, fetch_all, mbox_ok,  # noqa: E402
                       out_of, write_mbox)

MSGAPPEND = tool("msgappend")
t = Tap()
# LeakSanitizer crashes on the dynamic TLS of the GIO TLS module (glibc >= 2.35)
# unless __tls_get_addr is left alone.
os.environ["ASAN_OPTIONS"] = ":".join(x for x in (os.environ.get("ASAN_OPTIONS", ""), "intercept_tls_get_addr=0") if x)


MSGS = fixture_messages()


class DropProxy:
    """Forwards 127.0.0.1:port to the server; the first connection is cut after
    @cut client bytes (in the middle of the upload)."""

    def __init__(self, target_port, cut):
        self.port = free_port()
        self.target = target_port
        self.cut = cut
        self.dropped = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", self.port))
        self.sock.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            s = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(c, s, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(s, c, False), daemon=True).start()

    def _pump(self, a, b, upload):
        n = 0
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if upload and not self.dropped and n + len(d) >= self.cut:
                    self.dropped = True
                    b.sendall(d[: max(0, self.cut - n)])
                    break
                n += len(d)
                b.sendall(d)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            x.close()

    def close(self):
        self.sock.close()


with tempfile.TemporaryDirectory(prefix="msgtk-append-") as work:
    t.diag(f"{len(MSGS)} fixture messages")
    have_corpus = t.corpus()
    files = os.path.join(work, "files")
    write_dir(files, MSGS)
    mbox_msgs = [m for m in MSGS if mbox_ok(m[1])]
    mbox = os.path.join(work, "archive.mbox")
    write_mbox(mbox, mbox_msgs)
    md = os.path.join(work, "Maildir")
    md_msgs = MSGS[:12]
    letters = ["S", "RS", "F", "", "DS", "T", "S", "FRS", "", "S", "D", "F"]
    for sub in ("", ".Sub", ".Sub.Deeper"):
        for d in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(md, sub, d), exist_ok=True)
    md_expect = {}
    for i, (name, data) in enumerate(md_msgs):
        sub = ("", ".Sub", ".Sub.Deeper")[i % 3]
        p = os.path.join(md, sub, "cur", f"{1000 + i}.M{i}P1.host:2,{letters[i]}")
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (1_100_000_000 + i * 3600, 1_100_000_000 + i * 3600))
        md_expect[crlf(data)] = (sub, letters[i], 1_100_000_000 + i * 3600)

    with Dovecot(os.path.join(work, "dv")) as dv:
        journal = os.path.join(work, "journal")

        with t.case("fixture files over implicit TLS: every message read back byte for byte"):
            r = append(dv, "--journal", journal, "--mailbox", "Files", "--create", files)
            t.check(r.returncode == 0, out_of(r))
            t.check(f"{len(MSGS)} uploaded" in out_of(r), out_of(r))
            check_exactly_once(t, dv, "Files", [d for _, d in MSGS])

        with t.case("re-running the same command uploads nothing (journal)"):
            r = append(dv, "--journal", journal, "--mailbox", "Files", "--create", files)
            t.check(r.returncode == 0, out_of(r))
            t.check(f"0 uploaded, {len(MSGS)} skipped" in out_of(r), out_of(r))
            t.check(dv.message_count("Files") == len(MSGS), "no duplicate")

        name = "corpus files over implicit TLS: every message read back byte for byte"
        if have_corpus:
            with t.case(name):
                # (a file that starts with a From_ line is an mbox, in a tree as alone)
                corpus = corpus_messages(skip_mbox_like=True)
                cdir = os.path.join(work, "corpus")
                write_dir(cdir, corpus)
                r = append(dv, "--journal", journal, "--mailbox", "Corpus", "--create", cdir)
                t.check(r.returncode == 0, out_of(r))
                t.check(f"{len(corpus)} uploaded" in out_of(r), out_of(r))
                check_exactly_once(t, dv, "Corpus", [d for _, d in corpus])
        else:
            t.skip(name, CORPUS_MISSING)

        with t.case("--dedupe message-id skips what the server has, without a journal"):
            d = os.path.join(work, "dedupe")
            msgs = [(f"d{i}", f"Subject: d{i}\nMessage-ID: <d{i}@example.org>\n\nbody {i}\n".encode()) for i in range(5)]
            write_dir(d, msgs[:3])
            r = append(dv, "--no-journal", "--mailbox", "Dedupe", "--create", d)
            t.check(r.returncode == 0, out_of(r))
            write_dir(d, msgs)
            r = append(dv, "--no-journal", "--dedupe", "message-id", "--mailbox", "Dedupe", d)
            t.check(r.returncode == 0, out_of(r))
            t.check("2 uploaded, 3 skipped" in out_of(r), out_of(r))
            check_exactly_once(t, dv, "Dedupe", [m for _, m in msgs])

        with t.case("mbox over STARTTLS: bytes and From_ line internal date"):
            r = append(dv, "--journal", journal, "--mailbox", "Mbox", "--create", mbox, tls="starttls")
            t.check(r.returncode == 0, out_of(r))
            check_exactly_once(t, dv, "Mbox", [d for _, d in mbox_msgs], strip=True)
            dates = {m[2] for m in fetch_all(dv, "Mbox")}
            t.check(dates == {"03-Jan-2005 04:05:06 +0000"}, f"dates {dates}")

        with t.case("maildir++ tree: folders become a mailbox hierarchy, flags and dates kept"):
            r = append(dv, "--journal", journal, "--mailbox", "Md", "--create", md)
            t.check(r.returncode == 0, out_of(r))
            delim = "."
            names = {"": "Md", ".Sub": f"Md{delim}Sub", ".Sub.Deeper": f"Md{delim}Sub{delim}Deeper"}
            seen = 0
            flagmap = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged", "T": "\\Deleted", "D": "\\Draft"}
            for sub, mailbox in names.items():
                for body, flags, date in fetch_all(dv, mailbox):
                    want_sub, want_letters, mtime = md_expect[body]
                    t.check(want_sub == sub, f"message in {mailbox}, expected folder {want_sub!r}")
                    t.check(flags == {flagmap[c] for c in want_letters}, f"flags {flags} vs {want_letters}")
                    got = time.mktime(time.strptime(date, "%d-%b-%Y %H:%M:%S %z")) - time.timezone
                    t.check(abs(got - mtime) < 1, f"date {date} vs mtime {mtime}")
                    seen += 1
            t.check(seen == len(md_msgs), f"{seen} of {len(md_msgs)} messages found")

        with t.case("a missing mailbox without --create fails clearly (TRYCREATE)"):
            r = append(dv, "--no-journal", "--mailbox", "Nowhere", files)
            t.check(r.returncode == 73, f"exit {r.returncode}: {out_of(r)}")
            t.check("does not exist" in out_of(r) and "--create" in out_of(r), out_of(r))

        with t.case("LOGIN is refused without TLS"):
            r = append(dv, "--no-journal", "--mailbox", "Clear", files, tls="none")
            t.check(r.returncode == 77, f"exit {r.returncode}: {out_of(r)}")
            t.check("without TLS" in out_of(r) and dv.password not in out_of(r), out_of(r))

        small = os.path.join(work, "small")
        small_msgs = [(f"s{i}", f"Subject: small {i}\nMessage-ID: <s{i}@example.org>\n\nsmall {i}\n".encode())
                      for i in range(6)]
        write_dir(small, small_msgs)

        with t.case("AUTHENTICATE SCRAM-SHA-256 over STARTTLS (the strongest offered); --trace redacts"):
            r = append(dv, "--no-journal", "--trace", "--mailbox", "Scram", "--create", small, tls="starttls")
            err = r.stderr.decode(errors="replace")
            t.check(r.returncode == 0, out_of(r))
            t.check("-- TLS established" in err and "C: A0001 STARTTLS" in err, err[:2000])
            t.check(re.search(r"C: A\d+ AUTHENTICATE SCRAM-SHA-256 <redacted>", err), err[:2000])
            t.check(dv.password not in out_of(r), "the password never appears in the trace")
            t.check(re.search(r"C: <\d+ bytes of message data>", err), "message data only as a byte count")
            t.check("ETA" not in err, "no progress line when stderr is not a terminal")
            check_exactly_once(t, dv, "Scram", [d for _, d in small_msgs])

        with t.case("a wrong password: the server's refusal, exit 77, the password not shown"):
            r = append(dv, "--no-journal", "--mailbox", "Scram", small, env={"MSGTK_PASSWORD": "wr0ng-Secret"})
            t.check(r.returncode == 77, f"exit {r.returncode}: {out_of(r)}")
            t.check("refused authentication" in out_of(r) and "wr0ng-Secret" not in out_of(r), out_of(r))

        with t.case("a config-file account: host, imap-port, TLS, user, trust file, password file"):
            cfg = os.path.join(work, "xdg")
            os.makedirs(os.path.join(cfg, "msgtk"), exist_ok=True)
            pwfile = os.path.join(work, "imap-password")
            with open(pwfile, "w") as fh:
                fh.write(dv.password + "\n")
            os.chmod(pwfile, 0o600)
            with open(os.path.join(cfg, "msgtk", "config"), "w") as fh:
                fh.write(f"[defaults]\nport = 1\ntls = none\n\n[account dv]\nhost = 127.0.0.1\n"
                         f"imap-port = {dv.imaps_port}\nimap-tls = implicit\nuser = {dv.user}\n"
                         f"tls-trust-file = {dv.cafile}\npassword-file = {pwfile}\n")
            env = {k: v for k, v in os.environ.items() if k not in ("MSGTK_PASSWORD", "MSGTK_TOKEN")}
            env["XDG_CONFIG_HOME"] = cfg
            r = subprocess.run([MSGAPPEND, "--account", "dv", "--no-journal", "--mailbox", "Config", "--create",
                                small], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            t.check(r.returncode == 0, out_of(r))
            check_exactly_once(t, dv, "Config", [d for _, d in small_msgs])
            os.chmod(pwfile, 0o644)
            r = subprocess.run([MSGAPPEND, "--account", "dv", "--no-journal", "--mailbox", "Config", small],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            t.check(r.returncode == 78 and "chmod 600" in out_of(r), f"exit {r.returncode}: {out_of(r)}")

        with t.case("--password-command runs once for -j 3 connections"):
            count = os.path.join(work, "pwcount")
            cmd = f"echo run >> {count}; echo '{dv.password}'"
            r = append(dv, "--no-journal", "-j", "3", "--batch", "1", "--password-command", cmd,
                       "--mailbox", "PwCmd", "--create", small, env={"MSGTK_PASSWORD": ""})
            t.check(r.returncode == 0, out_of(r))
            t.check(open(count).read().count("run") == 1, "password command runs: " + open(count).read())
            check_exactly_once(t, dv, "PwCmd", [d for _, d in small_msgs])

        with t.case("--date-from source (From_ line), header (Date) and now"):
            dated = os.path.join(work, "dated.mbox")
            dmsgs = [(f"t{i}", f"Date: Tue, 01 Mar 2011 10:20:3{i} +0100\nSubject: t{i}\n\nbody\n".encode())
                     for i in range(2)]
            write_mbox(dated, dmsgs)
            def instant(d):
                return datetime.datetime.strptime(d, "%d-%b-%Y %H:%M:%S %z").timestamp()
            want = {"source": {instant("03-Jan-2005 04:05:06 +0000")},
                    "header": {instant("01-Mar-2011 10:20:30 +0100"), instant("01-Mar-2011 10:20:31 +0100")}}
            for mode in ("source", "header", "now"):
                box = "Date" + mode.capitalize()
                r = append(dv, "--no-journal", "--date-from", mode, "--mailbox", box, "--create", dated)
                t.check(r.returncode == 0, out_of(r))
                dates = {instant(m[2]) for m in fetch_all(dv, box)}
                if mode in want:
                    t.check(dates == want[mode], f"{mode}: {dates}")
                else:
                    t.check(dates and all(abs(d - time.time()) < 600 for d in dates), f"now: {dates}")

        with t.case("a progress line on a terminal (messages, MB, rate, ETA), then the summary"):
            master, slave = pty.openpty()
            p = subprocess.Popen([MSGAPPEND, "--host", "127.0.0.1", "--port", str(dv.imaps_port), "--tls",
                                  "implicit", "--tls-trust-file", dv.cafile, "--user", dv.user, "--no-journal",
                                  "--mailbox", "Progress", "--create", files],
                                 env=dict(os.environ, MSGTK_PASSWORD=dv.password),
                                 stdout=subprocess.PIPE, stderr=slave)
            os.close(slave)
            tty_out = read_pty(master)
            out, _ = p.communicate(timeout=120)
            os.close(master)
            text = tty_out.decode(errors="replace")
            t.check(p.returncode == 0, text + out.decode(errors="replace"))
            t.check(re.search(rf"\r{len(MSGS)}/{len(MSGS)} messages, [0-9.]+ MB, \d+ msg/s, [0-9.]+ MB/s, ETA", text),
                    repr(text[-300:]))
            t.check(f"{len(MSGS)} uploaded" in out.decode(), "the summary on standard output")

        with t.case("a dropped connection mid-literal, then a re-run: each message exactly once"):
            total = sum(len(d) for _, d in MSGS)
            proxy = DropProxy(dv.imaps_port, total // 2)
            j2 = os.path.join(work, "journal-drop")
            r = append(dv, "--journal", j2, "--mailbox", "Drop", "--create", "--batch", "10", files,
                       port=proxy.port)
            t.check(r.returncode != 0 and "failed" in out_of(r), f"first run should lose a batch: {out_of(r)}")
            before = dv.message_count("Drop")
            t.check(0 < before < len(MSGS), f"{before} stored before the re-run")
            # the same server, at the same address (the journal knows a
            # server by its host, port and user)
            r = append(dv, "--journal", j2, "--mailbox", "Drop", files, port=proxy.port)
            proxy.close()
            t.check(r.returncode == 0, out_of(r))
            check_exactly_once(t, dv, "Drop", [d for _, d in MSGS])

    # a server offering only PLAIN: AUTHENTICATE PLAIN with SASL-IR, and LOGIN
    with Dovecot(os.path.join(work, "dv-plain"), auth_mechanisms="plain") as dv:
        small = os.path.join(work, "small")
        with t.case("AUTHENTICATE PLAIN (the only mechanism offered), initial response in the command"):
            r = append(dv, "--no-journal", "--trace", "--mailbox", "Plain", "--create", small)
            err = r.stderr.decode(errors="replace")
            t.check(r.returncode == 0, out_of(r))
            t.check(re.search(r"AUTH=PLAIN", err) and not re.search(r"AUTH=SCRAM", err), "only PLAIN offered")
            t.check(re.search(r"C: A\d+ AUTHENTICATE PLAIN <redacted>", err), err[:2000])
            t.check(dv.password not in out_of(r), "the password never appears in the trace")
            check_exactly_once(t, dv, "Plain", [d for _, d in small_msgs])

        with t.case("LOGIN when no allowed mechanism is offered (--auth login)"):
            r = append(dv, "--no-journal", "--trace", "--auth", "login", "--mailbox", "Login", "--create", small)
            err = r.stderr.decode(errors="replace")
            t.check(r.returncode == 0, out_of(r))
            t.check(re.search(r"C: A\d+ LOGIN <redacted>", err) and "AUTHENTICATE" not in err, err[:2000])
            t.check(dv.password not in out_of(r), "the password never appears in the trace")
            check_exactly_once(t, dv, "Login", [d for _, d in small_msgs])

        with t.case("a relative --tls-trust-file path"):
            r = run([MSGAPPEND, "--host", "127.0.0.1", "--port", str(dv.imaps_port), "--tls", "implicit",
                     "--tls-trust-file", os.path.basename(dv.cafile), "--user", dv.user, "--no-journal",
                     "--mailbox", "Relative", "--create", small], env={"MSGTK_PASSWORD": dv.password},
                    cwd=os.path.dirname(dv.cafile))
            t.check(r.returncode == 0, out_of(r))
            t.check(dv.message_count("Relative") == len(small_msgs), "uploaded")

        with t.case("--auth scram-sha-256 against a PLAIN-only server: nothing sent, a clear error"):
            r = append(dv, "--no-journal", "--auth", "scram-sha-256", "--mailbox", "Login", small)
            t.check(r.returncode == 69, f"exit {r.returncode}: {out_of(r)}")
            t.check("no usable authentication mechanism" in out_of(r), out_of(r))

    # a server without LITERAL+ and MULTIAPPEND: synchronising literals
    with Dovecot(os.path.join(work, "dv2"), imap_capability="IMAP4rev1 UIDPLUS") as dv:
        with t.case("synchronising literals (no LITERAL+, no MULTIAPPEND)"):
            r = append(dv, "--no-journal", "--mailbox", "INBOX", files)
            t.check(r.returncode == 0, out_of(r))
            check_exactly_once(t, dv, "INBOX", [d for _, d in MSGS])

        with t.case("kill -9 mid-archive, then a re-run: each message exactly once"):
            j3 = os.path.join(work, "journal-kill")
            big = os.path.join(work, "big.mbox")
            copies = max(4, -(-900 // len(mbox_msgs)))  # 900 messages or more, to kill it midway
            many = [(f"{i}-{n}", d) for i in range(copies) for n, d in mbox_msgs]
            # make every copy distinct so that exactly-once is checkable
            many = [(n, b"X-Copy: " + n.encode() + b"\n" + d) for n, d in many]
            write_mbox(big, many)
            p = subprocess.Popen([MSGAPPEND, "--host", "127.0.0.1", "--port", str(dv.imaps_port),
                                  "--tls", "implicit", "--tls-trust-file", dv.cafile, "--user", dv.user, "--journal", j3,
                                  "--mailbox", "Killed", "--create", big],
                                 env=dict(os.environ, MSGTK_PASSWORD=dv.password),
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.time() + 60
            while time.time() < deadline and p.poll() is None:
                if os.path.exists(j3) and open(j3, "rb").read().count(b"\n") >= 300:
                    break
                time.sleep(0.005)
            p.send_signal(signal.SIGKILL)
            p.wait()
            lines = open(j3, "rb").read().count(b"\n")
            t.diag(f"killed after {lines} of {len(many)} messages")
            t.check(lines < len(many), "killed before the end")
            r = append(dv, "--journal", j3, "--mailbox", "Killed", big)
            t.check(r.returncode == 0, out_of(r))
            check_exactly_once(t, dv, "Killed", [d for _, d in many], strip=True)

    # quota: a message too big for the server inside a MULTIAPPEND batch, and OVERQUOTA
    with Dovecot(os.path.join(work, "dv3"), quota="1M",
                 extra_conf="plugin {\n  quota_max_mail_size = 40k\n}") as dv:
        with t.case("a refused message inside a MULTIAPPEND batch: the others are stored"):
            batch = [(f"m{i}", f"Subject: m{i}\nMessage-ID: <m{i}@x>\n\nbody {i}\n".encode()) for i in range(5)]
            batch[2] = ("big", b"Subject: big\n\n" + b"y" * 80 + b"\n" * 1 + (b"z" * 99 + b"\n") * 600)
            d = os.path.join(work, "batch")
            write_dir(d, batch)
            r = append(dv, "--no-journal", "--mailbox", "INBOX", d)
            t.check(r.returncode == 2, f"exit {r.returncode} (some uploaded): {out_of(r)}")
            t.check("4 uploaded" in out_of(r) and "1 failed" in out_of(r), out_of(r))
            t.check("big.eml: refused by the server" in out_of(r), out_of(r))
            check_exactly_once(t, dv, "INBOX", [d for n, d in batch if n != "big"])

        with t.case("OVERQUOTA stops the mailbox, in one line with the server's words"):
            many = [(f"q{i}", f"Subject: q{i}\n\n".encode() + (b"q" * 99 + b"\n") * 300) for i in range(40)]
            d = os.path.join(work, "quota")
            write_dir(d, many)
            before = dv.message_count("INBOX")
            r = append(dv, "--no-journal", "--mailbox", "INBOX", "--batch", "5", d)
            t.check(r.returncode == 2, f"exit {r.returncode}: {out_of(r)}")
            lines = [x for x in out_of(r).splitlines() if "OVERQUOTA" in x]
            stored = dv.message_count("INBOX") - before
            t.check(len(lines) == 1 and f"({40 - stored} messages not uploaded)" in lines[0], out_of(r))

    with t.case("standard output or the log on a full disk (/dev/full): exit 74, said on stderr"):
        with open("/dev/full", "wb") as full:
            p = subprocess.run([MSGAPPEND, "--dry-run", "--offline", "-v", "--no-journal", files], stdout=full,
                               stderr=subprocess.PIPE, timeout=60)
        t.check(p.returncode == 74 and b"cannot write to standard output" in p.stderr, f"{p.returncode} {p.stderr!r}")
        r = run([MSGAPPEND, "--dry-run", "--offline", "--no-journal", "--log", "/dev/full", files])
        t.check(r.returncode == 74 and "cannot write the log" in out_of(r), out_of(r))

    with t.case("--dry-run reads every message and uploads nothing"):
        r = run([MSGAPPEND, "--dry-run", "--offline", "--no-journal", files])
        t.check(r.returncode == 0, out_of(r))
        t.check(f"{len(MSGS)} to upload" in out_of(r), out_of(r))
        mb = sum(len(d) for _, d in MSGS) / 1e6
        t.check(re.search(rf"; {mb:.1f} MB in ", out_of(r)), f"the summary counts their {mb:.1f} MB: {out_of(r)}")


# ---- a server that cheats at SCRAM (a transcript): the exchange fails, nothing is uploaded ----
from transcriptpeer import TranscriptPeer  # noqa: E402

SECRET = "fake-Secret-77"
# The server takes the client's first and final SCRAM messages (the
# reference SASL server checks them: the client's proof is a real one), then
# instead of its signature (v=...) it says OK without one, or sends one
# forged as a server that does not know the password must. The client cancels
# a wrong signature with "*" (RFC 3501 6.2.2) and takes OK without one for no
# proof; either way it closes the connection without an APPEND (or a LOGOUT).
SCRAM_CHEATS = {
    "no-signature": ("accepted SCRAM-SHA-256 without proving that it knows the password",
                     "S: A0001 OK [CAPABILITY IMAP4rev1 LITERAL+] Logged in\n"),
    "bad-signature": ("the server's signature is wrong",
                      "S: + <sasl:forged>\nC: *\nS: A0001 BAD Authentication cancelled\n"),
}

with tempfile.TemporaryDirectory(prefix="msgtk-append-sasl-") as sasl_work:
    src = os.path.join(sasl_work, "messages")
    write_dir(src, [("scram", b"Subject: scram\nMessage-ID: <scram@example.org>\n\nbody\n")])
    for mode, (says, cheat) in SCRAM_CHEATS.items():
        with t.case(f"AUTHENTICATE SCRAM-SHA-256 with a server that sends {mode}: exit 77, nothing "
                    "uploaded, the password not shown"):
            dialogue = (f"protocol: imap\nsasl-server: SCRAM-SHA-256\nuser: someone\npassword: {SECRET}\n"
                        "-- TLS --\n"
                        "S: * OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ AUTH=SCRAM-SHA-256] fake.test ready\n"
                        "C: A0001 AUTHENTICATE SCRAM-SHA-256 <sasl>\n"
                        "S: + <sasl>\n"
                        "C: <sasl>\n" + cheat)
            with TranscriptPeer(sasl_work, mode, dialogue) as peer:
                r = run([MSGAPPEND, "--host", peer.host, "--port", str(peer.port), "--tls", "implicit",
                         "--tls-trust-file", peer.cafile, "--user", "someone", "--no-journal",
                         "--mailbox", "INBOX", src], env={"MSGTK_PASSWORD": SECRET}, timeout=60)
            peer.check(t)
            t.check(r.returncode == 77, f"exit {r.returncode}, want 77: {out_of(r)}")
            t.check(says in out_of(r), f"says {says!r}: {out_of(r)}")
            t.check(SECRET not in out_of(r), "the password is not printed")

t.done()
