#!/usr/bin/env python3
"""Private test peers on loopback: Dovecot (IMAP + submission, with TLS) and
Postfix's smtp-sink.

Used by the integration tests, the benchmarks and the demo:

    sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
    from peers import SmtpSink, Dovecot, free_port

    with SmtpSink(workdir, dump=True) as sink:        # sink.host, sink.port
        ...                                           # sink.messages(), sink.count()
    with Dovecot(workdir, relay_port=sink.port) as d:  # d.imap_port, d.imaps_port,
        ...                                           # d.submission_port, d.submissions_port,
                                                      # d.cafile, d.user, d.password, d.doveadm()

Every server listens on 127.0.0.1 only, on free ports, and is stopped by its PID.
A missing peer is an error (PeerMissing), never a silent skip.

Command line (for the demo and benchmarks):
    peers.py start-dovecot DIR [--relay-port N] [--imap-capability CAPS] [--quota 1M] [--compress]
    peers.py start-smtp-sink DIR [--dump]
    peers.py stop DIR
start-* print one JSON object with the ports, PID and CA file, and leave the
server running; stop stops whatever was started in DIR.
"""
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

HOST = "127.0.0.1"
MAIL_USER = "msgtk-test"  # system user that owns the test mailboxes when run as root
TEST_USER = "test"
TEST_PASSWORD = "s3cret-Pa55"


class PeerMissing(RuntimeError):
    pass


class PeerFailed(RuntimeError):
    pass


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15.0, pid=None):
    """Wait until 127.0.0.1:port accepts connections."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and not pid_alive(pid):
            raise PeerFailed(f"server (pid {pid}) exited before listening on port {port}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise PeerFailed(f"nothing listening on {HOST}:{port} after {timeout}s")


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0): look at its state.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def stop_pid(pid, timeout=10.0):
    """SIGTERM, wait, then SIGKILL."""
    if not pid or not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def find_program(name, dirs=("/usr/sbin", "/usr/bin", "/usr/lib/postfix/sbin")):
    path = shutil.which(name)
    if path:
        return path
    for d in dirs:
        p = os.path.join(d, name)
        if os.access(p, os.X_OK):
            return p
    raise PeerMissing(f"{name} is not installed: run scripts/bootstrap (it installs the test peers)")


def make_cert(directory):
    """A throw-away self-signed certificate for localhost / 127.0.0.1."""
    cert = os.path.join(directory, "cert.pem")
    key = os.path.join(directory, "key.pem")
    if not os.path.exists(cert):
        openssl = find_program("openssl")
        r = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-days", "30",
                            "-subj", "/CN=localhost", "-addext",
                            "subjectAltName=DNS:localhost,IP:127.0.0.1",
                            "-keyout", key, "-out", cert],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if r.returncode != 0:
            raise PeerFailed("openssl could not make a certificate: " + r.stderr.decode(errors="replace"))
        os.chmod(key, 0o600)
    return cert, key


def ensure_mail_user():
    """As root: the ordinary system user owning test mail. Returns (uid, gid)."""
    if os.getuid() != 0:
        return os.getuid(), os.getgid()
    try:
        pw = pwd.getpwnam(MAIL_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        MAIL_USER], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            pw = pwd.getpwnam(MAIL_USER)
        except KeyError:
            raise PeerFailed(f"could not create the system user {MAIL_USER} for test mail")
    return pw.pw_uid, pw.pw_gid


class SmtpSink:
    """Postfix's smtp-sink on 127.0.0.1:port.

    dump=True writes each message to DIR/sink/ (slower); messages() then returns
    a list of dicts {mail_from, rcpts, helo, data, raw} in arrival order, where
    data is the message as received (LF line endings, as smtp-sink stores it)
    including the Received: headers added by smtp-sink and any relay.
    """

    def __init__(self, workdir, dump=False, port=None, backlog=256, extra_args=()):
        self.workdir = os.path.abspath(workdir)
        self.dump = dump
        self.port = port or free_port()
        self.host = HOST
        self.backlog = backlog
        self.extra_args = list(extra_args)
        self.proc = None
        self.dump_dir = os.path.join(self.workdir, "sink")
        self.out_path = os.path.join(self.workdir, "smtp-sink.out")

    def start(self):
        prog = find_program("smtp-sink")
        os.makedirs(self.workdir, exist_ok=True)
        args = [prog, "-c"]
        if os.getuid() == 0:
            args += ["-u", "nobody"]
        if self.dump:
            os.makedirs(self.dump_dir, exist_ok=True)
            os.chmod(self.dump_dir, 0o777)
            args += ["-d", os.path.join(self.dump_dir, "%M.")]
        args += self.extra_args + [f"{HOST}:{self.port}", str(self.backlog)]
        self._out = open(self.out_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        wait_port(self.port, pid=self.proc.pid)
        return self

    def stop(self):
        if self.proc:
            stop_pid(self.proc.pid)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
            self._out.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def count(self):
        """Messages accepted so far (smtp-sink's own counter)."""
        try:
            with open(self.out_path, "rb") as f:
                text = f.read().decode(errors="replace")
        except OSError:
            return 0
        found = re.findall(r"mesg=(\d+)", text)
        return int(found[-1]) if found else 0

    def wait_count(self, n, timeout=30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= n or (self.dump and len(self._dump_files()) >= n):
                return True
            time.sleep(0.05)
        return False

    def _dump_files(self):
        try:
            names = os.listdir(self.dump_dir)
        except FileNotFoundError:
            return []
        paths = [os.path.join(self.dump_dir, n) for n in names]
        return sorted(paths, key=lambda p: (os.stat(p).st_mtime_ns, p))

    def clear(self):
        for p in self._dump_files():
            os.unlink(p)

    def messages(self):
        out = []
        for p in self._dump_files():
            with open(p, "rb") as f:
                raw = f.read()
            out.append(parse_sink_dump(raw))
        return out


def parse_sink_dump(raw):
    """Split a smtp-sink dump file into envelope and message data."""
    env = {"mail_from": None, "rcpts": [], "helo": None, "raw": raw}
    pos = 0
    while True:
        nl = raw.find(b"\n", pos)
        if nl < 0:
            break
        line = raw[pos:nl]
        if not line.startswith(b"X-"):
            break
        name, _, value = line.partition(b":")
        value = value.strip().decode(errors="replace")
        if name == b"X-Mail-Args":
            env["mail_from"] = value
        elif name == b"X-Rcpt-Args":
            env["rcpts"].append(value)
        elif name == b"X-Helo-Args":
            env["helo"] = value
        pos = nl + 1
    data = raw[pos:]
    # smtp-sink ends every dump with one more newline than the message had.
    if data.endswith(b"\n\n"):
        data = data[:-1]
    env["data"] = data
    return env


def strip_received(data, n=None):
    """Remove the leading Received: headers (all, or the first n) added in transit."""
    removed = 0
    while data.startswith(b"Received:") and (n is None or removed < n):
        end = data.find(b"\n")
        while end >= 0 and data[end + 1:end + 2] in (b" ", b"\t"):
            end = data.find(b"\n", end + 1)
        data = data[end + 1:] if end >= 0 else b""
        removed += 1
    return data


class Dovecot:
    """A private Dovecot: IMAP (STARTTLS + implicit TLS) and submission
    (STARTTLS + implicit TLS), one passwd-file user, maildir storage.

    relay_port: where submission relays accepted mail (e.g. an SmtpSink port);
    imap_capability: replaces the advertised IMAP capabilities (e.g. to hide
    LITERAL+ or MULTIAPPEND); quota: a storage limit such as "1M";
    compress: the imap_zlib plugin, which offers COMPRESS=DEFLATE (RFC 4978)
    once logged in; extra_conf: appended verbatim to dovecot.conf;
    extra_users: more accounts, {name: password}, each with its own mail.
    """

    def __init__(self, workdir, relay_port=None, imap_capability=None, quota=None,
                 extra_conf="", auth_mechanisms="plain login cram-md5 scram-sha-1 scram-sha-256",
                 disable_plaintext_auth=False, extra_users=None, compress=False):
        self.workdir = os.path.abspath(workdir)
        self.extra_users = dict(extra_users or {})
        self.host = HOST
        self.user = TEST_USER
        self.password = TEST_PASSWORD
        self.relay_port = relay_port
        self.imap_capability = imap_capability
        self.quota = quota
        self.compress = compress
        self.extra_conf = extra_conf
        self.auth_mechanisms = auth_mechanisms
        self.disable_plaintext_auth = disable_plaintext_auth
        self.imap_port = free_port()
        self.imaps_port = free_port()
        self.submission_port = free_port()
        self.submissions_port = free_port()
        self.conf = os.path.join(self.workdir, "dovecot.conf")
        self.base_dir = os.path.join(self.workdir, "run")
        self.log = os.path.join(self.workdir, "dovecot.log")
        self.home = os.path.join(self.workdir, "home", TEST_USER)
        self.maildir = os.path.join(self.home, "Maildir")
        self.cafile = None
        self.pid = None

    def _write_conf(self):
        root = os.getuid() == 0
        uid, gid = ensure_mail_user()
        for d in (self.workdir, self.base_dir, os.path.join(self.workdir, "state"),
                  os.path.join(self.workdir, "home")):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, 0o755)
        for home in [self.home] + [os.path.join(self.workdir, "home", u) for u in self.extra_users]:
            os.makedirs(home, exist_ok=True)
            os.chown(home, uid, gid)
            os.chmod(home, 0o700)
        # Every parent must be traversable by the mail user.
        p = self.workdir
        while p not in ("/", ""):
            st = os.stat(p)
            if root and not (st.st_mode & 0o001):
                os.chmod(p, st.st_mode | 0o001)
            p = os.path.dirname(p)
        cert, key = make_cert(self.workdir)
        self.cafile = cert
        users = os.path.join(self.workdir, "users")
        with open(users, "w") as f:
            f.write(f"{TEST_USER}:{{PLAIN}}{TEST_PASSWORD}:{uid}:{gid}::{self.home}::\n")
            for name, password in self.extra_users.items():
                home = os.path.join(self.workdir, "home", name)
                f.write(f"{name}:{{PLAIN}}{password}:{uid}:{gid}::{home}::\n")
        os.chmod(users, 0o644)
        relay = self.relay_port or free_port()
        lines = [
            f"base_dir = {self.base_dir}",
            f"state_dir = {os.path.join(self.workdir, 'state')}",
            f"instance_name = msgtk-test-{self.imap_port}",
            f"log_path = {self.log}",
            f"info_log_path = {self.log}",
            "listen = 127.0.0.1",
            "protocols = imap submission",
            "ssl = yes",
            f"ssl_cert = <{cert}",
            f"ssl_key = <{key}",
            "ssl_dh = </usr/share/dovecot/dh.pem",
            f"disable_plaintext_auth = {'yes' if self.disable_plaintext_auth else 'no'}",
            f"auth_mechanisms = {self.auth_mechanisms}",
            "first_valid_uid = 1",
            "mail_location = maildir:~/Maildir",
            "mail_fsync = never",
            "mail_max_userip_connections = 200",
            "hostname = mx.test",
            "submission_relay_host = 127.0.0.1",
            f"submission_relay_port = {relay}",
            "submission_relay_trusted = yes",
            f"passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {users}\n}}",
            f"userdb {{\n  driver = passwd-file\n  args = username_format=%u {users}\n}}",
            "service imap-login {\n"
            f"  inet_listener imap {{\n    port = {self.imap_port}\n  }}\n"
            f"  inet_listener imaps {{\n    port = {self.imaps_port}\n    ssl = yes\n  }}\n"
            + ("" if root else "  chroot =\n") + "}",
            "service submission-login {\n"
            f"  inet_listener submission {{\n    port = {self.submission_port}\n  }}\n"
            f"  inet_listener submissions {{\n    port = {self.submissions_port}\n    ssl = yes\n  }}\n"
            + ("" if root else "  chroot =\n") + "}",
            "service pop3-login {\n  inet_listener pop3 {\n    port = 0\n  }\n"
            "  inet_listener pop3s {\n    port = 0\n  }\n}",
            "service lmtp {\n  unix_listener lmtp {\n    mode = 0600\n  }\n}",
            "service imap {\n  process_limit = 256\n}",
        ]
        if root:
            lines += ["default_internal_user = dovecot", "default_login_user = dovenull"]
        else:
            me = pwd.getpwuid(os.getuid()).pw_name
            lines += [f"default_internal_user = {me}", f"default_login_user = {me}"]
        if self.imap_capability:
            lines.append(f"imap_capability = {self.imap_capability}")
        plugins, imap_plugins = [], []
        if self.quota:
            plugins.append("quota")
            imap_plugins.append("imap_quota")
            lines.append(f"plugin {{\n  quota = maildir:User quota\n  quota_rule = *:storage={self.quota}\n}}")
        if self.compress:
            plugins.append("zlib")
            imap_plugins.append("imap_zlib")
        if plugins:
            lines += [
                "mail_plugins = $mail_plugins " + " ".join(plugins),
                "protocol imap {\n  mail_plugins = $mail_plugins " + " ".join(imap_plugins) + "\n}",
            ]
        if self.extra_conf:
            lines.append(self.extra_conf)
        with open(self.conf, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        dovecot = find_program("dovecot")
        find_program("doveadm")
        if not os.path.exists("/usr/lib/dovecot/imap"):
            raise PeerMissing("dovecot-imapd is not installed: run scripts/bootstrap")
        if not os.path.exists("/usr/lib/dovecot/submission"):
            raise PeerMissing("dovecot-submissiond is not installed: run scripts/bootstrap")
        self._write_conf()
        # The daemon keeps inherited descriptors open: send its early output to a
        # file, never to a pipe we would wait on.
        early = os.path.join(self.workdir, "dovecot.start.log")
        with open(early, "wb") as out:
            r = subprocess.run([dovecot, "-c", self.conf], stdout=out, stderr=out,
                               stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            with open(early, errors="replace") as f:
                raise PeerFailed("dovecot did not start: " + f.read() + self.log_tail())
        pidfile = os.path.join(self.base_dir, "master.pid")
        # The daemon creates master.pid and writes it a moment later: wait for
        # the number, not just the file.
        deadline = time.monotonic() + 10
        while True:
            try:
                with open(pidfile) as f:
                    self.pid = int(f.read().strip())
                break
            except (OSError, ValueError):
                if time.monotonic() >= deadline:
                    raise PeerFailed("dovecot wrote no master.pid" + self.log_tail())
                time.sleep(0.05)
        try:
            for port in (self.imap_port, self.imaps_port, self.submission_port, self.submissions_port):
                wait_port(port, pid=self.pid)
        except PeerFailed as e:
            self.stop()
            raise PeerFailed(str(e) + self.log_tail())
        return self

    def log_tail(self, n=30):
        try:
            with open(self.log, errors="replace") as f:
                return "\n--- dovecot.log ---\n" + "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.pid:
            stop_pid(self.pid)
            self.pid = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def doveadm(self, *args, check=True):
        """Run doveadm against this instance; returns its stdout as str."""
        r = subprocess.run([find_program("doveadm"), "-c", self.conf] + list(args),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if check and r.returncode != 0:
            raise PeerFailed(f"doveadm {' '.join(args)} failed: {r.stderr.decode(errors='replace')}")
        return r.stdout.decode(errors="replace")

    def message_count(self, mailbox="INBOX", user=None):
        out = self.doveadm("mailbox", "status", "-u", user or self.user, "messages", mailbox)
        m = re.search(r"messages=(\d+)", out)
        return int(m.group(1)) if m else 0

    def info(self):
        return {"host": self.host, "pid": self.pid, "imap_port": self.imap_port,
                "imaps_port": self.imaps_port, "submission_port": self.submission_port,
                "submissions_port": self.submissions_port, "cafile": self.cafile,
                "user": self.user, "password": self.password, "conf": self.conf,
                "maildir": self.maildir}


def _main(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="peers.py", description="private test peers on loopback")
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("start-dovecot")
    d.add_argument("dir")
    d.add_argument("--relay-port", type=int)
    d.add_argument("--imap-capability")
    d.add_argument("--quota")
    d.add_argument("--compress", action="store_true")
    s = sub.add_parser("start-smtp-sink")
    s.add_argument("dir")
    s.add_argument("--dump", action="store_true")
    st = sub.add_parser("stop")
    st.add_argument("dir")
    a = ap.parse_args(argv)
    state = os.path.join(os.path.abspath(a.dir), "peers.json")
    if a.cmd == "stop":
        try:
            with open(state) as f:
                info = json.load(f)
        except OSError:
            return 0
        for entry in info.values():
            stop_pid(entry.get("pid"))
        os.unlink(state)
        return 0
    os.makedirs(a.dir, exist_ok=True)
    try:
        with open(state) as f:
            info = json.load(f)
    except OSError:
        info = {}
    if a.cmd == "start-dovecot":
        dv = Dovecot(os.path.join(a.dir, "dovecot"), relay_port=a.relay_port,
                     imap_capability=a.imap_capability, quota=a.quota, compress=a.compress).start()
        info["dovecot"] = dv.info()
        out = info["dovecot"]
    else:
        sk = SmtpSink(os.path.join(a.dir, "smtp-sink"), dump=a.dump)
        sk.start()
        # Detach: the sink outlives this process; stop it with `peers.py stop`.
        out = {"host": HOST, "port": sk.port, "pid": sk.pid}
        sk.proc = None
        info["smtp-sink"] = out
    with open(state, "w") as f:
        json.dump(info, f)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
