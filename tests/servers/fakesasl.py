#!/usr/bin/env python3
"""A scripted SMTP or IMAP peer that cheats at SCRAM-SHA-256, for fault
injection in tests (never a real server: the well-behaved peers are Dovecot
and smtp-sink in peers.py).

    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
    from fakesasl import FakeSasl

    with FakeSasl(workdir, "smtp", "no-signature") as f:  # f.host, f.port, f.cafile
        ...                                              # f.commands, f.messages

It listens on 127.0.0.1 on a free port, in a thread of the test process,
with implicit TLS (a throw-away certificate, f.cafile: clients send
credentials over TLS only), and offers AUTH SCRAM-SHA-256 (SMTP) or
AUTH=SCRAM-SHA-256 with SASL-IR (IMAP). It takes the client-first message,
answers with a server-first message of its own nonce and salt, and never
checks the client's proof: it does not know the password. Then, by mode:

    no-signature   it reports success (235, tagged OK) without the server
                   signature (v=) that would prove it knows the password
    bad-signature  it sends a v= with a random signature, as a server that
                   does not know the password has to

Whatever the client does next is answered as a server that accepted it
would: MAIL/RCPT/DATA (the message is kept in f.messages), APPEND (the
literal is read and kept), LOGOUT, QUIT. f.commands holds every command
line received (SASL responses as "<sasl>"), in order, over all sessions.
"""
import base64
import os
import re
import ssl
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fakesmtp import FakeSmtp, _Closed, _Session as _SmtpSession  # noqa: E402

PROTOCOLS = ("smtp", "imap")
# The modes, each with what msgtk's client says when it refuses what the
# server did.
MODES = {
    "no-signature": "accepted SCRAM-SHA-256 without proving that it knows the password",
    "bad-signature": "the server's signature is wrong",
}


def server_first(client_first_b64):
    """The server-first message for a SCRAM client-first message (RFC 5802 5)."""
    client_first = base64.b64decode(client_first_b64).decode()
    bare = client_first.split(",", 2)[2]  # after the GS2 header "n,,"
    nonce = dict(kv.split("=", 1) for kv in bare.split(","))["r"]
    salt = base64.b64encode(os.urandom(16)).decode()
    snonce = base64.b64encode(os.urandom(18)).decode().replace("=", "")
    msg = f"r={nonce}{snonce},s={salt},i=4096"
    return base64.b64encode(msg.encode()).decode()


def forged_final():
    """A server-final message with a signature that cannot verify."""
    return base64.b64encode(b"v=" + base64.b64encode(os.urandom(32))).decode()


class _Session(_SmtpSession):
    """fakesmtp's reading of lines and commands, with these protocols."""

    def say(self, text):
        self.send(text.encode() + b"\r\n")

    def read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise _Closed()
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def record(self, text):
        with self.server.lock:
            self.server.commands.append(text)

    def sasl_response(self):
        text = self.line()
        self.record("*" if text == "*" else "<sasl>")
        return text

    def scram(self, challenge, initial):
        """Run the cheating exchange; returns how it ended for the client:
        "accepted" (the server said success) or "cancelled"."""
        if not initial:
            self.say(challenge(""))
            initial = self.sasl_response()
        self.say(challenge(server_first(initial)))
        self.sasl_response()  # the client-final message: its proof goes unchecked
        if self.server.mode == "no-signature":
            return "accepted"
        self.say(challenge(forged_final()))
        return "cancelled" if self.sasl_response() == "*" else "accepted"

    # ---- SMTP ----

    def run_smtp(self):
        self.say("220 fake.test ESMTP ready")
        while True:
            cmd = self.command()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.say("250-fake.test greets you\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
                          "250 AUTH SCRAM-SHA-256")
            elif verb == "AUTH":
                words = cmd.split()
                if len(words) < 2 or words[1].upper() != "SCRAM-SHA-256":
                    self.say("504 5.5.4 Unrecognized authentication type")
                    continue
                how = self.scram(lambda data: "334 " + data, words[2] if len(words) > 2 else "")
                if how == "accepted":
                    self.say("235 2.7.0 Authentication successful")
                else:
                    self.say("501 5.7.0 Authentication cancelled")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.say("250 2.0.0 Ok")
            elif verb == "DATA":
                self.say("354 End data with <CR><LF>.<CR><LF>")
                lines = []
                while True:
                    line = self.line()
                    if line == ".":
                        break
                    lines.append(line[1:] if line.startswith(".") else line)
                with self.server.lock:
                    self.server.messages.append("\r\n".join(lines).encode() + b"\r\n")
                self.say("250 2.0.0 Ok: queued")
            elif verb == "QUIT":
                self.say("221 2.0.0 Bye")
                return
            else:
                self.say("502 5.5.2 Command not recognised")

    # ---- IMAP ----

    def run_imap(self):
        self.say("* OK [CAPABILITY IMAP4rev1 SASL-IR LITERAL+ AUTH=SCRAM-SHA-256] fake.test ready")
        while True:
            cmd = self.command()
            words = cmd.split(" ")
            tag, verb = words[0], (words[1].upper() if len(words) > 1 else "")
            if verb == "AUTHENTICATE":
                if len(words) < 3 or words[2].upper() != "SCRAM-SHA-256":
                    self.say(f"{tag} NO [CANNOT] Unsupported mechanism")
                    continue
                how = self.scram(lambda data: "+ " + data, words[3] if len(words) > 3 else "")
                if how == "accepted":
                    self.say(f"{tag} OK [CAPABILITY IMAP4rev1 LITERAL+] Logged in")
                else:
                    self.say(f"{tag} BAD Authentication cancelled")
            elif verb == "CAPABILITY":
                self.say("* CAPABILITY IMAP4rev1 SASL-IR LITERAL+ AUTH=SCRAM-SHA-256")
                self.say(f"{tag} OK Capability completed")
            elif verb == "LIST":
                self.say('* LIST () "/" ""')
                self.say(f"{tag} OK List completed")
            elif verb == "APPEND":
                m = re.search(r"\{(\d+)(\+?)\}$", cmd)
                if m:
                    if not m.group(2):
                        self.say("+ go ahead")
                    data = self.read(int(m.group(1)))
                    with self.server.lock:
                        self.server.messages.append(data)
                    self.line()  # the rest of the command
                self.say(f"{tag} OK [APPENDUID 1 1] Append completed")
            elif verb == "LOGOUT":
                self.say("* BYE Logging out")
                self.say(f"{tag} OK Logout completed")
                return
            else:
                self.say(f"{tag} OK Completed")


class FakeSasl(FakeSmtp):
    """FakeSmtp's listener, threads and records, with these sessions."""

    def __init__(self, workdir, protocol, mode):
        if protocol not in PROTOCOLS:
            raise ValueError(f"unknown fakesasl protocol {protocol!r}")
        if mode not in MODES:
            raise ValueError(f"unknown fakesasl mode {mode!r}")
        super().__init__(workdir, "ok")
        self.protocol = protocol
        self.mode = mode
        self.ctx = None

    def _serve(self, sock):
        try:
            if self.ctx is None:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.cert, self.key)
                self.ctx = ctx
            sock = self.ctx.wrap_socket(sock, server_side=True)
            session = _Session(self, sock)
            session.run_smtp() if self.protocol == "smtp" else session.run_imap()
        except (_Closed, OSError, ssl.SSLError, ValueError, KeyError, IndexError):
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def verbs(self):
        """The command verbs received so far (upper case; IMAP: after the tag)."""
        if self.protocol == "smtp":
            return super().verbs()
        with self.lock:
            return [c.split(" ")[1].upper() if " " in c else c for c in self.commands]
