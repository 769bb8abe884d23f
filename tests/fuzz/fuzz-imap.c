/* libFuzzer target: IMAP server responses as the client reads them.
 *
 * The input is everything the server says, start to end: a session over a
 * stream that reads it (msgtk_imap_session_new_for_stream, secure) runs the
 * client operations that read responses — authenticate (LOGIN or the SASL
 * mechanism the fuzzed capabilities offer), LIST delimiter, NAMESPACE, LIST
 * of every mailbox, CREATE, STATUS,
 * UID FETCH of sizes, Message-IDs and flags, then of bodies, APPEND of
 * three small messages (MULTIAPPEND, LITERAL+/-, UIDPLUS, APPENDLIMIT as
 * the fuzzed greeting and CAPABILITY say), LOGOUT — one after the other,
 * APPENDs and STATUS twice, on after a failure (the next command then reads
 * what is left of the input, or finds that it has run out). Every
 * line of the input also goes to the response parser, the literal
 * announcement check and the APPENDUID, FETCH, LIST and NAMESPACE parsers
 * directly.
 *
 * Memory: a literal announcement costs nothing until its bytes arrive (the
 * connection reads them as they come), so what a response can make the
 * client hold is bounded by the input's size. The APPEND back-off between
 * retries of a throttled command sleeps: here it does not (g_usleep below). */
#include "imap-private.h"

#include "fuzz-common.h"

#include <msgtk/msgtk.h>
#include <string.h>

/* The back-off of msgtk_imap_session_append, without the wait: the target
 * stays quick and deterministic however often the input says THROTTLED. */
void
g_usleep (gulong microseconds)
{
  (void)microseconds;
}

static const char mailbox[] = "Archive/R\xc3\xa9sum\xc3\xa9 2024";

static void
check_response (const ImapResponse *r)
{
  gboolean ok;
  switch (r->kind) {
  case IMAP_RESPONSE_TAGGED: ok = r->tag != NULL && r->status != NULL && r->text != NULL; break;
  case IMAP_RESPONSE_UNTAGGED:
    ok = (r->status != NULL) == (r->text != NULL) && (r->status != NULL) != (r->data != NULL);
    break;
  case IMAP_RESPONSE_CONTINUATION: ok = r->text != NULL; break;
  default: ok = FALSE;
  }
  if (!ok || r->literals == NULL)
    __builtin_trap ();
}

/* One line (without its line end) through the parsers, as the response
 * reader gives them (the connection cuts a line at a NUL). */
static void
parse_line (const char *data, gsize len)
{
  g_autofree char *line = g_strndup (data, len);
  gsize n = strlen (line);
  guint64 size = 0;
  if (imap_line_literal (line, n, &size) && (n < 3 || line[n - 1] != '}'))
    __builtin_trap ();
  g_autoptr (GArray) uids = g_array_new (FALSE, FALSE, sizeof (guint32));
  guint32 validity = 0;
  if (imap_parse_appenduid (line, &validity, uids) && (validity == 0 || uids->len == 0))
    __builtin_trap ();
  g_autoptr (GString) quoted = g_string_new (NULL);
  if (imap_quote (quoted, line, FALSE) && !imap_quote (quoted, line, TRUE))
    __builtin_trap ();
  g_autoptr (GError) error = NULL;
  g_autoptr (ImapResponse) r = imap_response_parse (line, NULL, &error);
  if ((r == NULL) == (error == NULL))
    __builtin_trap ();
  if (r == NULL)
    return;
  check_response (r);
  g_autofree char *word = imap_code_word (r->code);
  if ((word == NULL) != (r->code == NULL) || (word != NULL && strchr (word, ' ') != NULL))
    __builtin_trap ();
  if (imap_parse_appenduid (r->code, &validity, uids) && (validity == 0 || uids->len == 0))
    __builtin_trap ();
  /* a FETCH response taken has its sequence number; one refused holds nothing */
  MsgtkImapFetched f;
  gboolean fetch = imap_parse_fetch (r, &f);
  if (fetch ? f.seq == 0 : (f.body != NULL || f.header != NULL || f.flags != NULL))
    __builtin_trap ();
  imap_fetch_clear (&f);
  /* a LIST response taken has a valid UTF-8 name; NAMESPACE's prefix too */
  for (guint utf8 = 0; utf8 < 2; utf8++) {
    MsgtkImapMailboxInfo *info = imap_parse_list (r, utf8);
    if (info != NULL && (info->name == NULL || !g_utf8_validate (info->name, -1, NULL)))
      __builtin_trap ();
    imap_mailbox_info_free (info);
    char *prefix = NULL, delimiter;
    if (imap_parse_namespace (r, utf8, &prefix, &delimiter) && prefix != NULL
        && !g_utf8_validate (prefix, -1, NULL))
      __builtin_trap ();
    g_free (prefix);
  }
}

static void
parse_lines (const guint8 *data, size_t size)
{
  const char *p = (const char *)data, *end = p + size;
  while (p < end) {
    const char *nl = memchr (p, '\n', (gsize)(end - p));
    const char *le = nl ? nl : end;
    gsize len = (gsize)(le - p);
    if (len > 0 && p[len - 1] == '\r')
      len--;
    parse_line (p, len);
    p = nl ? nl + 1 : end;
  }
}

/* ---- the session ---- */

static guint n_settled;

static void
settled (MsgtkImapMessage *messages, guint n, gpointer data)
{
  (void)data;
  for (guint i = 0; i < n; i++) {
    MsgtkImapMessage *m = &messages[i];
    if (m->status == MSGTK_IMAP_APPEND_PENDING
        || (m->status == MSGTK_IMAP_APPEND_REFUSED && m->text == NULL)
        || (m->status == MSGTK_IMAP_APPEND_REFUSED && m->uid != 0)
        || (m->uid != 0) != (m->uidvalidity != 0))
      __builtin_trap ();
  }
  n_settled += n;
}

static gboolean
append (MsgtkImapSession *s, GError **error)
{
  static const char small[] = "From: a@example.org\nSubject: one\n\nbare LF\n.\n";
  static const char crlf[] = "From: b@example.org\r\nSubject: =?utf-8?q?two?=\r\n\r\n"
                             "8-bit \xc3\xa9t\xc3\xa9\r\n";
  g_autofree char *big = g_strnfill (4200, 'x'); /* over LITERAL-'s 4096 */
  memcpy (big, "Subject: three\n\n", 16);
  MsgtkImapMessage m[3] = {
    { .data = g_bytes_new_static (small, sizeof small - 1),
      .flags = MSGTK_FLAG_SEEN | MSGTK_FLAG_FLAGGED,
      .internal_date = g_date_time_new_utc (2024, 2, 29, 23, 59, 1) },
    { .data = g_bytes_new_static (crlf, sizeof crlf - 1) },
    { .data = g_bytes_new (big, 4200), .flags = MSGTK_FLAG_DRAFT },
  };
  MsgtkImapAppendOptions o = {
    .max_count = 2,
    .create = TRUE,
    .backoff_ms = 1,
    .settled = settled,
  };
  n_settled = 0;
  gboolean ok = msgtk_imap_session_append (s, mailbox, m, G_N_ELEMENTS (m), &o, error);
  guint done = 0;
  for (guint i = 0; i < G_N_ELEMENTS (m); i++) {
    done += m[i].status != MSGTK_IMAP_APPEND_PENDING;
    msgtk_imap_message_clear (&m[i]);
  }
  /* each message settled once; all of them when the session could go on */
  if (done != n_settled || (ok && done != G_N_ELEMENTS (m)))
    __builtin_trap ();
  return ok;
}

static gboolean
list (MsgtkImapSession *s, GError **error)
{
  g_autoptr (GPtrArray) mailboxes = msgtk_imap_session_list (s, error);
  return mailboxes != NULL;
}

static gboolean namespace(MsgtkImapSession *s, GError **error)
{
  g_autofree char *prefix = NULL;
  char delimiter;
  gboolean ok = msgtk_imap_session_get_namespace (s, &prefix, &delimiter, error);
  if (ok != (prefix != NULL))
    __builtin_trap ();
  return ok;
}

static gboolean
status (MsgtkImapSession *s, GError **error)
{
  MsgtkImapMailboxStatus st;
  gboolean ok = msgtk_imap_session_status (s, mailbox, &st, error);
  if (ok && !st.exists && (st.uidvalidity != 0 || st.uidnext != 0 || st.messages != 0))
    __builtin_trap ();
  return ok;
}

static void
fetched (const MsgtkImapFetched *m, gpointer data)
{
  const guint32 *range = data;
  /* only messages in the range asked for */
  if (m->uid < range[0] || (range[1] != 0 && m->uid > range[1]))
    __builtin_trap ();
}

static gboolean
fetch_sizes (MsgtkImapSession *s, GError **error)
{
  static const guint32 range[] = { 3, 0 };
  return msgtk_imap_session_uid_fetch (s, mailbox, range[0], range[1],
                                       MSGTK_IMAP_FETCH_SIZE | MSGTK_IMAP_FETCH_MESSAGE_ID
                                           | MSGTK_IMAP_FETCH_FLAGS,
                                       fetched, (gpointer)range, error);
}

static gboolean
fetch_bodies (MsgtkImapSession *s, GError **error)
{
  static const guint32 range[] = { 1, 7 };
  return msgtk_imap_session_uid_fetch (s, mailbox, range[0], range[1], MSGTK_IMAP_FETCH_BODY,
                                       fetched, (gpointer)range, error);
}

static gboolean
delimiter (MsgtkImapSession *s, GError **error)
{
  char d;
  return msgtk_imap_session_get_delimiter (s, &d, error);
}

static gboolean
create (MsgtkImapSession *s, GError **error)
{
  return msgtk_imap_session_create (s, mailbox, error);
}

static MsgtkAccount *account;

static gboolean
authenticate (MsgtkImapSession *s, GError **error)
{
  return msgtk_imap_session_authenticate (s, account, error);
}

static const struct {
  const char *name;
  gboolean (*run) (MsgtkImapSession *s, GError **error);
} operations[] = {
  { "authenticate", authenticate },
  { "delimiter", delimiter },
  { "namespace", namespace },
  { "list", list },
  { "create", create },
  { "status", status },
  { "fetch sizes", fetch_sizes },
  { "fetch bodies", fetch_bodies }, /* in the mailbox left EXAMINE'd */
  { "append", append },
  { "append again", append }, /* the mailbox created by then, or not */
  { "status again", status },
};

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (account == NULL)
    account = fuzz_account ();
  parse_lines (data, size);

  GMemoryOutputStream *client;
  g_autoptr (GIOStream) stream = fuzz_server_stream (data, size, &client);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgtkImapSession) s = msgtk_imap_session_new_for_stream (stream, TRUE, &error);
  fuzz_report (client, "greeting", error);
  if (s == NULL)
    return 0;
  for (guint i = 0; i < G_N_ELEMENTS (operations); i++) {
    g_clear_error (&error);
    gboolean ok = operations[i].run (s, &error);
    if (ok == (error != NULL))
      __builtin_trap ();
    fuzz_report (client, operations[i].name, error);
  }
  msgtk_imap_session_logout (s);
  fuzz_report (client, "logout", NULL);
  return 0;
}
