/* msgtk — IMAP4rev1 client session and resume journal. */
#include "imap-private.h"

#include "sasl-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <msgtk/error.h>
#include <string.h>
#include <unistd.h>

#define MAX_LITERAL (512u * 1024 * 1024)
#define MAX_LINE (1024 * 1024)   /* longest response line (literals excluded) */
#define FLUSH_AT (256 * 1024)    /* send once this much is queued */
#define DATA_CHUNK (1024 * 1024) /* message data is converted and queued in chunks */

struct _MsgtkImapSession {
  MsgtkConnection *conn;
  char *host;
  gboolean secure; /* TLS, or a stream the caller vouches for */
  gboolean authenticated;
  gboolean utf8;
  GHashTable *caps; /* upper-case capability names */
  guint64 append_limit;
  guint tagn;
  gsize queued;          /* bytes queued since the last flush */
  GByteArray *scratch;   /* message data being CRLF-normalised */
  gssize secret_visible; /* >= 0: the next line holds a secret after that many bytes */
  char *auth_mech;
  char *examined;    /* the mailbox left EXAMINE'd by Message-ID searches */
  GHashTable *early; /* tag → completion read while waiting for another */
  char *bye;         /* text of a BYE seen */
};

/* ---------------------------------------------------------------- parsing */

void
imap_response_free (ImapResponse *r)
{
  if (r == NULL)
    return;
  g_free (r->tag);
  g_free (r->status);
  g_free (r->code);
  g_free (r->text);
  g_free (r->data);
  if (r->literals != NULL)
    g_ptr_array_unref (r->literals);
  g_free (r);
}

static gboolean
is_status_word (const char *w, gsize n)
{
  static const char *const words[] = { "OK", "NO", "BAD", "BYE", "PREAUTH" };
  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    if (strlen (words[i]) == n && g_ascii_strncasecmp (w, words[i], n) == 0)
      return TRUE;
  return FALSE;
}

/* "[CODE ...] text" or "text" → code and text */
static void
parse_resp_text (ImapResponse *r, const char *p)
{
  if (*p == '[') {
    const char *end = strchr (p, ']');
    if (end != NULL) {
      r->code = g_strndup (p + 1, end - p - 1);
      p = end + 1;
      if (*p == ' ')
        p++;
    }
  }
  r->text = g_strdup (p);
}

ImapResponse *
imap_response_parse (const char *line, GPtrArray *literals, GError **error)
{
  g_autoptr (ImapResponse) r = g_new0 (ImapResponse, 1);
  r->literals = literals != NULL ? literals
                                 : g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  if (line[0] == '+' && (line[1] == ' ' || line[1] == '\0')) {
    r->kind = IMAP_RESPONSE_CONTINUATION;
    r->text = g_strdup (line[1] ? line + 2 : "");
    return g_steal_pointer (&r);
  }
  const char *sp = strchr (line, ' ');
  if (sp == NULL || sp == line) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                 "malformed IMAP response from the server: '%.80s'", line);
    return NULL;
  }
  const char *rest = sp + 1;
  const char *wend = rest + strcspn (rest, " ");
  gboolean status = is_status_word (rest, wend - rest);
  if (sp - line == 1 && line[0] == '*') {
    r->kind = IMAP_RESPONSE_UNTAGGED;
    if (!status) {
      r->data = g_strdup (rest);
      return g_steal_pointer (&r);
    }
  } else {
    r->kind = IMAP_RESPONSE_TAGGED;
    r->tag = g_strndup (line, sp - line);
    if (!status) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                   "malformed IMAP tagged response from the server: '%.80s'", line);
      return NULL;
    }
  }
  r->status = g_ascii_strup (rest, wend - rest);
  parse_resp_text (r, *wend == ' ' ? wend + 1 : wend);
  return g_steal_pointer (&r);
}

gboolean
imap_line_literal (const char *line, gsize len, guint64 *size)
{
  if (len < 3 || line[len - 1] != '}')
    return FALSE;
  gsize end = len - 1;
  if (line[end - 1] == '+' || line[end - 1] == '-')
    end--;
  gsize i = end;
  while (i > 0 && g_ascii_isdigit (line[i - 1]))
    i--;
  if (i == end || i == 0 || line[i - 1] != '{' || end - i > 12)
    return FALSE;
  *size = g_ascii_strtoull (line + i, NULL, 10);
  return TRUE;
}

gboolean
imap_quote (GString *out, const char *s, gboolean utf8)
{
  for (const char *p = s; *p; p++)
    if (*p == '\r' || *p == '\n' || (!utf8 && (guchar)*p >= 0x80))
      return FALSE;
  if (!g_utf8_validate (s, -1, NULL))
    return FALSE;
  g_string_append_c (out, '"');
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (out, '\\');
    g_string_append_c (out, *p);
  }
  g_string_append_c (out, '"');
  return TRUE;
}

char *
imap_format_date (GDateTime *date)
{
  static const char *const months[]
      = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  GTimeSpan off = g_date_time_get_utc_offset (date) / G_TIME_SPAN_MINUTE;
  char sign = off < 0 ? '-' : '+';
  if (off < 0)
    off = -off;
  return g_strdup_printf ("%02d-%s-%04d %02d:%02d:%02d %c%02d%02d",
                          g_date_time_get_day_of_month (date),
                          months[g_date_time_get_month (date) - 1], g_date_time_get_year (date),
                          g_date_time_get_hour (date), g_date_time_get_minute (date),
                          g_date_time_get_second (date), sign, (int)(off / 60), (int)(off % 60));
}

char *
imap_format_flags (MsgtkFlags flags)
{
  static const struct {
    MsgtkFlags flag;
    const char *name;
  } names[] = { { MSGTK_FLAG_SEEN, "\\Seen" },
                { MSGTK_FLAG_ANSWERED, "\\Answered" },
                { MSGTK_FLAG_FLAGGED, "\\Flagged" },
                { MSGTK_FLAG_DELETED, "\\Deleted" },
                { MSGTK_FLAG_DRAFT, "\\Draft" } };
  GString *s = g_string_new ("(");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (flags & names[i].flag) {
      if (s->len > 1)
        g_string_append_c (s, ' ');
      g_string_append (s, names[i].name);
    }
  g_string_append_c (s, ')');
  return g_string_free (s, FALSE);
}

GArray *
imap_split_batches (const guint64 *sizes, guint n, guint max_count, guint64 max_bytes)
{
  GArray *batches = g_array_new (FALSE, FALSE, sizeof (guint));
  guint count = 0;
  guint64 bytes = 0;
  for (guint i = 0; i < n; i++) {
    if (count > 0 && (count >= max_count || bytes + sizes[i] > max_bytes)) {
      g_array_append_val (batches, count);
      count = 0;
      bytes = 0;
    }
    count++;
    bytes += sizes[i];
  }
  if (count > 0)
    g_array_append_val (batches, count);
  return batches;
}

gboolean
imap_parse_appenduid (const char *code, guint32 *uidvalidity, GArray *uids)
{
  if (code == NULL || g_ascii_strncasecmp (code, "APPENDUID ", 10) != 0)
    return FALSE;
  char *end;
  guint64 v = g_ascii_strtoull (code + 10, &end, 10);
  if (end == code + 10 || *end != ' ' || v == 0 || v > G_MAXUINT32)
    return FALSE;
  const char *p = end + 1;
  g_array_set_size (uids, 0);
  for (;;) {
    guint64 a = g_ascii_strtoull (p, &end, 10), b = a;
    if (end == p || a == 0 || a > G_MAXUINT32)
      return FALSE;
    p = end;
    if (*p == ':') {
      b = g_ascii_strtoull (p + 1, &end, 10);
      if (end == p + 1 || b == 0 || b > G_MAXUINT32)
        return FALSE;
      p = end;
    }
    guint64 lo = MIN (a, b), hi = MAX (a, b);
    if (hi - lo > 1000000)
      return FALSE;
    for (guint64 u = lo; u <= hi; u++) {
      guint32 x = (guint32)u;
      g_array_append_val (uids, x);
    }
    if (*p == ',') {
      p++;
      continue;
    }
    break;
  }
  *uidvalidity = (guint32)v;
  return *p == '\0';
}

gsize
msgtk_imap_crlf_size (const guint8 *data, gsize len)
{
  gsize n = len;
  for (gsize i = 0; i < len; i++)
    if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
      n++;
  return n;
}

void
imap_crlf_append (GByteArray *out, const guint8 *data, gsize len)
{
  gsize start = 0;
  for (gsize i = 0; i < len; i++) {
    if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r')) {
      g_byte_array_append (out, data + start, i - start);
      g_byte_array_append (out, (const guint8 *)"\r\n", 2);
      start = i + 1;
    }
  }
  g_byte_array_append (out, data + start, len - start);
}

/* ------------------------------------------------------ modified UTF-7 */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

char *
msgtk_imap_utf7_encode (const char *utf8)
{
  if (!g_utf8_validate (utf8, -1, NULL))
    return NULL;
  GString *out = g_string_new (NULL);
  gboolean in_run = FALSE;
  guint32 bits = 0;
  int nbits = 0;
  for (const char *p = utf8; *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);
    if (c >= 0x20 && c <= 0x7e) {
      if (in_run) {
        if (nbits > 0)
          g_string_append_c (out, b64[(bits << (6 - nbits)) & 0x3f]);
        g_string_append_c (out, '-');
        in_run = FALSE;
        bits = 0;
        nbits = 0;
      }
      if (c == '&')
        g_string_append (out, "&-");
      else
        g_string_append_c (out, (char)c);
      continue;
    }
    if (!in_run) {
      g_string_append_c (out, '&');
      in_run = TRUE;
    }
    gunichar2 units[2];
    int nu = 1;
    if (c >= 0x10000) {
      units[0] = 0xd800 + ((c - 0x10000) >> 10);
      units[1] = 0xdc00 + ((c - 0x10000) & 0x3ff);
      nu = 2;
    } else {
      units[0] = (gunichar2)c;
    }
    for (int u = 0; u < nu; u++) {
      bits = (bits << 16) | units[u];
      nbits += 16;
      while (nbits >= 6) {
        nbits -= 6;
        g_string_append_c (out, b64[(bits >> nbits) & 0x3f]);
      }
      bits &= (1u << nbits) - 1;
    }
  }
  if (in_run) {
    if (nbits > 0)
      g_string_append_c (out, b64[(bits << (6 - nbits)) & 0x3f]);
    g_string_append_c (out, '-');
  }
  return g_string_free (out, FALSE);
}

char *
msgtk_imap_utf7_decode (const char *s)
{
  g_autoptr (GString) out = g_string_new (NULL);
  for (const char *p = s; *p;) {
    guchar c = (guchar)*p;
    if (c < 0x20 || c > 0x7e)
      return NULL;
    if (c != '&') {
      g_string_append_c (out, (char)c);
      p++;
      continue;
    }
    p++;
    if (*p == '-') {
      g_string_append_c (out, '&');
      p++;
      continue;
    }
    g_autoptr (GArray) units = g_array_new (FALSE, FALSE, sizeof (gunichar2));
    guint32 bits = 0;
    int nbits = 0;
    while (*p && *p != '-') {
      const char *k = strchr (b64, *p);
      if (k == NULL)
        return NULL;
      bits = (bits << 6) | (guint32)(k - b64);
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        gunichar2 u = (gunichar2)((bits >> nbits) & 0xffff);
        g_array_append_val (units, u);
        bits &= (1u << nbits) - 1;
      }
      p++;
    }
    if (*p != '-' || units->len == 0 || nbits >= 6 || bits != 0)
      return NULL;
    p++;
    g_autofree char *u8
        = g_utf16_to_utf8 ((const gunichar2 *)units->data, units->len, NULL, NULL, NULL);
    if (u8 == NULL)
      return NULL;
    g_string_append (out, u8);
  }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* --------------------------------------------------------------- session */

/* The first word of a response code ("APPENDUID 1 2" → "APPENDUID"). */
static char *
code_word (const char *code)
{
  return code ? g_strndup (code, strcspn (code, " ")) : NULL;
}

static void
set_caps (MsgtkImapSession *s, const char *list)
{
  g_hash_table_remove_all (s->caps);
  s->append_limit = 0;
  g_auto (GStrv) words = g_strsplit (list, " ", -1);
  for (guint i = 0; words[i]; i++) {
    if (*words[i] == '\0')
      continue;
    char *up = g_ascii_strup (words[i], -1);
    if (g_str_has_prefix (up, "APPENDLIMIT="))
      s->append_limit = g_ascii_strtoull (up + 12, NULL, 10);
    g_hash_table_add (s->caps, up);
  }
}

static void
handle_code (MsgtkImapSession *s, ImapResponse *r)
{
  if (r->code == NULL)
    return;
  if (g_ascii_strncasecmp (r->code, "CAPABILITY ", 11) == 0)
    set_caps (s, r->code + 11);
  else if (g_ascii_strcasecmp (r->code, "ALERT") == 0)
    g_printerr ("IMAP server %s alert: %s\n", s->host, r->text);
}

/* Untagged responses may come at any time; take what matters. */
static void
handle_untagged (MsgtkImapSession *s, ImapResponse *r)
{
  if (r->status != NULL) {
    handle_code (s, r);
    if (strcmp (r->status, "BYE") == 0) {
      g_free (s->bye);
      s->bye = g_strdup (r->text);
    }
  } else if (g_ascii_strncasecmp (r->data, "CAPABILITY ", 11) == 0) {
    set_caps (s, r->data + 11);
  }
}

static gboolean
flush (MsgtkImapSession *s, GError **error)
{
  s->queued = 0;
  return msgtk_connection_flush (s->conn, error);
}

/* Queue a command line (CRLF added); the part of a command that holds a
 * secret goes out redacted in the trace (see secret_visible). */
static void
queue_line (MsgtkImapSession *s, GString *line)
{
  if (s->secret_visible >= 0) {
    msgtk_connection_queue_secret_line (s->conn, line->str, (gsize)s->secret_visible);
    s->secret_visible = 0;
  } else {
    msgtk_connection_queue_line (s->conn, line->str);
  }
  s->queued += line->len + 2;
  g_string_truncate (line, 0);
}

static gboolean
queue_message_data (MsgtkImapSession *s, GBytes *data, GError **error)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (data, &len);
  for (gsize off = 0; off < len; off += DATA_CHUNK) {
    gsize n = MIN (DATA_CHUNK, len - off);
    g_byte_array_set_size (s->scratch, 0);
    /* a LF at the chunk start needs to know the byte before it */
    if (off > 0 && p[off] == '\n' && p[off - 1] != '\r') {
      g_byte_array_append (s->scratch, (const guint8 *)"\r\n", 2);
      imap_crlf_append (s->scratch, p + off + 1, n - 1);
    } else {
      imap_crlf_append (s->scratch, p + off, n);
    }
    msgtk_connection_queue_data (s->conn, s->scratch->data, s->scratch->len);
    s->queued += s->scratch->len;
    if (s->queued >= FLUSH_AT && !flush (s, error))
      return FALSE;
  }
  return TRUE;
}

static void
set_read_error (MsgtkImapSession *s, GError *local, GError **error)
{
  if (s->bye != NULL && g_error_matches (local, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_TEMP_FAIL,
                 "the IMAP server %s closed the connection: BYE %s", s->host, s->bye);
    g_error_free (local);
  } else {
    g_propagate_error (error, local);
  }
}

static ImapResponse *
read_response (MsgtkImapSession *s, GError **error)
{
  g_autoptr (GString) line = g_string_new (NULL);
  GPtrArray *lits = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  for (;;) {
    GError *local = NULL;
    g_autofree char *l = msgtk_connection_read_line (s->conn, &local);
    if (l == NULL) {
      g_ptr_array_unref (lits);
      set_read_error (s, local, error);
      return NULL;
    }
    gsize n = strlen (l);
    g_string_append_len (line, l, n);
    guint64 size;
    if (!imap_line_literal (l, n, &size))
      break;
    if (size > MAX_LITERAL) {
      g_ptr_array_unref (lits);
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                   "the IMAP server sent a literal of %" G_GUINT64_FORMAT " bytes (too big)", size);
      return NULL;
    }
    GBytes *b = msgtk_connection_read_bytes (s->conn, (gsize)size, &local);
    if (b == NULL) {
      g_ptr_array_unref (lits);
      set_read_error (s, local, error);
      return NULL;
    }
    g_ptr_array_add (lits, b);
  }
  return imap_response_parse (line->str, lits, error);
}

/* A completion of a command other than the one waited for (commands in
 * flight may complete in any order): kept until its command is waited for. */
static void
keep_early (MsgtkImapSession *s, ImapResponse *r)
{
  handle_code (s, r);
  g_hash_table_replace (s->early, g_strdup (r->tag), r);
}

/* Read until the tagged completion of @tag; untagged data is handled and, if
 * @untagged is set, collected there. */
static ImapResponse *
wait_tagged (MsgtkImapSession *s, const char *tag, GPtrArray *untagged, GError **error)
{
  gpointer early_tag, early;
  if (g_hash_table_steal_extended (s->early, tag, &early_tag, &early)) {
    g_free (early_tag);
    return early;
  }
  if (!flush (s, error))
    return NULL;
  for (;;) {
    ImapResponse *r = read_response (s, error);
    if (r == NULL)
      return NULL;
    if (r->kind == IMAP_RESPONSE_TAGGED && strcmp (r->tag, tag) == 0) {
      handle_code (s, r);
      return r;
    }
    if (r->kind == IMAP_RESPONSE_TAGGED) {
      keep_early (s, r);
      continue;
    }
    if (r->kind == IMAP_RESPONSE_UNTAGGED) {
      handle_untagged (s, r);
      if (untagged != NULL) {
        g_ptr_array_add (untagged, r);
        continue;
      }
    }
    /* stray continuations are ignored */
    imap_response_free (r);
  }
}

/* Wait for a continuation request (its text into *@text when @text is not
 * NULL); if the command completes instead, return FALSE with *@done set to
 * its completion. */
static gboolean
wait_continuation (MsgtkImapSession *s, const char *tag, char **text, ImapResponse **done,
                   GError **error)
{
  *done = NULL;
  if (!flush (s, error))
    return FALSE;
  for (;;) {
    g_autoptr (ImapResponse) r = read_response (s, error);
    if (r == NULL)
      return FALSE;
    if (r->kind == IMAP_RESPONSE_CONTINUATION) {
      if (text != NULL)
        *text = g_steal_pointer (&r->text);
      return TRUE;
    }
    if (r->kind == IMAP_RESPONSE_TAGGED && strcmp (r->tag, tag) == 0) {
      handle_code (s, r);
      *done = g_steal_pointer (&r);
      return FALSE;
    }
    if (r->kind == IMAP_RESPONSE_TAGGED)
      keep_early (s, g_steal_pointer (&r));
    else if (r->kind == IMAP_RESPONSE_UNTAGGED)
      handle_untagged (s, r);
  }
}

/* Whether a literal of @size may be sent without waiting for '+': LITERAL+,
 * or LITERAL- up to 4096 bytes (RFC 7888). */
static gboolean
nonsync_ok (MsgtkImapSession *s, guint64 size)
{
  return msgtk_imap_session_has_capability (s, "LITERAL+")
         || (msgtk_imap_session_has_capability (s, "LITERAL-") && size <= 4096);
}

/* Append string @str to the command being built in @cmd: quoted, or as a
 * literal (sending what is before it and waiting for '+' when it must). */
static gboolean
cmd_string (MsgtkImapSession *s, GString *cmd, const char *tag, const char *str,
            ImapResponse **done, GError **error)
{
  *done = NULL;
  if (imap_quote (cmd, str, s->utf8))
    return TRUE;
  gsize len = strlen (str);
  gboolean nonsync = nonsync_ok (s, len);
  g_string_append_printf (cmd, "{%zu%s}", len, nonsync ? "+" : "");
  queue_line (s, cmd);
  if (!nonsync && !wait_continuation (s, tag, NULL, done, error))
    return FALSE;
  g_string_append_len (cmd, str, len);
  return TRUE;
}

static char *
next_tag (MsgtkImapSession *s)
{
  return g_strdup_printf ("A%04u", ++s->tagn);
}

static MsgtkError
status_error_code (ImapResponse *r)
{
  return strcmp (r->status, "BAD") == 0 ? MSGTK_ERROR_PROTOCOL : MSGTK_ERROR_UNAVAILABLE;
}

/* Run a command without literals; return its completion. */
static ImapResponse *
simple_command (MsgtkImapSession *s, const char *command, GPtrArray *untagged, GError **error)
{
  g_autofree char *tag = next_tag (s);
  g_autoptr (GString) line = g_string_new (NULL);
  g_string_printf (line, "%s %s", tag, command);
  queue_line (s, line);
  return wait_tagged (s, tag, untagged, error);
}

/* Finish a command built in @cmd (unless a literal wait already completed
 * it: *@done) and wait for its completion. */
static ImapResponse *
finish_command (MsgtkImapSession *s, GString *cmd, const char *tag, ImapResponse *done,
                GPtrArray *untagged, GError **error)
{
  if (done != NULL)
    return done;
  queue_line (s, cmd);
  return wait_tagged (s, tag, untagged, error);
}

static gboolean
require_ok (ImapResponse *r, const char *what, GError **error)
{
  if (strcmp (r->status, "OK") == 0)
    return TRUE;
  g_set_error (error, MSGTK_ERROR, status_error_code (r), "IMAP %s failed: %s%s%s%s", what,
               r->code ? "[" : "", r->code ? r->code : "", r->code ? "] " : "", r->text);
  return FALSE;
}

static gboolean
refresh_caps (MsgtkImapSession *s, GError **error)
{
  g_autoptr (ImapResponse) r = simple_command (s, "CAPABILITY", NULL, error);
  return r != NULL && require_ok (r, "CAPABILITY", error);
}

static gboolean
read_greeting (MsgtkImapSession *s, GError **error)
{
  g_autoptr (ImapResponse) r = read_response (s, error);
  if (r == NULL)
    return FALSE;
  if (r->kind != IMAP_RESPONSE_UNTAGGED || r->status == NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                 "the server %s did not greet like an IMAP server", s->host);
    return FALSE;
  }
  handle_code (s, r);
  if (strcmp (r->status, "BYE") == 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE,
                 "the IMAP server %s refused the connection: %s", s->host, r->text);
    return FALSE;
  }
  if (strcmp (r->status, "PREAUTH") == 0)
    s->authenticated = TRUE;
  else if (strcmp (r->status, "OK") != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL, "unexpected IMAP greeting: %s %s",
                 r->status, r->text);
    return FALSE;
  }
  if (g_hash_table_size (s->caps) == 0)
    return refresh_caps (s, error);
  return TRUE;
}

static MsgtkImapSession *
session_new (MsgtkConnection *conn, const char *host, gboolean secure)
{
  MsgtkImapSession *s = g_new0 (MsgtkImapSession, 1);
  s->conn = conn;
  s->host = g_strdup (host);
  s->secure = secure;
  s->secret_visible = -1;
  s->scratch = g_byte_array_new ();
  s->caps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  s->early
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)imap_response_free);
  return s;
}

static void
imap_connection_config (MsgtkConnectionConfig *cfg)
{
  cfg->protocol = "IMAP";
  cfg->max_line = MAX_LINE;
}

MsgtkImapSession *
msgtk_imap_session_new_for_stream (GIOStream *stream, gboolean secure, GError **error)
{
  MsgtkConnectionConfig cfg = { .host = "localhost" };
  imap_connection_config (&cfg);
  g_autoptr (MsgtkImapSession) s
      = session_new (msgtk_connection_new_for_stream (stream, &cfg), cfg.host, secure);
  if (!read_greeting (s, error))
    return NULL;
  return g_steal_pointer (&s);
}

void
msgtk_imap_session_free (MsgtkImapSession *s)
{
  if (s == NULL)
    return;
  msgtk_connection_close (s->conn);
  msgtk_connection_free (s->conn);
  g_byte_array_unref (s->scratch);
  g_hash_table_unref (s->caps);
  g_hash_table_unref (s->early);
  g_free (s->host);
  g_free (s->bye);
  g_free (s->auth_mech);
  g_free (s->examined);
  g_free (s);
}

gboolean
msgtk_imap_session_starttls (MsgtkImapSession *s, GError **error)
{
  if (s->authenticated) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE,
                 "the IMAP server %s pre-authenticated the connection before STARTTLS; refusing",
                 s->host);
    return FALSE;
  }
  if (!msgtk_imap_session_has_capability (s, "STARTTLS")) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE,
                 "the IMAP server %s does not offer STARTTLS, which this account requires; "
                 "nothing was sent (use --tls implicit for a TLS port such as 993, or --tls none "
                 "only on a trusted network)",
                 s->host);
    return FALSE;
  }
  g_autoptr (ImapResponse) r = simple_command (s, "STARTTLS", NULL, error);
  if (r == NULL || !require_ok (r, "STARTTLS", error))
    return FALSE;
  if (!msgtk_connection_starttls (s->conn, error))
    return FALSE;
  s->secure = TRUE;
  /* what the server said in clear no longer counts */
  g_hash_table_remove_all (s->caps);
  s->append_limit = 0;
  return refresh_caps (s, error);
}

MsgtkImapSession *
msgtk_imap_session_connect (MsgtkAccount *account, FILE *trace, GError **error)
{
  MsgtkConnectionConfig cfg = { 0 };
  msgtk_account_connection_config (account, &cfg);
  imap_connection_config (&cfg);
  if (cfg.host == NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "no IMAP server given: use --host or an account with a host");
    return NULL;
  }
  if (cfg.port == 0)
    cfg.port = cfg.tls == MSGTK_TLS_IMPLICIT ? 993 : 143;
  MsgtkConnection *conn = msgtk_connection_open (&cfg, error);
  if (conn == NULL)
    return NULL;
  msgtk_connection_set_trace (conn, trace);
  g_autoptr (MsgtkImapSession) s = session_new (conn, cfg.host, msgtk_connection_is_tls (conn));
  if (!read_greeting (s, error))
    return NULL;
  if (cfg.tls == MSGTK_TLS_STARTTLS && !msgtk_imap_session_starttls (s, error))
    return NULL;
  return g_steal_pointer (&s);
}

gboolean
msgtk_imap_session_has_capability (MsgtkImapSession *s, const char *capability)
{
  g_autofree char *up = g_ascii_strup (capability, -1);
  return g_hash_table_contains (s->caps, up);
}

guint64
msgtk_imap_session_get_append_limit (MsgtkImapSession *s)
{
  return s->append_limit;
}

const char *
msgtk_imap_session_get_auth_mechanism (MsgtkImapSession *s)
{
  return s->auth_mech;
}

gboolean
msgtk_imap_session_is_utf8 (MsgtkImapSession *s)
{
  return s->utf8;
}

/* The SASL mechanisms offered (AUTH=X capabilities), space-separated. */
static char *
offered_mechanisms (MsgtkImapSession *s)
{
  GString *out = g_string_new (NULL);
  GHashTableIter it;
  gpointer key;
  g_hash_table_iter_init (&it, s->caps);
  while (g_hash_table_iter_next (&it, &key, NULL))
    if (g_str_has_prefix (key, "AUTH="))
      g_string_append_printf (out, "%s%s", out->len ? " " : "", (const char *)key + 5);
  return g_string_free (out, FALSE);
}

/* IMAP AUTHENTICATE as a SASL profile (RFC 3501 6.2.2, RFC 4959 SASL-IR):
 * continuation requests are the challenges, the tagged completion is the
 * outcome (the OK kept in @done for its response code). */
typedef struct {
  MsgtkImapSession *s;
  char *tag;
  ImapResponse *done;
} ImapAuth;

static void
auth_start (gpointer session, const char *mech, const char *initial)
{
  ImapAuth *a = session;
  g_autoptr (GString) cmd = g_string_new (NULL);
  g_string_printf (cmd, "%s AUTHENTICATE %s", a->tag, mech);
  if (initial != NULL) {
    a->s->secret_visible = (gssize)cmd->len;
    g_string_append_printf (cmd, " %s", initial);
  }
  queue_line (a->s, cmd);
  memset (cmd->str, 0, cmd->allocated_len); /* it held the initial response */
}

static void
auth_respond (gpointer session, const char *response)
{
  ImapAuth *a = session;
  g_autoptr (GString) line = g_string_new (response);
  a->s->secret_visible = 0;
  queue_line (a->s, line);
  memset (line->str, 0, line->allocated_len);
}

static void
auth_cancel (gpointer session)
{
  ImapAuth *a = session;
  g_autoptr (GString) line = g_string_new ("*");
  a->s->secret_visible = -1; /* no secret in it */
  queue_line (a->s, line);
}

/* The error code and hint for a refused authentication: [UNAVAILABLE]
 * means the server's authentication service is down for now (RFC 5530). */
static void
auth_refusal (ImapResponse *r, MsgtkSaslReply *reply)
{
  g_autofree char *word = code_word (r->code);
  reply->outcome = MSGTK_SASL_FAILURE;
  reply->code = g_ascii_strcasecmp (word ? word : "", "UNAVAILABLE") == 0 ? MSGTK_ERROR_TEMP_FAIL
                                                                          : MSGTK_ERROR_NO_PERM;
  reply->hint = word == NULL || g_ascii_strcasecmp (word, "AUTHENTICATIONFAILED") == 0
                    ? MSGTK_ERROR_HINT_CHECK_CREDENTIALS
                    : MSGTK_ERROR_HINT_NONE;
  reply->text = g_strdup_printf ("%s%s%s%s", r->code ? "[" : "", r->code ? r->code : "",
                                 r->code ? "] " : "", r->text);
}

static gboolean
auth_read (gpointer session, MsgtkSaslReply *reply, GError **error)
{
  ImapAuth *a = session;
  char *challenge = NULL;
  ImapResponse *done = NULL;
  if (wait_continuation (a->s, a->tag, &challenge, &done, error)) {
    reply->outcome = MSGTK_SASL_CHALLENGE;
    reply->data = challenge;
    return TRUE;
  }
  if (done == NULL)
    return FALSE;
  imap_response_free (a->done);
  a->done = done;
  if (strcmp (done->status, "OK") == 0)
    reply->outcome = MSGTK_SASL_SUCCESS;
  else
    auth_refusal (done, reply);
  return TRUE;
}

/* AUTHENTICATE @mech; returns the OK completion (NULL with @error when the
 * exchange failed or the server refused). */
static ImapResponse *
sasl_exchange (MsgtkImapSession *s, const char *mech, MsgtkAccount *account, const char *password,
               const char *token, GError **error)
{
  g_autoptr (MsgtkSasl) sasl
      = msgtk_sasl_new (mech, account->user, password, token, "imap", s->host, error);
  if (sasl == NULL)
    return NULL;
  ImapAuth a = { .s = s, .tag = next_tag (s) };
  const MsgtkSaslProfile profile = {
    .protocol = "IMAP",
    .connection = s->conn,
    .initial_response = msgtk_imap_session_has_capability (s, "SASL-IR"),
    .start = auth_start,
    .respond = auth_respond,
    .cancel = auth_cancel,
    .read = auth_read,
  };
  gboolean ok = msgtk_sasl_exchange (sasl, &profile, &a, error);
  s->secret_visible = -1;
  g_free (a.tag);
  if (!ok)
    g_clear_pointer (&a.done, imap_response_free);
  return a.done;
}

/* LOGIN user password: quoted strings, or literals. */
static ImapResponse *
login_command (MsgtkImapSession *s, const char *user, const char *password, GError **error)
{
  g_autofree char *tag = next_tag (s);
  g_autoptr (GString) cmd = g_string_new (NULL);
  g_string_printf (cmd, "%s LOGIN", tag);
  s->secret_visible = (gssize)cmd->len;
  g_string_append_c (cmd, ' ');
  ImapResponse *done = NULL;
  gboolean ok = cmd_string (s, cmd, tag, user, &done, error);
  if (ok) {
    g_string_append_c (cmd, ' ');
    ok = cmd_string (s, cmd, tag, password, &done, error);
  }
  ImapResponse *r = ok ? finish_command (s, cmd, tag, NULL, NULL, error) : done;
  s->secret_visible = -1;
  memset (cmd->str, 0, cmd->allocated_len); /* it held the password */
  return r;
}

gboolean
msgtk_imap_session_authenticate (MsgtkImapSession *s, MsgtkAccount *account, GError **error)
{
  if (!s->authenticated) {
    if (!msgtk_sasl_check_secure (account, s->secure, "IMAP", s->host, error))
      return FALSE;
    char *password = NULL, *token = NULL;
    if (!msgtk_account_get_secret (account, &password, &token, error))
      return FALSE;
    msgtk_connection_add_secret (s->conn, password);
    msgtk_connection_add_secret (s->conn, token);
    g_autofree char *offered = offered_mechanisms (s);
    g_autoptr (GError) choose = NULL;
    const char *mech = msgtk_sasl_choose (offered, account->auth, token != NULL, &choose);
    /* the LOGIN command sends the password as PLAIN would */
    gboolean login_allowed = token == NULL
                             && !msgtk_imap_session_has_capability (s, "LOGINDISABLED")
                             && (account->auth == NULL
                                 || msgtk_sasl_choose ("PLAIN LOGIN", account->auth, FALSE, NULL));
    g_autoptr (ImapResponse) r = NULL;
    if (mech != NULL) {
      r = sasl_exchange (s, mech, account, password, token, error);
    } else if (login_allowed) {
      r = login_command (s, account->user, password, error);
      if (r != NULL && strcmp (r->status, "OK") != 0) {
        MsgtkSaslReply refusal = { 0 };
        auth_refusal (r, &refusal);
        msgtk_sasl_set_refused (error, "IMAP", s->host, "LOGIN", account->user, &refusal);
        msgtk_sasl_reply_clear (&refusal);
        g_clear_pointer (&r, imap_response_free);
      }
    } else {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE, "IMAP server %s: %s%s", s->host,
                   choose->message,
                   msgtk_imap_session_has_capability (s, "LOGINDISABLED") ? " (LOGINDISABLED)"
                                                                          : "");
    }
    msgtk_secret_free (password);
    msgtk_secret_free (token);
    if (r == NULL)
      return FALSE;
    s->authenticated = TRUE;
    s->auth_mech = g_strdup (mech ? mech : "LOGIN");
    if (r->code == NULL || g_ascii_strncasecmp (r->code, "CAPABILITY ", 11) != 0)
      if (!refresh_caps (s, error))
        return FALSE;
  }
  if (!s->utf8 && msgtk_imap_session_has_capability (s, "UTF8=ACCEPT")) {
    g_autoptr (ImapResponse) r = simple_command (s, "ENABLE UTF8=ACCEPT", NULL, error);
    if (r == NULL)
      return FALSE;
    s->utf8 = strcmp (r->status, "OK") == 0;
  }
  return TRUE;
}

static char *
encode_mailbox (MsgtkImapSession *s, const char *name, GError **error)
{
  char *m = s->utf8 ? g_strdup (name) : msgtk_imap_utf7_encode (name);
  if (m == NULL || !g_utf8_validate (name, -1, NULL))
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "mailbox name '%s' is not valid UTF-8",
                 name);
  return m;
}

/* A command with one mailbox argument and nothing after it but @suffix. */
static ImapResponse *
mailbox_command (MsgtkImapSession *s, const char *verb, const char *mailbox, const char *suffix,
                 GPtrArray *untagged, GError **error)
{
  g_autofree char *m = encode_mailbox (s, mailbox, error);
  if (m == NULL)
    return NULL;
  g_autofree char *tag = next_tag (s);
  g_autoptr (GString) cmd = g_string_new (tag);
  g_string_append_printf (cmd, " %s ", verb);
  ImapResponse *done = NULL;
  if (!cmd_string (s, cmd, tag, m, &done, error))
    return done;
  g_string_append (cmd, suffix ? suffix : "");
  return finish_command (s, cmd, tag, NULL, untagged, error);
}

gboolean
msgtk_imap_session_get_delimiter (MsgtkImapSession *s, char *delimiter, GError **error)
{
  g_autoptr (GPtrArray) untagged
      = g_ptr_array_new_with_free_func ((GDestroyNotify)imap_response_free);
  g_autoptr (ImapResponse) r = simple_command (s, "LIST \"\" \"\"", untagged, error);
  if (r == NULL || !require_ok (r, "LIST", error))
    return FALSE;
  *delimiter = '\0';
  for (guint i = 0; i < untagged->len; i++) {
    ImapResponse *u = untagged->pdata[i];
    if (u->data == NULL || g_ascii_strncasecmp (u->data, "LIST ", 5) != 0)
      continue;
    const char *p = strchr (u->data, ')');
    if (p == NULL)
      continue;
    p++;
    while (*p == ' ')
      p++;
    if (p[0] == '"') {
      *delimiter = p[1] == '\\' ? p[2] : p[1];
    }
    return TRUE;
  }
  return TRUE;
}

gboolean
msgtk_imap_session_create (MsgtkImapSession *s, const char *mailbox, GError **error)
{
  g_autoptr (ImapResponse) r = mailbox_command (s, "CREATE", mailbox, NULL, NULL, error);
  if (r == NULL)
    return FALSE;
  if (strcmp (r->status, "OK") == 0
      || (r->code != NULL && g_ascii_strcasecmp (r->code, "ALREADYEXISTS") == 0))
    return TRUE;
  g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot create mailbox '%s': %s",
               mailbox, r->text);
  return FALSE;
}

gboolean
msgtk_imap_session_search_message_id (MsgtkImapSession *s, const char *mailbox,
                                      const char *message_id, gboolean *found, GError **error)
{
  *found = FALSE;
  if (g_strcmp0 (s->examined, mailbox) != 0) {
    /* one EXAMINE for a run of searches in the same mailbox (the server
     * shows messages other sessions add in the meantime) */
    g_clear_pointer (&s->examined, g_free);
    g_autoptr (ImapResponse) ex = mailbox_command (s, "EXAMINE", mailbox, NULL, NULL, error);
    if (ex == NULL)
      return FALSE;
    if (strcmp (ex->status, "OK") != 0)
      return TRUE; /* no such mailbox: nothing there */
    s->examined = g_strdup (mailbox);
  }
  g_autofree char *tag = next_tag (s);
  g_autoptr (GString) cmd = g_string_new (tag);
  g_string_append (cmd, " UID SEARCH HEADER Message-ID ");
  ImapResponse *done = NULL;
  if (!cmd_string (s, cmd, tag, message_id, &done, error) && done == NULL)
    return FALSE;
  g_autoptr (GPtrArray) untagged
      = g_ptr_array_new_with_free_func ((GDestroyNotify)imap_response_free);
  g_autoptr (ImapResponse) r = finish_command (s, cmd, tag, done, untagged, error);
  if (r == NULL || !require_ok (r, "UID SEARCH", error))
    return FALSE;
  for (guint i = 0; i < untagged->len; i++) {
    ImapResponse *u = untagged->pdata[i];
    if (u->data != NULL && g_ascii_strncasecmp (u->data, "SEARCH", 6) == 0 && u->data[6] == ' '
        && g_ascii_isdigit (u->data[7]))
      *found = TRUE;
  }
  return TRUE;
}

void
msgtk_imap_message_clear (MsgtkImapMessage *m)
{
  g_clear_pointer (&m->data, g_bytes_unref);
  g_clear_pointer (&m->internal_date, g_date_time_unref);
  g_clear_pointer (&m->text, g_free);
  g_clear_pointer (&m->code, g_free);
}

/* Send one APPEND command for @n messages. Returns its tag once it is all
 * queued (its completion still to be read), or NULL when it ended early: a
 * synchronising literal was answered with a completion (*@done), or the
 * connection failed (@error). */
static char *
append_send (MsgtkImapSession *s, const char *m, MsgtkImapMessage *msgs, guint n,
             const MsgtkImapAppendOptions *o, ImapResponse **done, GError **error)
{
  *done = NULL;
  if (o->sending != NULL)
    o->sending (msgs, n, o->data);
  g_autofree char *tag = next_tag (s);
  g_autoptr (GString) cmd = g_string_new (tag);
  g_string_append (cmd, " APPEND ");
  if (!cmd_string (s, cmd, tag, m, done, error))
    return NULL;
  for (guint i = 0; i < n; i++) {
    gsize len;
    const guint8 *p = g_bytes_get_data (msgs[i].data, &len);
    gsize size = msgtk_imap_crlf_size (p, len);
    g_autofree char *flags = imap_format_flags (msgs[i].flags);
    g_string_append_printf (cmd, " %s", flags);
    if (msgs[i].internal_date != NULL) {
      g_autofree char *date = imap_format_date (msgs[i].internal_date);
      g_string_append_printf (cmd, " \"%s\"", date);
    }
    gboolean nonsync = nonsync_ok (s, size);
    g_string_append_printf (cmd, " {%zu%s}", size, nonsync ? "+" : "");
    queue_line (s, cmd);
    if (!nonsync && !wait_continuation (s, tag, NULL, done, error))
      return NULL;
    if (!queue_message_data (s, msgs[i].data, error))
      return NULL;
  }
  queue_line (s, cmd);
  return g_steal_pointer (&tag);
}

/* Whether an APPEND of @msgs to @m goes out without waiting for any '+'. */
static gboolean
append_nonsync (MsgtkImapSession *s, const char *m, MsgtkImapMessage *msgs, guint n)
{
  g_autoptr (GString) q = g_string_new (NULL);
  if (!imap_quote (q, m, s->utf8) && !nonsync_ok (s, strlen (m)))
    return FALSE;
  for (guint i = 0; i < n; i++) {
    gsize len;
    const guint8 *p = g_bytes_get_data (msgs[i].data, &len);
    if (!nonsync_ok (s, msgtk_imap_crlf_size (p, len)))
      return FALSE;
  }
  return TRUE;
}

/* One APPEND command for @n messages. Returns the completion (NULL + error when the
 * connection failed). */
static ImapResponse *
append_command (MsgtkImapSession *s, const char *m, MsgtkImapMessage *msgs, guint n,
                const MsgtkImapAppendOptions *o, GError **error)
{
  ImapResponse *done = NULL;
  g_autofree char *tag = append_send (s, m, msgs, n, o, &done, error);
  if (tag == NULL)
    return done;
  return wait_tagged (s, tag, NULL, error);
}

static void
refuse (MsgtkImapMessage *msg, const char *code, const char *text)
{
  msg->status = MSGTK_IMAP_APPEND_REFUSED;
  g_free (msg->code);
  g_free (msg->text);
  msg->code = code_word (code);
  msg->text = g_strdup (text);
}

/* Carry an APPEND of @msgs through to a settled state: @first is the
 * completion of a command already sent (taken over; NULL: send it now), sent
 * when *@created was @first_created.
 * TRYCREATE creates the mailbox (once) and retries, a throttling reply backs
 * off and retries, a refused batch is retried one message at a time. */
static gboolean
append_batch (MsgtkImapSession *s, const char *mailbox, const char *m, MsgtkImapMessage *msgs,
              guint n, const MsgtkImapAppendOptions *o, gboolean *created, ImapResponse *first,
              gboolean first_created, GError **error)
{
  g_autoptr (ImapResponse) r = first;
  /* a command sent before the mailbox was created may still say TRYCREATE */
  gboolean created_before = first != NULL ? first_created : *created;
  for (guint attempt = 0;; attempt++) {
    if (r == NULL) {
      created_before = *created;
      r = append_command (s, m, msgs, n, o, error);
      if (r == NULL)
        return FALSE;
    }
    if (strcmp (r->status, "OK") == 0) {
      g_autoptr (GArray) uids = g_array_new (FALSE, FALSE, sizeof (guint32));
      guint32 validity = 0;
      gboolean have = imap_parse_appenduid (r->code, &validity, uids) && uids->len == n;
      for (guint i = 0; i < n; i++) {
        msgs[i].status = MSGTK_IMAP_APPEND_OK;
        msgs[i].uidvalidity = have ? validity : 0;
        msgs[i].uid = have ? g_array_index (uids, guint32, i) : 0;
      }
      if (o->settled != NULL)
        o->settled (msgs, n, o->data);
      return TRUE;
    }
    g_autofree char *word = code_word (r->code);
    if (word != NULL && g_ascii_strcasecmp (word, "TRYCREATE") == 0) {
      if (*created && !created_before) {
        g_clear_pointer (&r, imap_response_free);
        continue;
      }
      if (!o->create || *created) {
        g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE,
                     "mailbox '%s' does not exist on the server (%s); use --create to create it",
                     mailbox, r->text);
        return FALSE;
      }
      if (!msgtk_imap_session_create (s, mailbox, error))
        return FALSE;
      *created = TRUE;
      g_clear_pointer (&r, imap_response_free);
      continue;
    }
    if (word != NULL && attempt < 3
        && (g_ascii_strcasecmp (word, "UNAVAILABLE") == 0 || g_ascii_strcasecmp (word, "INUSE") == 0
            || g_ascii_strcasecmp (word, "THROTTLED") == 0)) {
      /* the server is busy or throttling us: back off and try again */
      guint backoff = o->backoff_ms ? o->backoff_ms : 1000;
      g_usleep ((gulong)(backoff << attempt) * 1000);
      g_clear_pointer (&r, imap_response_free);
      continue;
    }
    if (n > 1) {
      /* MULTIAPPEND is atomic: find the bad one(s) one at a time */
      for (guint i = 0; i < n; i++)
        if (!append_batch (s, mailbox, m, msgs + i, 1, o, created, NULL, FALSE, error))
          return FALSE;
      return TRUE;
    }
    refuse (msgs, r->code, r->text);
    if (o->settled != NULL)
      o->settled (msgs, 1, o->data);
    return TRUE;
  }
}

/* An APPEND command sent, its completion not read yet. */
typedef struct {
  char *tag;
  MsgtkImapMessage *msgs; /* copies of the caller's, copied back when settled */
  guint n;
  guint at;         /* where its messages are in the batch order */
  gboolean created; /* whether the mailbox had been created when it was sent */
} Flight;

static void
flight_free (Flight *f)
{
  g_free (f->tag);
  g_free (f->msgs);
  g_free (f);
}

static Flight *
flight_new (MsgtkImapMessage *msgs, const guint *idx, guint at, guint n)
{
  Flight *f = g_new0 (Flight, 1);
  f->msgs = g_new (MsgtkImapMessage, n);
  f->n = n;
  f->at = at;
  /* the batch's messages are contiguous unless APPENDLIMIT removed some */
  for (guint j = 0; j < n; j++)
    f->msgs[j] = msgs[idx[at + j]];
  return f;
}

static void
flight_copy_back (Flight *f, MsgtkImapMessage *msgs, const guint *idx)
{
  for (guint j = 0; j < f->n; j++)
    msgs[idx[f->at + j]] = f->msgs[j];
}

gboolean
msgtk_imap_session_append (MsgtkImapSession *s, const char *mailbox, MsgtkImapMessage *msgs,
                           guint n, const MsgtkImapAppendOptions *o, GError **error)
{
  static const MsgtkImapAppendOptions defaults = { 0 };
  if (o == NULL)
    o = &defaults;
  g_autofree char *m = encode_mailbox (s, mailbox, error);
  if (m == NULL)
    return FALSE;
  gboolean multi = msgtk_imap_session_has_capability (s, "MULTIAPPEND");
  guint max_count = multi ? (o->max_count ? o->max_count : 100) : 1;
  guint64 max_bytes = o->max_bytes ? o->max_bytes : 16 * 1024 * 1024;
  guint depth = o->max_in_flight ? o->max_in_flight : 8;
  /* messages over APPENDLIMIT are refused here, the rest go in batches */
  g_autofree guint64 *sizes = g_new (guint64, n);
  g_autofree guint *idx = g_new (guint, n);
  guint k = 0;
  for (guint i = 0; i < n; i++) {
    gsize len;
    const guint8 *p = g_bytes_get_data (msgs[i].data, &len);
    guint64 size = msgtk_imap_crlf_size (p, len);
    if (s->append_limit > 0 && size > s->append_limit) {
      g_autofree char *text
          = g_strdup_printf ("message of %" G_GUINT64_FORMAT
                             " bytes is larger than the server's APPENDLIMIT of %" G_GUINT64_FORMAT,
                             size, s->append_limit);
      refuse (&msgs[i], "TOOBIG", text);
      if (o->settled != NULL)
        o->settled (&msgs[i], 1, o->data);
      continue;
    }
    sizes[k] = size;
    idx[k++] = i;
  }
  g_autoptr (GArray) batches = imap_split_batches (sizes, k, max_count, max_bytes);
  gboolean created = FALSE, ok = TRUE;
  /* commands whose literals need no '+' go out without waiting for the
   * completion of those before them, up to @depth in flight; completions
   * are taken in order (wait_tagged keeps those that come early) */
  GQueue flights = G_QUEUE_INIT;
  guint at = 0;
  for (guint b = 0; ok && b <= batches->len; b++) {
    Flight *next = NULL;
    if (b < batches->len) {
      next = flight_new (msgs, idx, at, g_array_index (batches, guint, b));
      at += next->n;
    }
    gboolean pipeline = next != NULL && depth > 1 && append_nonsync (s, m, next->msgs, next->n);
    if (pipeline) {
      ImapResponse *done = NULL;
      next->created = created;
      next->tag = append_send (s, m, next->msgs, next->n, o, &done, error);
      imap_response_free (done); /* never set: no literal waits for '+' */
      g_queue_push_tail (&flights, next);
      if (next->tag == NULL) {
        ok = FALSE;
        break;
      }
    }
    /* settle the oldest while too many are in flight, or all of them before
     * a command that must wait for '+', and at the end */
    while (ok && !g_queue_is_empty (&flights) && (!pipeline || flights.length >= depth)) {
      Flight *f = g_queue_peek_head (&flights);
      ImapResponse *r = wait_tagged (s, f->tag, NULL, error);
      ok = r != NULL
           && append_batch (s, mailbox, m, f->msgs, f->n, o, &created, r, f->created, error);
      flight_copy_back (f, msgs, idx);
      flight_free (g_queue_pop_head (&flights));
    }
    if (ok && next != NULL && !pipeline) {
      ok = append_batch (s, mailbox, m, next->msgs, next->n, o, &created, NULL, FALSE, error);
      flight_copy_back (next, msgs, idx);
    }
    if (!pipeline && next != NULL)
      flight_free (next);
  }
  /* after a failure: what was in flight stays PENDING */
  for (Flight *f; (f = g_queue_pop_head (&flights)) != NULL;) {
    flight_copy_back (f, msgs, idx);
    flight_free (f);
  }
  return ok;
}

void
msgtk_imap_session_logout (MsgtkImapSession *s)
{
  imap_response_free (simple_command (s, "LOGOUT", NULL, NULL));
}

/* ---------------------------------------------------------------- journal */

struct _MsgtkImapJournal {
  GMutex lock;
  int fd;
  char *path;
  GHashTable *keys;
  GHashTable *pending; /* keys sent but not confirmed */
};

char *
msgtk_imap_journal_default_path (void)
{
  return g_build_filename (g_get_user_state_dir (), "msgtk", "append-journal", NULL);
}

char *
msgtk_imap_journal_key (const char *identity, const char *mailbox, GBytes *data)
{
  g_autofree char *hash = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, data);
  g_autofree char *m = g_strescape (mailbox, NULL);
  g_autofree char *id = g_strescape (identity, NULL);
  return g_strdup_printf ("%s\t%s\t%s", hash, m, id);
}

MsgtkImapJournal *
msgtk_imap_journal_open (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE,
                 "cannot create the journal directory '%s': %s", dir, g_strerror (errno));
    return NULL;
  }
  int fd = g_open (path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_CANT_CREATE, "cannot open the journal '%s': %s",
                 path, g_strerror (errno));
    return NULL;
  }
  MsgtkImapJournal *j = g_new0 (MsgtkImapJournal, 1);
  g_mutex_init (&j->lock);
  j->fd = fd;
  j->path = g_strdup (path);
  j->keys = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  j->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &contents, &len, error)) {
    msgtk_imap_journal_free (j);
    return NULL;
  }
  gsize start = 0, good = 0;
  for (gsize i = 0; i < len; i++) {
    if (contents[i] != '\n')
      continue;
    contents[i] = '\0';
    char *line = contents + start;
    if (g_str_has_prefix (line, "P\t")) {
      /* P \t key: sent, outcome unknown */
      if (!g_hash_table_contains (j->keys, line + 2))
        g_hash_table_add (j->pending, g_strdup (line + 2));
      start = good = i + 1;
      continue;
    }
    /* key \t uidvalidity \t uid */
    char *t2 = strrchr (line, '\t');
    if (t2 != NULL) {
      *t2 = '\0';
      char *t1 = strrchr (line, '\t');
      if (t1 != NULL) {
        *t1 = '\0';
        g_hash_table_add (j->keys, g_strdup (line));
        g_hash_table_remove (j->pending, line);
      }
    }
    start = i + 1;
    good = i + 1;
  }
  if (good < len && ftruncate (fd, (off_t)good) != 0) {
    /* a torn last line from an interrupted run: drop it */
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot repair the journal '%s': %s", path,
                 g_strerror (errno));
    msgtk_imap_journal_free (j);
    return NULL;
  }
  return j;
}

void
msgtk_imap_journal_free (MsgtkImapJournal *j)
{
  if (j == NULL)
    return;
  if (j->fd >= 0)
    close (j->fd);
  g_hash_table_unref (j->keys);
  g_hash_table_unref (j->pending);
  g_mutex_clear (&j->lock);
  g_free (j->path);
  g_free (j);
}

gboolean
msgtk_imap_journal_contains (MsgtkImapJournal *j, const char *key)
{
  g_mutex_lock (&j->lock);
  gboolean r = g_hash_table_contains (j->keys, key);
  g_mutex_unlock (&j->lock);
  return r;
}

guint
msgtk_imap_journal_size (MsgtkImapJournal *j)
{
  g_mutex_lock (&j->lock);
  guint r = g_hash_table_size (j->keys);
  g_mutex_unlock (&j->lock);
  return r;
}

gboolean
msgtk_imap_journal_record (MsgtkImapJournal *j, const char *key, guint32 uidvalidity, guint32 uid,
                           GError **error)
{
  g_autofree char *line = g_strdup_printf ("%s\t%u\t%u\n", key, uidvalidity, uid);
  gsize len = strlen (line);
  g_mutex_lock (&j->lock);
  gboolean ok = write (j->fd, line, len) == (ssize_t)len;
  if (ok) {
    g_hash_table_add (j->keys, g_strdup (key));
    g_hash_table_remove (j->pending, key);
  }
  g_mutex_unlock (&j->lock);
  if (!ok)
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot write to the journal '%s': %s",
                 j->path, g_strerror (errno));
  return ok;
}

gboolean
msgtk_imap_journal_sync (MsgtkImapJournal *j, GError **error)
{
  if (fsync (j->fd) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot sync the journal '%s': %s", j->path,
                 g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

gboolean
msgtk_imap_journal_record_pending (MsgtkImapJournal *j, const char *key, GError **error)
{
  g_autofree char *line = g_strdup_printf ("P\t%s\n", key);
  gsize len = strlen (line);
  g_mutex_lock (&j->lock);
  gboolean ok = write (j->fd, line, len) == (ssize_t)len;
  g_mutex_unlock (&j->lock);
  if (!ok)
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot write to the journal '%s': %s",
                 j->path, g_strerror (errno));
  return ok;
}

gboolean
msgtk_imap_journal_is_pending (MsgtkImapJournal *j, const char *key)
{
  g_mutex_lock (&j->lock);
  gboolean r = g_hash_table_contains (j->pending, key);
  g_mutex_unlock (&j->lock);
  return r;
}

guint
msgtk_imap_journal_pending_count (MsgtkImapJournal *j)
{
  g_mutex_lock (&j->lock);
  guint r = g_hash_table_size (j->pending);
  g_mutex_unlock (&j->lock);
  return r;
}

char *
msgtk_imap_wire_digest (GBytes *data)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (data, &len);
  g_autoptr (GByteArray) wire = g_byte_array_sized_new (msgtk_imap_crlf_size (p, len));
  imap_crlf_append (wire, p, len);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, wire->data, wire->len);
}

gboolean
msgtk_imap_session_fetch_last_digests (MsgtkImapSession *s, const char *mailbox, guint count,
                                       GHashTable *digests, GError **error)
{
  g_autoptr (GPtrArray) untagged
      = g_ptr_array_new_with_free_func ((GDestroyNotify)imap_response_free);
  g_clear_pointer (&s->examined, g_free);
  g_autoptr (ImapResponse) ex = mailbox_command (s, "EXAMINE", mailbox, NULL, untagged, error);
  if (ex == NULL)
    return FALSE;
  if (strcmp (ex->status, "OK") != 0)
    return TRUE; /* no such mailbox: nothing there */
  guint64 exists = 0;
  for (guint i = 0; i < untagged->len; i++) {
    ImapResponse *u = untagged->pdata[i];
    char *end = NULL;
    guint64 n = u->data ? g_ascii_strtoull (u->data, &end, 10) : 0;
    if (u->data != NULL && end != u->data && g_ascii_strcasecmp (end, " EXISTS") == 0)
      exists = n;
  }
  if (exists > 0 && count > 0) {
    guint64 first = exists > count ? exists - count + 1 : 1;
    g_autofree char *cmd = g_strdup_printf ("FETCH %" G_GUINT64_FORMAT ":* (BODY.PEEK[])", first);
    g_ptr_array_set_size (untagged, 0);
    g_autoptr (ImapResponse) r = simple_command (s, cmd, untagged, error);
    if (r == NULL || !require_ok (r, "FETCH", error))
      return FALSE;
    for (guint i = 0; i < untagged->len; i++) {
      ImapResponse *u = untagged->pdata[i];
      if (u->data == NULL || strstr (u->data, " FETCH ") == NULL || u->literals->len == 0)
        continue;
      GBytes *body = u->literals->pdata[u->literals->len - 1];
      g_hash_table_add (digests, g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, body));
    }
  }
  imap_response_free (simple_command (s, "CLOSE", NULL, NULL));
  return TRUE;
}
