/* msgtk — an IMAP4rev1 client session: greeting, capabilities, STARTTLS,
 * authentication, the command and response plumbing, and the mailbox
 * commands (LIST, CREATE, EXAMINE, SEARCH, FETCH). */
#include <msgtk/error.h>
#include <msgtk/utf7.h>

#include "error-private.h"
#include "imap-private.h"
#include "sasl-private.h"
#include "wire-private.h"

#include <string.h>

/* one response at most, its lines and literals together */
#define MAX_RESPONSE (512u * 1024 * 1024)
/* one response before the login at most */
#define MAX_PREAUTH (256u * 1024)
#define MAX_LINE (1024 * 1024)   /* longest response line (literals excluded) */
#define FLUSH_AT (256 * 1024)    /* send once this much is queued */
#define DATA_CHUNK (1024 * 1024) /* message data is converted and queued in chunks */
/* The deflate level of what is sent compressed: on mail (a corpus of text,
 * HTML and attachments) level 1 comes within 3% of level 6's size for two
 * thirds of its CPU time, and an upload is what is sent. */
#define COMPRESS_LEVEL 1

struct _MsgtkImapSession {
  MsgtkConnection *conn;
  char *host;
  guint16 port;    /* 0: a session over a stream */
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
  char *examined;        /* the mailbox left EXAMINE'd by Message-ID searches */
  GHashTable *early;     /* tag → completion read while waiting for another */
  GHashTable *in_flight; /* tags of commands given and not completed */
  char *bye;             /* text of a BYE seen */
  void (*alert) (const char *host, const char *text, gpointer data); /* the account's */
  gpointer alert_data;
};

/* ---------------------------------------------------------------- parsing */

/* --------------------------------------------------------------- session */

/* The first word of a response code ("APPENDUID 1 2" → "APPENDUID"). */
char *
imap_code_word (const char *code)
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
  else if (g_ascii_strcasecmp (r->code, "ALERT") == 0 && s->alert != NULL)
    s->alert (s->host, r->text, s->alert_data);
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

gboolean
imap_flush (MsgtkImapSession *s, GError **error)
{
  s->queued = 0;
  return msgtk_connection_flush (s->conn, error);
}

/* Queue a command line (CRLF added); the part of a command that holds a
 * secret goes out redacted in the trace (see secret_visible). */
void
imap_queue_line (MsgtkImapSession *s, GString *line)
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

gboolean
imap_queue_literal_data (MsgtkImapSession *s, GBytes *data, GError **error)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (data, &len);
  WireEncoder w;
  wire_encoder_init (&w, WIRE_CRLF);
  for (gsize off = 0; off < len; off += DATA_CHUNK) {
    gsize n = MIN (DATA_CHUNK, len - off);
    g_byte_array_set_size (s->scratch, 0);
    wire_encode (&w, p + off, n, s->scratch);
    msgtk_connection_queue_data (s->conn, s->scratch->data, s->scratch->len);
    s->queued += s->scratch->len;
    if (s->queued >= FLUSH_AT && !imap_flush (s, error))
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
  /* all of one response, its lines and literals: before login a greeting,
   * capabilities and challenges are small, and a server that is not yet
   * known to be the one asked for gets no more memory than that */
  guint64 cap = s->authenticated ? MAX_RESPONSE : MAX_PREAUTH, total = 0;
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
    total += n;
    guint64 size = 0;
    gboolean literal = imap_line_literal (l, n, &size);
    if (total > cap || (literal && size > cap - MIN (total, cap))) {
      g_ptr_array_unref (lits);
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                   "the IMAP server %s sent a response of more than %" G_GUINT64_FORMAT
                   " bytes%s (too big)",
                   s->host, cap, s->authenticated ? "" : " before the login");
      return NULL;
    }
    if (!literal)
      break;
    total += size;
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
 * flight may complete in any order): kept until its command is waited for.
 * One for a tag that is not in flight (never given, or completed already)
 * is the server's error, or text it echoed that was meant to pass for a
 * completion: the session cannot be trusted further. */
static gboolean
keep_early (MsgtkImapSession *s, ImapResponse *r, GError **error)
{
  if (!g_hash_table_contains (s->in_flight, r->tag) || g_hash_table_contains (s->early, r->tag)) {
    g_autofree char *tag = g_utf8_make_valid (r->tag, -1);
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                 "the IMAP server %s completed a command it was not given (tag '%s')", s->host,
                 tag);
    imap_response_free (r);
    return FALSE;
  }
  handle_code (s, r);
  g_hash_table_replace (s->early, g_strdup (r->tag), r);
  return TRUE;
}

/* @r, the completion of the command @tag waited for: no longer in flight. */
static ImapResponse *
completed (MsgtkImapSession *s, ImapResponse *r)
{
  g_hash_table_remove (s->in_flight, r->tag);
  handle_code (s, r);
  return r;
}

static void
collect (ImapResponse *r, gpointer untagged)
{
  g_ptr_array_add (untagged, r);
}

/* Read until the tagged completion of @tag; untagged data is handled and
 * given to @each (which takes it) when it is not NULL. */
ImapResponse *
imap_wait_tagged_each (MsgtkImapSession *s, const char *tag, ImapUntaggedFunc each, gpointer data,
                       GError **error)
{
  gpointer early_tag, early;
  if (g_hash_table_steal_extended (s->early, tag, &early_tag, &early)) {
    g_free (early_tag);
    g_hash_table_remove (s->in_flight, tag);
    return early;
  }
  if (!imap_flush (s, error))
    return NULL;
  for (;;) {
    ImapResponse *r = read_response (s, error);
    if (r == NULL)
      return NULL;
    if (r->kind == IMAP_RESPONSE_TAGGED && strcmp (r->tag, tag) == 0)
      return completed (s, r);
    if (r->kind == IMAP_RESPONSE_TAGGED) {
      if (!keep_early (s, r, error))
        return NULL;
      continue;
    }
    if (r->kind == IMAP_RESPONSE_UNTAGGED) {
      handle_untagged (s, r);
      if (each != NULL) {
        each (r, data);
        continue;
      }
    }
    /* stray continuations are ignored */
    imap_response_free (r);
  }
}

ImapResponse *
imap_wait_tagged (MsgtkImapSession *s, const char *tag, GPtrArray *untagged, GError **error)
{
  return imap_wait_tagged_each (s, tag, untagged != NULL ? collect : NULL, untagged, error);
}

/* Wait for a continuation request (its text into *@text when @text is not
 * NULL); if the command completes instead, return FALSE with *@done set to
 * its completion. */
gboolean
imap_wait_continuation (MsgtkImapSession *s, const char *tag, char **text, ImapResponse **done,
                        GError **error)
{
  *done = NULL;
  if (!imap_flush (s, error))
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
      *done = completed (s, g_steal_pointer (&r));
      return FALSE;
    }
    if (r->kind == IMAP_RESPONSE_TAGGED) {
      if (!keep_early (s, g_steal_pointer (&r), error))
        return FALSE;
    } else if (r->kind == IMAP_RESPONSE_UNTAGGED)
      handle_untagged (s, r);
  }
}

/* Whether a literal of @size may be sent without waiting for '+': LITERAL+,
 * or LITERAL- up to 4096 bytes (RFC 7888). */
gboolean
imap_nonsync_ok (MsgtkImapSession *s, guint64 size)
{
  return msgtk_imap_session_has_capability (s, "LITERAL+")
         || (msgtk_imap_session_has_capability (s, "LITERAL-") && size <= 4096);
}

/* Append string @str to the command being built in @cmd: quoted, or as a
 * literal (sending what is before it and waiting for '+' when it must). */
gboolean
imap_cmd_string (MsgtkImapSession *s, GString *cmd, const char *tag, const char *str,
                 ImapResponse **done, GError **error)
{
  *done = NULL;
  if (imap_quote (cmd, str, s->utf8))
    return TRUE;
  gsize len = strlen (str);
  gboolean nonsync = imap_nonsync_ok (s, len);
  g_string_append_printf (cmd, "{%zu%s}", len, nonsync ? "+" : "");
  imap_queue_line (s, cmd);
  if (!nonsync && !imap_wait_continuation (s, tag, NULL, done, error))
    return FALSE;
  g_string_append_len (cmd, str, len);
  return TRUE;
}

char *
imap_next_tag (MsgtkImapSession *s)
{
  char *tag = g_strdup_printf ("A%04u", ++s->tagn);
  g_hash_table_add (s->in_flight, g_strdup (tag));
  return tag;
}

static MsgtkError
status_error_code (ImapResponse *r)
{
  return strcmp (r->status, "BAD") == 0 ? MSGTK_ERROR_PROTOCOL : MSGTK_ERROR_UNAVAILABLE;
}

ImapResponse *
imap_command_each (MsgtkImapSession *s, const char *command, ImapUntaggedFunc each, gpointer data,
                   GError **error)
{
  g_autofree char *tag = imap_next_tag (s);
  g_autoptr (GString) line = g_string_new (NULL);
  g_string_printf (line, "%s %s", tag, command);
  imap_queue_line (s, line);
  return imap_wait_tagged_each (s, tag, each, data, error);
}

/* Run a command without literals; return its completion. */
static ImapResponse *
simple_command (MsgtkImapSession *s, const char *command, GPtrArray *untagged, GError **error)
{
  return imap_command_each (s, command, untagged != NULL ? collect : NULL, untagged, error);
}

/* Finish a command built in @cmd (unless a literal wait already completed
 * it: *@done) and wait for its completion. */
static ImapResponse *
finish_command (MsgtkImapSession *s, GString *cmd, const char *tag, ImapResponse *done,
                GPtrArray *untagged, GError **error)
{
  if (done != NULL)
    return done;
  imap_queue_line (s, cmd);
  return imap_wait_tagged (s, tag, untagged, error);
}

gboolean
imap_require_ok (ImapResponse *r, const char *what, GError **error)
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
  return r != NULL && imap_require_ok (r, "CAPABILITY", error);
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
  s->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
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
  g_hash_table_unref (s->in_flight);
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
    error_set_hint (error, MSGTK_ERROR_HINT_STARTTLS_NOT_OFFERED, MSGTK_ERROR_UNAVAILABLE,
                    "the IMAP server %s does not offer STARTTLS, which this account "
                    "requires; nothing was sent",
                    s->host);
    return FALSE;
  }
  g_autoptr (ImapResponse) r = simple_command (s, "STARTTLS", NULL, error);
  if (r == NULL || !imap_require_ok (r, "STARTTLS", error))
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
    error_set_hint (error, MSGTK_ERROR_HINT_NO_HOST_GIVEN, MSGTK_ERROR_USAGE,
                    "no IMAP server given");
    return NULL;
  }
  if (cfg.port == 0)
    cfg.port = cfg.tls == MSGTK_TLS_IMPLICIT ? 993 : 143;
  MsgtkConnection *conn = msgtk_connection_open (&cfg, error);
  if (conn == NULL)
    return NULL;
  msgtk_connection_set_trace (conn, trace);
  g_autoptr (MsgtkImapSession) s = session_new (conn, cfg.host, msgtk_connection_is_tls (conn));
  s->port = cfg.port;
  s->alert = account->alert;
  s->alert_data = account->alert_data;
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
msgtk_imap_session_get_host (MsgtkImapSession *s)
{
  return s->host;
}

guint16
msgtk_imap_session_get_port (MsgtkImapSession *s)
{
  return s->port;
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
  imap_queue_line (a->s, cmd);
  memset (cmd->str, 0, cmd->allocated_len); /* it held the initial response */
}

static void
auth_respond (gpointer session, const char *response)
{
  ImapAuth *a = session;
  g_autoptr (GString) line = g_string_new (response);
  a->s->secret_visible = 0;
  imap_queue_line (a->s, line);
  memset (line->str, 0, line->allocated_len);
}

static void
auth_cancel (gpointer session)
{
  ImapAuth *a = session;
  g_autoptr (GString) line = g_string_new ("*");
  a->s->secret_visible = -1; /* no secret in it */
  imap_queue_line (a->s, line);
}

/* The error code and hint for a refused authentication: [UNAVAILABLE]
 * means the server's authentication service is down for now (RFC 5530). */
static void
auth_refusal (ImapResponse *r, MsgtkSaslReply *reply)
{
  g_autofree char *word = imap_code_word (r->code);
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
  if (imap_wait_continuation (a->s, a->tag, &challenge, &done, error)) {
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
authenticate_sasl (MsgtkImapSession *s, const char *mech, MsgtkAccount *account,
                   const char *password, const char *token, GError **error)
{
  g_autoptr (MsgtkSasl) sasl
      = msgtk_sasl_new (mech, account->user, password, token, "imap", s->host, error);
  if (sasl == NULL)
    return NULL;
  ImapAuth a = { .s = s, .tag = imap_next_tag (s) };
  const MsgtkSaslProfile profile = {
    .protocol = "IMAP",
    .connection = s->conn,
    .initial_response = msgtk_imap_session_has_capability (s, "SASL-IR"),
    .start = auth_start,
    .respond = auth_respond,
    .cancel = auth_cancel,
    .read = auth_read,
  };
  gboolean ok = sasl_exchange (sasl, &profile, &a, error);
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
  g_autofree char *tag = imap_next_tag (s);
  g_autoptr (GString) cmd = g_string_new (NULL);
  g_string_printf (cmd, "%s LOGIN", tag);
  s->secret_visible = (gssize)cmd->len;
  g_string_append_c (cmd, ' ');
  ImapResponse *done = NULL;
  gboolean ok = imap_cmd_string (s, cmd, tag, user, &done, error);
  if (ok) {
    g_string_append_c (cmd, ' ');
    ok = imap_cmd_string (s, cmd, tag, password, &done, error);
  }
  ImapResponse *r = ok ? finish_command (s, cmd, tag, NULL, NULL, error) : done;
  s->secret_visible = -1;
  memset (cmd->str, 0, cmd->allocated_len); /* it held the password */
  return r;
}

/* COMPRESS DEFLATE; *@refused when the server said NO or BAD (the
 * session goes on as it was then). */
static gboolean
compress_deflate (MsgtkImapSession *s, gboolean *refused, GError **error)
{
  *refused = FALSE;
  if (msgtk_connection_is_compressed (s->conn)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_PROTOCOL,
                 "the connection to the IMAP server %s is compressed already", s->host);
    return FALSE;
  }
  if (!msgtk_imap_session_has_capability (s, "COMPRESS=DEFLATE")) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_UNAVAILABLE,
                 "the IMAP server %s does not offer COMPRESS=DEFLATE", s->host);
    return FALSE;
  }
  g_autoptr (ImapResponse) r = simple_command (s, "COMPRESS DEFLATE", NULL, error);
  if (r == NULL)
    return FALSE;
  if (!imap_require_ok (r, "COMPRESS DEFLATE", error)) {
    *refused = TRUE;
    return FALSE;
  }
  return msgtk_connection_compress (s->conn, COMPRESS_LEVEL, error);
}

gboolean
msgtk_imap_session_compress (MsgtkImapSession *s, GError **error)
{
  gboolean refused;
  return compress_deflate (s, &refused, error);
}

gboolean
msgtk_imap_session_is_compressed (MsgtkImapSession *s)
{
  return msgtk_connection_is_compressed (s->conn);
}

/* Whether the account wants this session compressed (where it is offered). */
static gboolean
wants_compression (MsgtkImapSession *s, MsgtkCompressMode mode)
{
  switch (mode) {
  case MSGTK_COMPRESS_NEVER: return FALSE;
  case MSGTK_COMPRESS_ALWAYS: return TRUE;
  case MSGTK_COMPRESS_AUTO:
  default: return !msgtk_connection_is_local (s->conn);
  }
}

gboolean
msgtk_imap_session_authenticate (MsgtkImapSession *s, MsgtkAccount *account, GError **error)
{
  if (!s->authenticated) {
    if (!sasl_check_secure (account, s->secure, "IMAP", s->host, error))
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
      r = authenticate_sasl (s, mech, account, password, token, error);
    } else if (login_allowed) {
      r = login_command (s, account->user, password, error);
      if (r != NULL && strcmp (r->status, "OK") != 0) {
        MsgtkSaslReply refusal = { 0 };
        auth_refusal (r, &refusal);
        sasl_set_refused (error, "IMAP", s->host, "LOGIN", account->user, &refusal);
        sasl_reply_clear (&refusal);
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
  if (!msgtk_connection_is_compressed (s->conn)
      && msgtk_imap_session_has_capability (s, "COMPRESS=DEFLATE")
      && wants_compression (s, account->compress)) {
    gboolean refused;
    g_autoptr (GError) local = NULL;
    if (!compress_deflate (s, &refused, &local) && !refused) {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  }
  if (!s->utf8 && msgtk_imap_session_has_capability (s, "UTF8=ACCEPT")) {
    g_autoptr (ImapResponse) r = simple_command (s, "ENABLE UTF8=ACCEPT", NULL, error);
    if (r == NULL)
      return FALSE;
    s->utf8 = strcmp (r->status, "OK") == 0;
  }
  return TRUE;
}

char *
imap_encode_mailbox (MsgtkImapSession *s, const char *name, GError **error)
{
  char *m = s->utf8 ? g_strdup (name) : msgtk_utf7_encode (name);
  if (m == NULL || !g_utf8_validate (name, -1, NULL))
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "mailbox name '%s' is not valid UTF-8",
                 name);
  return m;
}

/* A command with one mailbox argument and nothing after it but @suffix. */
ImapResponse *
imap_mailbox_command (MsgtkImapSession *s, const char *verb, const char *mailbox,
                      const char *suffix, GPtrArray *untagged, GError **error)
{
  g_autofree char *m = imap_encode_mailbox (s, mailbox, error);
  if (m == NULL)
    return NULL;
  g_autofree char *tag = imap_next_tag (s);
  g_autoptr (GString) cmd = g_string_new (tag);
  g_string_append_printf (cmd, " %s ", verb);
  ImapResponse *done = NULL;
  if (!imap_cmd_string (s, cmd, tag, m, &done, error))
    return done;
  g_string_append (cmd, suffix ? suffix : "");
  return finish_command (s, cmd, tag, NULL, untagged, error);
}

gboolean
imap_examine (MsgtkImapSession *s, const char *mailbox, gboolean *exists, GError **error)
{
  *exists = TRUE;
  if (g_strcmp0 (s->examined, mailbox) == 0)
    return TRUE; /* the server goes on telling it what other sessions add */
  g_clear_pointer (&s->examined, g_free);
  g_autoptr (ImapResponse) ex = imap_mailbox_command (s, "EXAMINE", mailbox, NULL, NULL, error);
  if (ex == NULL)
    return FALSE;
  if (strcmp (ex->status, "OK") != 0) {
    *exists = FALSE;
    return TRUE;
  }
  s->examined = g_strdup (mailbox);
  return TRUE;
}

void
msgtk_imap_session_logout (MsgtkImapSession *s)
{
  imap_response_free (simple_command (s, "LOGOUT", NULL, NULL));
}
