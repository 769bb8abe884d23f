"""What the msgappend tests share: uploads with msgappend to a private Dovecot
(tests/servers/peers.py), and what the server then holds, read back with
Python's imaplib."""
import base64
import imaplib
import re
import ssl

from tap import run, tool

MSGAPPEND = tool("msgappend")
FROM_DATE = "Mon Jan  3 04:05:06 2005"


def crlf(data):
    return re.sub(rb"(?<!\r)\n", b"\r\n", data)


def mbox_ok(data):
    return not re.search(rb"(^|\n)>*From ", data) and not data.startswith(b"From ")


def write_mbox(path, msgs):
    with open(path, "wb") as f:
        for _, data in msgs:
            f.write(f"From sender@example.org {FROM_DATE}\n".encode())
            f.write(data if data.endswith(b"\n") else data + b"\n")
            f.write(b"\n")


def ctx_for(dv):
    return ssl.create_default_context(cafile=dv.cafile)


def imap_utf7(name):
    """@name in modified UTF-7 (RFC 3501 5.1.3), as imaplib must send it."""
    out, run = [], []

    def flush():
        if run:
            b64 = base64.b64encode("".join(run).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + b64.replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def fetch_all(dv, mailbox, user=None, password=None):
    """[(bytes, flags set, internaldate str)] of @mailbox, by UID order."""
    im = imaplib.IMAP4_SSL(dv.host, dv.imaps_port, ssl_context=ctx_for(dv))
    im.login(user or dv.user, password or dv.password)
    typ, _ = im.select('"' + imap_utf7(mailbox) + '"', readonly=True)
    assert typ == "OK", f"select {mailbox}"
    typ, data = im.uid("FETCH", "1:*", "(FLAGS INTERNALDATE BODY.PEEK[])")
    out = []
    for item in data:
        if not isinstance(item, tuple):
            continue
        head = item[0].decode()
        flags = set(re.search(r"FLAGS \(([^)]*)\)", head).group(1).split())
        flags.discard("\\Recent")
        date = re.search(r'INTERNALDATE "([^"]*)"', head).group(1)
        out.append((item[1], flags, date))
    im.logout()
    return out


def append(dv, *args, port=None, tls="implicit", env=None, timeout=300, user=None, password=None):
    e = {"MSGTK_PASSWORD": password or dv.password}
    if env:
        e.update(env)
    port = port or (dv.imaps_port if tls == "implicit" else dv.imap_port)
    return run([MSGAPPEND, "--host", "127.0.0.1", "--port", str(port), "--tls", tls,
                "--tls-trust-file", dv.cafile, "--user", user or dv.user] + list(args), env=e, timeout=timeout)


def out_of(r):
    return (r.stdout + r.stderr).decode(errors="replace")


def check_exactly_once(t, dv, mailbox, expected, strip=False, user=None, password=None):
    """A TAP check that @mailbox holds each of @expected once, byte for byte
    (line ends aside; with @strip, trailing line ends too)."""
    got = [m[0] for m in fetch_all(dv, mailbox, user, password)]
    norm = (lambda b: crlf(b).rstrip(b"\r\n")) if strip else crlf
    want = sorted(norm(d) for d in expected)
    have = sorted(norm(d) for d in got)
    t.check(len(have) == len(want), f"{len(have)} messages in {mailbox}, want {len(want)}")
    t.check(have == want, "the mailbox holds each source message exactly once, byte for byte")
