#!/usr/bin/env python3
"""A scripted, misbehaving SMTP peer for fault injection in tests (never a
real server: the well-behaved peers are Dovecot and smtp-sink in peers.py).

    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
    from fakesmtp import FakeSmtp

    with FakeSmtp(workdir, "rcpt-550") as f:     # f.host, f.port
        ...                                      # f.commands, f.messages

It listens on 127.0.0.1 on a free port, in a thread of the test process,
and records every command line it received (f.commands, in order, over all
sessions) and every message it accepted (f.messages, bytes as received
after un-dot-stuffing, CRLF kept) and how many connections it accepted
(f.connections).

Modes:
    ok           a plain ESMTP server (PIPELINING, 8BITMIME, SIZE) that
                 accepts everything
    greet-421    greets with 421 and closes
    no-starttls  a plain server that offers AUTH but not STARTTLS
    inject       offers STARTTLS and answers it with "220 ready to start TLS"
                 followed, in the same write, by extra plaintext (a forged
                 "250" reply); then does the TLS handshake with a throw-away
                 certificate (f.cafile) and goes on as "ok"
    rcpt-550     refuses RCPT for local parts starting with "bad" (550 5.1.1)
    rcpt-452     refuses RCPT for local parts starting with "busy" (452 4.2.2);
                 both modes accept the other recipients
    drop         answers DATA with 354, reads part of the message, closes
    silent       accepts the connection and never says anything
    garbage      greets, then answers EHLO with a line that is not SMTP
    longline     greets, then answers EHLO with a 100,000-byte line
    size         advertises SIZE 1000 (the tests send larger messages)
"""
import os
import socket
import ssl
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from peers import HOST, free_port, make_cert  # noqa: E402

MODES = ("ok", "greet-421", "no-starttls", "inject", "rcpt-550", "rcpt-452", "drop", "silent",
         "garbage", "longline", "size")
SIZE_LIMIT = 1000


class _Closed(Exception):
    pass


class _Session:
    def __init__(self, server, sock):
        self.server = server
        self.sock = sock
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise _Closed()
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def command(self):
        text = self.line()
        with self.server.lock:
            self.server.commands.append(text)
        return text

    def ehlo_reply(self, tls):
        mode = self.server.mode
        caps = ["PIPELINING", "8BITMIME"]
        caps.append(f"SIZE {SIZE_LIMIT}" if mode == "size" else "SIZE 10485760")
        if mode == "inject" and not tls:
            caps.append("STARTTLS")
        if mode in ("no-starttls", "inject"):
            caps.append("AUTH PLAIN LOGIN")
        lines = ["fake.test greets you"] + caps
        return "".join(f"250{'-' if i < len(lines) - 1 else ' '}{l}\r\n"
                       for i, l in enumerate(lines)).encode()

    def rcpt_reply(self, arg):
        mode = self.server.mode
        addr = arg.split(":", 1)[-1].strip().strip("<>").split(">")[0]
        local = addr.split("@")[0].lower()
        if mode == "rcpt-550" and local.startswith("bad"):
            return b"550 5.1.1 <" + addr.encode() + b">: No such user here\r\n"
        if mode == "rcpt-452" and local.startswith("busy"):
            return b"452 4.2.2 <" + addr.encode() + b">: Mailbox full, try again later\r\n"
        return b"250 2.1.5 Ok\r\n"

    def read_data(self):
        lines = []
        while True:
            while b"\r\n" not in self.buf and b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise _Closed()
                self.buf += chunk
                if self.server.mode == "drop" and len(self.buf) > 10:
                    raise _Closed()
            line, _, self.buf = self.buf.partition(b"\n")
            if line.rstrip(b"\r") == b".":
                break
            if line.startswith(b"."):
                line = line[1:]
            lines.append(line + b"\n")
            if self.server.mode == "drop":
                raise _Closed()
        return b"".join(lines)

    def run(self):
        mode = self.server.mode
        if mode == "silent":
            self.server.stopping.wait(120)
            return
        if mode == "greet-421":
            self.send(b"421 4.3.2 fake.test Service not available, closing channel\r\n")
            return
        self.send(b"220 fake.test ESMTP ready\r\n")
        tls = False
        while True:
            cmd = self.command()
            verb = cmd.split(" ", 1)[0].upper()
            arg = cmd[len(verb):].strip()
            if verb in ("EHLO", "HELO"):
                if mode == "garbage":
                    self.send(b"hello? this is not SMTP\r\n")
                    return
                if mode == "longline":
                    self.send(b"250-" + b"x" * 100_000 + b"\r\n250 OK\r\n")
                    return
                self.send(self.ehlo_reply(tls))
            elif verb == "STARTTLS" and mode == "inject" and not tls:
                # The forged reply arrives in the same segment as the 220.
                self.send(b"220 2.0.0 ready to start TLS\r\n250 2.1.0 injected before TLS\r\n")
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.load_cert_chain(self.server.cert, self.server.key)
                self.sock = ctx.wrap_socket(self.sock, server_side=True)
                self.buf = b""
                tls = True
            elif verb == "AUTH":
                self.send(b"235 2.7.0 Authentication successful\r\n")
            elif verb == "MAIL":
                self.rcpts = []
                self.send(b"250 2.1.0 Ok\r\n")
            elif verb == "RCPT":
                reply = self.rcpt_reply(arg)
                if reply.startswith(b"250"):
                    self.rcpts.append(arg)
                self.send(reply)
            elif verb == "DATA":
                if not getattr(self, "rcpts", None):
                    self.send(b"554 5.5.1 No valid recipients\r\n")
                    continue
                self.send(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                data = self.read_data()
                with self.server.lock:
                    self.server.messages.append(data)
                self.send(b"250 2.0.0 Ok: queued\r\n")
            elif verb == "RSET":
                self.rcpts = []
                self.send(b"250 2.0.0 Ok\r\n")
            elif verb == "NOOP":
                self.send(b"250 2.0.0 Ok\r\n")
            elif verb == "QUIT":
                self.send(b"221 2.0.0 Bye\r\n")
                return
            else:
                self.send(b"502 5.5.2 Command not recognised\r\n")


class FakeSmtp:
    def __init__(self, workdir, mode):
        if mode not in MODES:
            raise ValueError(f"unknown fakesmtp mode {mode!r}")
        self.workdir = os.path.abspath(workdir)
        self.mode = mode
        self.host = HOST
        self.port = free_port()
        self.commands = []
        self.messages = []
        self.connections = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.listener = None
        self.threads = []
        self.cert = self.key = None

    @property
    def cafile(self):
        return self.cert

    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        self.cert, self.key = make_cert(self.workdir)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, self.port))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)
        return self

    def _accept(self):
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            sock.settimeout(120)
            with self.lock:
                self.connections += 1
            t = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, sock):
        session = _Session(self, sock)
        try:
            session.run()
        except (_Closed, OSError, ssl.SSLError):
            pass
        finally:
            try:
                session.sock.close()
            except OSError:
                pass

    def stop(self):
        self.stopping.set()
        if self.listener:
            self.listener.close()
            self.listener = None
        for t in self.threads:
            t.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def verbs(self):
        """The command verbs received so far (upper case)."""
        with self.lock:
            return [c.split(" ", 1)[0].upper() for c in self.commands]
