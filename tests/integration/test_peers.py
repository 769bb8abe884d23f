"""The private test peers themselves work: Dovecot IMAP and submission over
STARTTLS and implicit TLS with certificate checks, relaying to smtp-sink."""
import imaplib
import os
import smtplib
import ssl
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, SOURCE_DIR  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
from peers import Dovecot, SmtpSink, strip_received  # noqa: E402

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
t.done()
