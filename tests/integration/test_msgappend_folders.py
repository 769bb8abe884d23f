"""msgappend's folders against real private Dovecots: a maildir++ tree (.Sent,
.Trash, .Lists.dev, a folder stored in modified UTF-7) lands in the server's
special-use mailboxes whatever their names (German ones here), in its personal
namespace (INBOX.) with its delimiter; on a plain server at the top level, as
mbsync puts them; --mailbox as a prefix (empty: the top level); --map rules.
Then flags and keywords: the archive's (maildir letters, X-Keywords,
X-Mozilla-Keys), --flags for every message, --skip-deleted. Then every archive
layout (msgtk-archives(5)): mutt's directory of mbox files, Thunderbird's Local
Folders, Apple Mail's bundles, MH folders, each message in the mailbox its
folder says with its flags; what is not mail named, the exit status saying so."""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, SOURCE_DIR  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
from peers import Dovecot  # noqa: E402
from appendlib import append, check_exactly_once, crlf, fetch_all, out_of  # noqa: E402
from layouts import write_layouts  # noqa: E402

t = Tap()
os.environ["ASAN_OPTIONS"] = ":".join(x for x in (os.environ.get("ASAN_OPTIONS", ""), "intercept_tls_get_addr=0") if x)

# a German server whose mailboxes live under INBOX. (as Courier's do)
GERMAN = """namespace inbox {
  inbox = yes
  prefix = INBOX.
  separator = .
  mailbox Gesendet {
    special_use = \\Sent
    auto = create
  }
  mailbox Papierkorb {
    special_use = \\Trash
    auto = create
  }
  mailbox Entwürfe {
    special_use = \\Drafts
    auto = create
  }
}"""

# the maildir++ folders of the archive, as Dovecot or Courier store them
FOLDERS = {"": "root", ".Sent": "sent", ".Trash": "trash", ".Lists.dev": "dev",
           ".Entw&APw-rfe": "draft", ".Projekte": "projekte"}


def write_maildir(root):
    msgs = {}
    for d, tag in FOLDERS.items():
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(root, d, sub), exist_ok=True)
        data = [f"From: a@example.org\nSubject: {tag} {i}\nMessage-ID: <{tag}{i}@x>\n\n{tag} body {i}\n".encode()
                for i in range(2)]
        for i, m in enumerate(data):
            with open(os.path.join(root, d, "cur", f"{1700000000 + i}.{tag}{i}.host:2,S"), "wb") as f:
                f.write(m)
        msgs[tag] = data
    return msgs


def counts(dv, mailboxes):
    return {m: dv.message_count(m) for m in mailboxes}


with tempfile.TemporaryDirectory(prefix="msgtk-folders-") as work:
    md = os.path.join(work, "Maildir")
    msgs = write_maildir(md)

    with Dovecot(os.path.join(work, "dv-de"), extra_conf=GERMAN) as dv:
        with t.case("a maildir++ tree into a German server under INBOX.: the special-use folders and the "
                    "namespace, whatever the names"):
            r = append(dv, "--no-journal", "--create", md)
            t.check(r.returncode == 0, out_of(r))
            where = {"INBOX": "root", "INBOX.Gesendet": "sent", "INBOX.Papierkorb": "trash",
                     "INBOX.Lists.dev": "dev", "INBOX.Entwürfe": "draft", "INBOX.Projekte": "projekte"}
            got = counts(dv, where)
            t.check(all(n == 2 for n in got.values()), f"{got}")
            for mailbox, tag in where.items():
                check_exactly_once(t, dv, mailbox, msgs[tag])
            names = dv.doveadm("mailbox", "list", "-u", dv.user)
            t.check("INBOX.Sent" not in names and "INBOX.Trash" not in names, names)

        with t.case("--map: a folder (and those under it) where the user says"):
            r = append(dv, "--no-journal", "--create", "--map", "Lists=INBOX/Listen", "--map", "=INBOX/Alt", md)
            t.check(r.returncode == 0, out_of(r))
            t.check(dv.message_count("INBOX.Listen.dev") == 2 and dv.message_count("INBOX.Alt") == 2,
                    dv.doveadm("mailbox", "list", "-u", dv.user))

        with t.case("--mailbox NAME: the archive under one mailbox, nothing to the special-use ones"):
            before = dv.message_count("INBOX.Gesendet")
            r = append(dv, "--no-journal", "--create", "--mailbox", "INBOX.Import", md)
            t.check(r.returncode == 0, out_of(r))
            got = counts(dv, ["INBOX.Import", "INBOX.Import.Sent", "INBOX.Import.Lists.dev",
                              "INBOX.Import.Entwürfe"])
            t.check(all(n == 2 for n in got.values()), f"{got}")
            t.check(dv.message_count("INBOX.Gesendet") == before, "the server's Sent untouched")

    with Dovecot(os.path.join(work, "dv-plain")) as dv:
        with t.case("a server without special uses: the folders at the top level, as mbsync puts them"):
            r = append(dv, "--no-journal", "--create", md)
            t.check(r.returncode == 0, out_of(r))
            where = {"INBOX": "root", "Sent": "sent", "Trash": "trash", "Lists.dev": "dev",
                     "Entwürfe": "draft", "Projekte": "projekte"}
            got = counts(dv, where)
            t.check(all(n == 2 for n in got.values()), f"{got}")
            names = dv.doveadm("mailbox", "list", "-u", dv.user)
            t.check("INBOX.Sent" not in names and "Entw&APw-rfe" not in names, names)

        with t.case("--mailbox '': the folders at the top level, the archive's own messages in INBOX"):
            r = append(dv, "--no-journal", "--mailbox", "", md)
            t.check(r.returncode == 0, out_of(r))
            t.check(dv.message_count("INBOX") == 4 and dv.message_count("Lists.dev") == 4, out_of(r))

        with t.case("--dry-run shows where each folder would go, in UTF-8"):
            r = append(dv, "--dry-run", "--no-journal", md)
            text = out_of(r)
            t.check(r.returncode == 0, text)
            t.check(re.search(r"to Entwürfe\n", text) and re.search(r"to Lists/dev\n", text)
                    and re.search(r"to INBOX\n", text), text)

        kw = os.path.join(work, "kw")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(kw, sub))
        files = {"cur/1700000001.a.h:2,S": b"Subject: a\nX-Keywords: $Label1, work\n\na\n",
                 "cur/1700000002.b.h:2,T": b"Subject: b\nX-Mozilla-Keys: $label2 todo  \n\nb\n",
                 "new/1700000003.c.h": b"Subject: c\n\nc\n"}
        for name, data in files.items():
            with open(os.path.join(kw, name), "wb") as f:
                f.write(data)

        with t.case("flags and keywords: the archive's (maildir letters, X-Keywords, Thunderbird's tags) "
                    "and --flags for every message"):
            r = append(dv, "--no-journal", "--create", "--mailbox", "Kw", "--flags", "\\Flagged $Imported", kw)
            t.check(r.returncode == 0, out_of(r))
            got = {m[0].split(b"\r\n")[0].decode(): m[1] for m in fetch_all(dv, "Kw")}
            want = {"Subject: a": {"\\Seen", "\\Flagged", "$Label1", "work", "$Imported"},
                    "Subject: b": {"\\Deleted", "\\Flagged", "$label2", "todo", "$Imported"},
                    "Subject: c": {"\\Flagged", "$Imported"}}
            t.check(got == want, f"{got}")

        with t.case("--skip-deleted: messages marked deleted left out, and counted"):
            r = append(dv, "--no-journal", "--create", "--mailbox", "Kw2", "--skip-deleted", kw)
            t.check(r.returncode == 0 and "2 uploaded" in out_of(r) and "1 left out (marked deleted)" in out_of(r),
                    out_of(r))
            t.check(dv.message_count("Kw2") == 2, "two stored")

        with t.case("--flags with a system flag IMAP does not have: a usage error"):
            r = append(dv, "--no-journal", "--flags", "\\Important", kw)
            t.check(r.returncode == 64 and "'\\Important' is not an IMAP flag" in out_of(r), out_of(r))

        with t.case("a folder rule that is not one: a usage error naming it"):
            r = append(dv, "--no-journal", "--map", "Lists", md)
            t.check(r.returncode == 64 and "'Lists' is not a folder rule" in out_of(r), out_of(r))

    LAYOUTS = write_layouts(os.path.join(work, "layouts"))
    USERS = {name: "pw-" + name for name in ("mutt", "thunderbird", "apple", "mh", "notmail", "nothing")}
    with Dovecot(os.path.join(work, "dv-layouts"), extra_users=USERS) as dv:
        for name in ("mutt", "thunderbird", "apple", "mh"):
            lay = LAYOUTS[name]
            with t.case(f"{name}'s tree: every message in the mailbox a user expects, byte for byte, flags kept"):
                r = append(dv, "--no-journal", "--create", lay.path, user=name, password=USERS[name])
                t.check(r.returncode == 0 and f"{len(lay.messages())} uploaded" in out_of(r), out_of(r))
                for folder, msgs in lay.folders.items():
                    mailbox = lay.mailboxes[folder].replace("/", ".")
                    got = sorted((m, sorted(fl)) for m, fl, _ in fetch_all(dv, mailbox, name, USERS[name]))
                    want = sorted((crlf(m), sorted(fl)) for m, fl in msgs)
                    t.check(got == want, f"{folder} in {mailbox}: {got} != {want}")
                # no other mailbox: none for what is passed over (Trash is an empty folder)
                listed = dv.doveadm("mailbox", "list", "-u", name)
                want = {"INBOX"} | {".".join(mb.split("/")[:k + 1]) for mb in lay.mailboxes.values()
                                    for k in range(mb.count("/") + 1)}
                t.check(sorted(listed.splitlines()) == sorted(want), listed)

        with t.case("what is not mail in a tree is named, the rest uploaded: exit 2; nothing but that: exit 66"):
            lay = LAYOUTS["not-mail"]
            r = append(dv, "--no-journal", "--create", lay.path, user="notmail", password=USERS["notmail"])
            text = out_of(r)
            t.check(r.returncode == 2 and "1 uploaded" in text and f"{len(lay.errors)} failed" in text, text)
            t.check(all(f"failed: {lay.path}: {e}\n" in text for e in lay.errors), text)
            t.check(dv.message_count("INBOX", user="notmail") == 1, "the message beside them uploaded")
            lay = LAYOUTS["nothing"]
            r = append(dv, "--no-journal", "--create", lay.path, user="nothing", password=USERS["nothing"])
            text = out_of(r)
            t.check(r.returncode == 66 and "0 uploaded" in text
                    and f"failed: {lay.path}: {lay.errors[0]}\n" in text, text)

t.done()
