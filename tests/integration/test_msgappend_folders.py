"""msgappend's folders against real private Dovecots: a maildir++ tree (.Sent,
.Trash, .Lists.dev, a folder stored in modified UTF-7) lands in the server's
special-use mailboxes whatever their names (German ones here), in its personal
namespace (INBOX.) with its delimiter; on a plain server at the top level, as
mbsync puts them; --mailbox as a prefix (empty: the top level); --map rules.
Then flags and keywords: the archive's (maildir letters, X-Keywords,
X-Mozilla-Keys), --flags for every message, --skip-deleted. And a Google
Takeout mbox: its Gmail labels as folders (a copy each, Sent to the server's
Sent) or as keywords, Opened/Unread/Starred as flags. Then every archive
layout (msgtk-archives(5)): mutt's directory of mbox files, Thunderbird's Local
Folders, Apple Mail's bundles, MH folders, each message in the mailbox its
folder says with its flags; what is not mail named, the exit status saying so."""
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap, SOURCE_DIR, run  # noqa: E402

sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "servers"))
from peers import Dovecot  # noqa: E402
from appendlib import MSGAPPEND, append, check_exactly_once, crlf, fetch_all, out_of, write_mbox  # noqa: E402
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


# a Google Takeout mbox: every label of the account in X-Gmail-Labels
TAKEOUT = [
    ("Inbox,Opened,Important,Category Updates", "takeout 1"),
    ("Sent,Opened,Work/Projects", "takeout 2"),
    ("Archived,Unread,Starred,Category Promotions", "takeout 3"),
    ('"Clients, 2024",Inbox,Unread', "takeout 4"),
]


def write_takeout(path):
    msgs = [(None, f"X-GM-THRID: 17{i}\nX-Gmail-Labels: {labels}\nFrom: a@example.org\nSubject: {subject}\n"
                   f"Message-ID: <t{i}@x>\n\n{subject}\n".encode())
            for i, (labels, subject) in enumerate(TAKEOUT)]
    write_mbox(path, msgs)
    return {subject: data for (_, data), (_, subject) in zip(msgs, TAKEOUT)}


def subjects(dv, mailbox):
    """{subject: flags} of the takeout messages in @mailbox."""
    out = {}
    for data, flags, _ in fetch_all(dv, mailbox):
        m = re.search(rb"Subject: (takeout \d)", data)
        if m:
            out[m.group(1).decode()] = flags
    return out


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

        takeout = os.path.join(work, "All mail Including Spam and Trash.mbox")
        write_takeout(takeout)
        with t.case("a Takeout mbox: a copy in the folder of each label (Sent: the server's), Opened, Unread "
                    "and Starred as flags, Important as a keyword"):
            journal = os.path.join(work, "takeout.journal")
            r = append(dv, "--journal", journal, "--create", takeout)
            t.check(r.returncode == 0 and "6 uploaded" in out_of(r), out_of(r))
            r = append(dv, "--journal", journal, "--create", takeout)
            t.check(r.returncode == 0 and "0 uploaded, 6 skipped" in out_of(r), out_of(r))
            t.check(subjects(dv, "INBOX") == {"takeout 1": {"\\Seen", "$Important"}, "takeout 4": set()},
                    f"{subjects(dv, 'INBOX')}")
            t.check(subjects(dv, "INBOX.Gesendet") == {"takeout 2": {"\\Seen"}}, f"{subjects(dv, 'INBOX.Gesendet')}")
            t.check(subjects(dv, "INBOX.Work.Projects") == {"takeout 2": {"\\Seen"}},
                    dv.doveadm("mailbox", "list", "-u", dv.user))
            t.check(subjects(dv, "INBOX.Archive") == {"takeout 3": {"\\Flagged"}},
                    dv.doveadm("mailbox", "list", "-u", dv.user))
            t.check(subjects(dv, "INBOX.Clients, 2024") == {"takeout 4": set()},
                    dv.doveadm("mailbox", "list", "-u", dv.user))

        with t.case("--dry-run counts a copy per label folder"):
            r = append(dv, "--dry-run", "--no-journal", takeout)
            t.check(r.returncode == 0 and "6 to upload" in out_of(r), out_of(r))

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

        with t.case("--dry-run logs in and shows a line per mailbox, in UTF-8: what would go, what it holds"):
            r = append(dv, "--dry-run", "--no-journal", md)
            text = out_of(r)
            t.check(r.returncode == 0, text)
            t.check(re.search(r"^ +2 to upload \(0\.0 MB\) to Entwürfe: holds 4$", text, re.M)
                    and re.search(r"^ +2 to upload \(0\.0 MB\) to Lists\.dev: holds 4$", text, re.M)
                    and re.search(r"^ +2 to upload \(0\.0 MB\) to INBOX: holds \d+$", text, re.M), text)
            t.check("would upload" not in text, "no line per message without -v")

        with t.case("--dry-run -v: a line per message too"):
            r = append(dv, "--dry-run", "-v", "--no-journal", md)
            text = out_of(r)
            t.check(r.returncode == 0 and len(re.findall(r"^would upload .* to Entwürfe$", text, re.M)) == 2, text)

        with t.case("--dry-run of a new folder: 'to be created' with --create, nothing created; without it the "
                    "mailbox is named and the exit status says so"):
            extra = os.path.join(work, "extra")
            for sub in ("cur", "new", "tmp"):
                os.makedirs(os.path.join(extra, ".Neu", sub))
                os.makedirs(os.path.join(extra, sub), exist_ok=True)
            with open(os.path.join(extra, ".Neu", "cur", "1700000000.n.h:2,S"), "wb") as f:
                f.write(b"Subject: neu\n\nneu\n")
            r = append(dv, "--dry-run", "--create", "--no-journal", extra)
            t.check(r.returncode == 0 and re.search(r"1 to upload \(0\.0 MB\) to Neu: to be created", out_of(r)),
                    out_of(r))
            t.check("Neu" not in dv.doveadm("mailbox", "list", "-u", dv.user), "nothing created")
            r = append(dv, "--dry-run", "--no-journal", extra)
            t.check(r.returncode != 0 and "mailbox 'Neu' does not exist" in out_of(r), out_of(r))

        with t.case("--dry-run --dedupe message-id counts what the mailboxes hold already"):
            r = append(dv, "--dry-run", "--dedupe", "message-id", "--no-journal", md)
            t.check(r.returncode == 0 and "0 to upload, 12 skipped" in out_of(r)
                    and re.search(r"0 to upload \(0\.0 MB\), 2 there already to Lists\.dev: holds 4", out_of(r)),
                    out_of(r))

        with t.case("--dry-run with a wrong password: the login fails, as the upload would"):
            r = append(dv, "--dry-run", "--no-journal", md, password="wrong")
            t.check(r.returncode == 77, out_of(r))

        with t.case("--dry-run --offline: nothing connected, the mailboxes by the defaults"):
            r = run([MSGAPPEND, "--dry-run", "--offline", "--no-journal", md])
            t.check(r.returncode == 0 and re.search(r"2 to upload \(0\.0 MB\) to Lists/dev: not looked at", out_of(r)),
                    out_of(r))
            r = append(dv, "--offline", "--no-journal", md)
            t.check(r.returncode == 64 and "--offline goes with --dry-run" in out_of(r), out_of(r))

        kw = os.path.join(work, "kw")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(kw, sub))
        files = {"dovecot-keywords": b"0 $FromDovecot\n1 unused\n",
                 "cur/1700000001.a.h:2,Sa": b"Subject: a\nX-Keywords: $Label1, work\n\na\n",
                 "cur/1700000002.b.h:2,T": b"Subject: b\nX-Mozilla-Keys: $label2 todo  \n\nb\n",
                 "new/1700000003.c.h": b"Subject: c\n\nc\n"}
        for name, data in files.items():
            with open(os.path.join(kw, name), "wb") as f:
                f.write(data)

        with t.case("flags and keywords: the archive's (maildir letters, Dovecot's keyword letters, X-Keywords, "
                    "Thunderbird's tags) "
                    "and --flags for every message"):
            r = append(dv, "--no-journal", "--create", "--mailbox", "Kw", "--flags", "\\Flagged $Imported", kw)
            t.check(r.returncode == 0, out_of(r))
            got = {m[0].split(b"\r\n")[0].decode(): m[1] for m in fetch_all(dv, "Kw")}
            want = {"Subject: a": {"\\Seen", "\\Flagged", "$FromDovecot", "$Label1", "work", "$Imported"},
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

        with t.case("--gmail-labels=keywords: one copy each, in Inbox, Sent or Archive, the labels as keywords"):
            r = append(dv, "--no-journal", "--create", "--gmail-labels=keywords", takeout)
            t.check(r.returncode == 0 and "4 uploaded" in out_of(r), out_of(r))
            t.check(subjects(dv, "INBOX") == {"takeout 1": {"\\Seen", "$Important"},
                                              "takeout 4": {"Clients,_2024"}}, f"{subjects(dv, 'INBOX')}")
            t.check(subjects(dv, "Sent") == {"takeout 2": {"\\Seen", "Work/Projects"}}, f"{subjects(dv, 'Sent')}")
            t.check(subjects(dv, "Archive") == {"takeout 3": {"\\Flagged"}}, f"{subjects(dv, 'Archive')}")

        with t.case("--gmail-labels=ignore: the mbox as one folder, no flags from labels"):
            r = append(dv, "--no-journal", "--create", "--mailbox", "Takeout", "--gmail-labels=ignore", takeout)
            t.check(r.returncode == 0 and "4 uploaded" in out_of(r), out_of(r))
            t.check(subjects(dv, "Takeout") == {f"takeout {i}": set() for i in range(1, 5)},
                    f"{subjects(dv, 'Takeout')}")

        with t.case("--gmail-labels with another word: a usage error"):
            r = append(dv, "--no-journal", "--gmail-labels=labels", takeout)
            t.check(r.returncode == 64 and "--gmail-labels takes folders, keywords or ignore" in out_of(r), out_of(r))

        with t.case("--json: one object per message on standard output (UID, UIDVALIDITY), the summary on "
                    "standard error; a re-run says skipped, and why; --log keeps it all in a private file"):
            journal = os.path.join(work, "json.journal")
            log = os.path.join(work, "append.log")
            r = append(dv, "--journal", journal, "--create", "--mailbox", "Json", "--json", "--log", log,
                       "--skip-deleted", kw)
            lines = r.stdout.decode().splitlines()
            objs = [json.loads(x) for x in lines]
            t.check(r.returncode == 0 and len(objs) == 3, out_of(r))
            by = {o["status"]: o for o in objs}
            up = [o for o in objs if o["status"] == "uploaded"]
            t.check(len(up) == 2 and all(o["mailbox"] == "Json" and o["uid"] and o["uidvalidity"] and o["size"] > 0
                                         for o in up), f"{objs}")
            t.check(by.get("deleted", {}).get("reason") == "marked deleted", f"{objs}")
            t.check("msgappend: 2 uploaded" in r.stderr.decode() and "uploaded" not in r.stdout.decode().replace(
                '"uploaded"', ""), out_of(r))
            r = append(dv, "--journal", journal, "--mailbox", "Json", "--json", "--log", log, "--skip-deleted", kw)
            objs = [json.loads(x) for x in r.stdout.decode().splitlines()]
            t.check(r.returncode == 0 and sorted(o["status"] for o in objs) == ["deleted", "skipped", "skipped"]
                    and all(o["reason"] == "the journal shows it uploaded" for o in objs if o["status"] == "skipped"),
                    f"{objs}")
            text = open(log).read()
            t.check(os.stat(log).st_mode & 0o777 == 0o600, oct(os.stat(log).st_mode))
            t.check(len(re.findall(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ msgappend: uploaded .* to Json \(UID \d+\)$",
                                   text, re.M)) == 2
                    and len(re.findall(r"msgappend: skipped .* for Json: the journal shows it uploaded$", text, re.M)) == 2
                    and len(re.findall(r"msgappend: 2 uploaded, 0 skipped", text)) == 1
                    and len(re.findall(r"msgappend: 0 uploaded, 2 skipped", text)) == 1, text)

        with t.case("--json of a mailbox that cannot be used: each message failed, with the server's reason"):
            r = append(dv, "--no-journal", "--mailbox", "Nowhere", "--json", kw)
            objs = [json.loads(x) for x in r.stdout.decode().splitlines()]
            t.check(r.returncode != 0 and len(objs) == 3 and all(
                o["status"] == "failed" and "mailbox 'Nowhere' does not exist" in o["reason"] for o in objs),
                out_of(r))

        with t.case("a failure line names a file whose name holds ESC and BEL without them"):
            d = os.path.join(work, "hostile-names")
            os.makedirs(d)
            open(os.path.join(d, "x\x1b]0;owned\x07.eml"), "wb").close()
            r = append(dv, "--no-journal", "--mailbox", "Json", "-v", "--log", os.path.join(work, "h.log"), d)
            text = out_of(r)
            t.check(r.returncode != 0 and "empty file, no message" in text and "\x1b" not in text
                    and "\x07" not in text,
                    repr(text))
            t.check("\x1b" not in open(os.path.join(work, "h.log")).read(), "nor in the log")

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
            t.check(all(f"failed: {e}\n" in text for e in lay.errors), text)
            t.check(dv.message_count("INBOX", user="notmail") == 1, "the message beside them uploaded")
            lay = LAYOUTS["nothing"]
            r = append(dv, "--no-journal", "--create", lay.path, user="nothing", password=USERS["nothing"])
            text = out_of(r)
            t.check(r.returncode == 66 and "0 uploaded" in text
                    and f"failed: {lay.errors[0]}\n" in text, text)

t.done()
