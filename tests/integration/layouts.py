"""Archives as mail programs leave them, for the tests of msgparse, msgsend -i
and msgappend (see msgtk-archives(5)): mutt's directory of mbox files (one
gzip, one xz), Thunderbird's Local Folders, Apple Mail's bundles (an mbox
file, .emlx files), MH folders; and a tree with what is not mail beside
mail, and one with nothing but that."""
import gzip
import lzma
import os

FROM_LINE = b"From sender@example.org Mon Jan  1 10:00:00 2024\n"


def message(tag, extra=b""):
    """A message of its own Subject and Message-ID, @extra among its fields."""
    t = tag.encode()
    return (b"From: Sender <sender@example.org>\nTo: rcpt@example.org\n" + extra
            + b"Subject: " + t + b"\nMessage-ID: <" + t + b"@example.org>\n\nbody of " + t + b"\n")


def mbox(msgs):
    return b"".join(FROM_LINE + m + b"\n" for m in msgs)


def emlx(msg, flags):
    """Apple Mail's .emlx: the byte count, the message, its property list."""
    return (b"%d\n" % len(msg) + msg + b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0">\n'
            b"<dict>\n\t<key>flags</key>\n\t<integer>%d</integer>\n</dict>\n</plist>\n" % flags)


def put(root, path, data):
    p = os.path.join(root, path)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return p


class Layout:
    """An archive at @path; @folders: {folder: [(message bytes, its IMAP flags)]},
    in the order they are read; @mailboxes: {folder: the mailbox it goes to on a
    server without special uses, '/' between names}; @errors: what the tools
    say of what is not mail in it (after the tool's name), in order."""

    def __init__(self, path, folders, mailboxes, errors=()):
        self.path, self.folders, self.mailboxes, self.errors = path, folders, mailboxes, list(errors)

    def messages(self):
        """[(folder, bytes, flags)] in the order they are read."""
        return [(f, m, fl) for f, ms in self.folders.items() for m, fl in ms]


SEEN, FLAGGED, ANSWERED = "\\Seen", "\\Flagged", "\\Answered"


def write_layouts(root):
    """Every layout, each in a directory of its own under @root: {name: Layout}."""
    out = {}

    d = os.path.join(root, "mutt")  # ~/Mail: each mbox file a folder
    m = {"inbox": [(message("mutt-in-1"), set()), (message("mutt-in-2", b"Status: RO\n"), {SEEN})],
         "sent": [(message("mutt-sent"), set())],
         "old": [(message("mutt-old-1"), set()), (message("mutt-old-2"), set())],
         "lists/dev": [(message("mutt-dev"), set())]}
    put(d, "inbox", mbox([x for x, _ in m["inbox"]]))
    put(d, "sent", mbox([x for x, _ in m["sent"]]))
    put(d, "old.xz", lzma.compress(mbox([x for x, _ in m["old"]]), format=lzma.FORMAT_XZ))
    put(d, "lists/dev.gz", gzip.compress(mbox([x for x, _ in m["lists/dev"]])))
    put(d, ".mutt_cache/headers", b"\0\1 not mail, hidden")
    order = ["inbox", "old", "sent", "lists/dev"]
    out["mutt"] = Layout(d, {k: m[k] for k in order},
                         {"inbox": "INBOX", "old": "old", "sent": "sent", "lists/dev": "lists/dev"})

    d = os.path.join(root, "Local Folders")  # Thunderbird
    mork = b'// <!-- <mdb:mork:z v="1.4"/> -->\n'
    m = {"Archives": [(message("tb-archived"), set())],
         "Inbox": [(message("tb-in-1", b"X-Mozilla-Status: 0001\n"), {SEEN}),
                   (message("tb-in-2", b"X-Mozilla-Status: 0000\n"), set())],
         "Archives/2024": [(message("tb-2024", b"X-Mozilla-Status: 0005\n"), {SEEN, FLAGGED})]}
    put(d, "Inbox", mbox([x for x, _ in m["Inbox"]]))
    put(d, "Archives", mbox([x for x, _ in m["Archives"]]))
    put(d, "Archives.sbd/2024", mbox([x for x, _ in m["Archives/2024"]]))
    for name in ("Inbox.msf", "Archives.msf", "Archives.sbd/2024.msf", "Trash.msf"):
        put(d, name, mork)
    put(d, "Trash", b"")  # an empty folder
    put(d, "msgFilterRules.dat", b'version="9"\nlogging="no"\n')
    put(d, "popstate.dat", b"# POP3 State File\n")
    out["thunderbird"] = Layout(d, m, {"Archives": "Archives", "Inbox": "INBOX",
                                       "Archives/2024": "Archives/2024"})

    d = os.path.join(root, "Mail V10")  # Apple Mail
    m = {"INBOX": [(message("apple-in"), set())],
         "Sent Messages": [(message("apple-sent-1"), {SEEN}), (message("apple-sent-2"), {SEEN, ANSWERED, FLAGGED})]}
    put(d, "INBOX.mbox/mbox", mbox([x for x, _ in m["INBOX"]]))
    put(d, "INBOX.mbox/Info.plist", b'<?xml version="1.0"?>\n<plist version="1.0"><dict/></plist>\n')
    put(d, "INBOX.mbox/table_of_contents", b"\x00\x01\x02")
    put(d, "Sent Messages.mbox/Messages/1.emlx", emlx(m["Sent Messages"][0][0], 1))
    put(d, "Sent Messages.mbox/Messages/2.partial.emlx", emlx(m["Sent Messages"][1][0], 1 | 4 | 16))
    put(d, "Sent Messages.mbox/Messages/2.3.emlxpart", b"%PDF-1.4\n")
    out["apple"] = Layout(d, m, {"INBOX": "INBOX", "Sent Messages": "Sent Messages"})

    d = os.path.join(root, "Mh")  # nmh: ~/Mail/inbox/1, 2, ... 10
    m = {"inbox": [(message(f"mh-{n}"), set() if n == 2 else {SEEN}) for n in (1, 2, 10)],
         "inbox/lists": [(message("mh-lists-1"), set())]}
    for n, (x, _) in zip((1, 2, 10), m["inbox"]):
        put(d, f"inbox/{n}", x)
    put(d, "inbox/.mh_sequences", b"cur: 10\nunseen: 2\n")
    put(d, "inbox/lists/1", m["inbox/lists"][0][0])
    out["mh"] = Layout(d, m, {"inbox": "INBOX", "inbox/lists": "INBOX/lists"})

    d = os.path.join(root, "Mail")  # what is not mail, beside mail
    m = {"inbox": [(message("kept"), set())]}
    put(d, "inbox", mbox([x for x, _ in m["inbox"]]))
    put(d, "notes.txt", b"just notes\n")
    put(d, "junk/a.txt", b"hello\n")
    put(d, "junk/b.bin", b"\0\1\2")
    os.makedirs(os.path.join(d, "empty"))
    out["not-mail"] = Layout(d, m, {"inbox": "INBOX"},
                             [f"{d}/notes.txt: text, not a message",
                              f"{d}/empty: directory of 0 files, no message",
                              f"{d}/junk: directory of 2 files, none a message"])

    d = os.path.join(root, "Nothing")  # nothing but what is not mail
    put(d, "photo.jpg", b"\xff\xd8\xff\xe0\0\x10JFIF\0")
    put(d, "old.gz", gzip.compress(b"not a message\n"))
    out["nothing"] = Layout(d, {}, {}, [f"{d}: directory of 2 files, none a message"])
    return out
