/* msgtk — drafts: a declarative description of a message, its fields in
 * one table, and the message built from it. */
#include <msgtk/error.h>
#include <msgtk/init.h>

#include "address-private.h"
#include "digest-private.h"
#include "draft-private.h"
#include "encode-private.h"
#include "error-private.h"
#include "gmime-autoptr-private.h"
#include "jobs-private.h"
#include "sink-private.h"

#include <json-glib/json-glib.h>
#include <stddef.h>
#include <string.h>

/* ---- the fields ---- */

#define FIELD(name, header, kind, member)                                                          \
  {                                                                                                \
    name, header, kind, offsetof (MsgtkDraft, member)                                              \
  }

const DraftField draft_fields[] = {
  FIELD ("from", "From", DRAFT_MAILBOX, from),
  FIELD ("sender", "Sender", DRAFT_MAILBOX, sender),
  FIELD ("reply-to", "Reply-To", DRAFT_MAILBOX, reply_to),
  FIELD ("to", "To", DRAFT_ADDRESSES, to),
  FIELD ("cc", "Cc", DRAFT_ADDRESSES, cc),
  FIELD ("bcc", "Bcc", DRAFT_ADDRESSES, bcc),
  FIELD ("subject", "Subject", DRAFT_TEXT, subject),
  FIELD ("date", "Date", DRAFT_DATE, date),
  FIELD ("message-id", "Message-ID", DRAFT_MSGID, message_id),
  FIELD ("in-reply-to", "In-Reply-To", DRAFT_MSGIDS, in_reply_to),
  FIELD ("references", "References", DRAFT_MSGIDS, references),
  FIELD ("message-id-domain", NULL, DRAFT_OPTION, mid_domain),
  FIELD ("charset", NULL, DRAFT_CHARSET, charset),
  FIELD ("input-charset", NULL, DRAFT_CHARSET, input_charset),
  FIELD ("filename-encoding", NULL, DRAFT_FILENAME_ENCODING, filename_encoding),
  FIELD ("keep-bcc", NULL, DRAFT_BOOL, keep_bcc),
};

const guint draft_n_fields = G_N_ELEMENTS (draft_fields);

const DraftField *
draft_field_lookup (const char *name, gboolean by_header)
{
  for (guint i = 0; i < draft_n_fields; i++) {
    const char *n = by_header ? draft_fields[i].header : draft_fields[i].name;
    if (n != NULL && g_ascii_strcasecmp (name, n) == 0)
      return &draft_fields[i];
  }
  return NULL;
}

/* ---- life ---- */

static void
attachment_free (gpointer p)
{
  DraftAttachment *a = p;
  g_free (a->path);
  g_free (a->type);
  g_free (a->name);
  g_free (a->cid);
  g_free (a);
}

static void
header_free (gpointer p)
{
  DraftHeader *h = p;
  g_free (h->name);
  g_free (h->value);
  g_free (h);
}

MsgtkDraft *
msgtk_draft_new (void)
{
  msgtk_init ();
  MsgtkDraft *d = g_new0 (MsgtkDraft, 1);
  d->to = g_ptr_array_new_with_free_func (g_free);
  d->cc = g_ptr_array_new_with_free_func (g_free);
  d->bcc = g_ptr_array_new_with_free_func (g_free);
  d->headers = g_ptr_array_new_with_free_func (header_free);
  d->attachments = g_ptr_array_new_with_free_func (attachment_free);
  return d;
}

void
msgtk_draft_free (MsgtkDraft *d)
{
  if (!d)
    return;
  char **strs[] = { &d->from,       &d->sender,     &d->reply_to,     &d->subject,
                    &d->date,       &d->message_id, &d->mid_domain,   &d->in_reply_to,
                    &d->references, &d->charset,    &d->input_charset };
  for (guint i = 0; i < G_N_ELEMENTS (strs); i++)
    g_free (*strs[i]);
  g_ptr_array_unref (d->to);
  g_ptr_array_unref (d->cc);
  g_ptr_array_unref (d->bcc);
  g_ptr_array_unref (d->headers);
  g_ptr_array_unref (d->attachments);
  g_clear_pointer (&d->text, g_bytes_unref);
  g_clear_pointer (&d->html, g_bytes_unref);
  g_free (d);
}

/* ---- setting ---- */

static gboolean
check_header_name (const char *name, GError **error)
{
  if (!*name) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "header name is empty");
    return FALSE;
  }
  for (const char *p = name; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c < 33 || c > 126 || c == ':') {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "invalid header name '%s': character %ld is not printable ASCII without ':'",
                   name, (long)(p - name) + 1);
      return FALSE;
    }
  }
  const char *mime[] = { "MIME-Version", "Content-Type", "Content-Transfer-Encoding",
                         "Content-Disposition", "Content-ID" };
  for (guint i = 0; i < G_N_ELEMENTS (mime); i++) {
    if (g_ascii_strcasecmp (name, mime[i]) == 0) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "header '%s' is written by msgtk from the bodies and attachments; leave it out",
                   name);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
parse_bool (const char *v, gboolean *out)
{
  if (!g_ascii_strcasecmp (v, "true") || !g_ascii_strcasecmp (v, "yes") || !strcmp (v, "1"))
    *out = TRUE;
  else if (!g_ascii_strcasecmp (v, "false") || !g_ascii_strcasecmp (v, "no") || !strcmp (v, "0"))
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

gboolean
msgtk_draft_set (MsgtkDraft *d, const char *name, const char *value, GError **error)
{
  if (!encode_check_value (name, value, error))
    return FALSE;
  const DraftField *f = draft_field_lookup (name, FALSE);
  if (f == NULL) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "unknown draft field '%s'", name);
    return FALSE;
  }
  switch (f->kind) {
  case DRAFT_ADDRESSES:
    g_ptr_array_add (*DRAFT_MEMBER (d, f, GPtrArray *), g_strdup (value));
    return TRUE;
  case DRAFT_BOOL:
    if (!parse_bool (value, DRAFT_MEMBER (d, f, gboolean))) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE, "%s: '%s' is neither true nor false",
                   f->name, value);
      return FALSE;
    }
    return TRUE;
  case DRAFT_FILENAME_ENCODING:
    if (g_ascii_strcasecmp (value, "rfc2231") == 0)
      d->filename_encoding = MSGTK_FILENAME_RFC2231;
    else if (g_ascii_strcasecmp (value, "rfc2047") == 0)
      d->filename_encoding = MSGTK_FILENAME_RFC2047;
    else {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                   "filename-encoding: '%s' is neither 'rfc2231' nor 'rfc2047'", value);
      return FALSE;
    }
    return TRUE;
  case DRAFT_CHARSET:
    if (!encode_check_charset (value, error))
      return FALSE;
    break;
  default: break;
  }
  char **slot = DRAFT_MEMBER (d, f, char *);
  g_free (*slot);
  *slot = g_strdup (value);
  return TRUE;
}

gboolean
msgtk_draft_add_header (MsgtkDraft *d, const char *name, const char *value, GError **error)
{
  if (!check_header_name (name, error) || !encode_check_value (name, value, error))
    return FALSE;
  const DraftField *f = draft_field_lookup (name, TRUE);
  if (f != NULL && f->kind != DRAFT_ADDRESSES && f->kind != DRAFT_BOOL
      && f->kind != DRAFT_FILENAME_ENCODING && *DRAFT_MEMBER (d, f, char *) != NULL) {
    /* a field checked as its own option or member is not replaced unseen */
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                 "%s: given twice, as a header field and as its own field; give it once", name);
    return FALSE;
  }
  if (f != NULL)
    return msgtk_draft_set (d, f->name, value, error);
  DraftHeader *h = g_new0 (DraftHeader, 1);
  h->name = g_strdup (name);
  h->value = g_strdup (value);
  g_ptr_array_add (d->headers, h);
  return TRUE;
}

void
msgtk_draft_set_keep_bcc (MsgtkDraft *d, gboolean keep)
{
  d->keep_bcc = keep;
}

void
msgtk_draft_set_text (MsgtkDraft *d, GBytes *text)
{
  g_clear_pointer (&d->text, g_bytes_unref);
  d->text = text ? g_bytes_ref (text) : NULL;
  d->text_utf8 = FALSE;
}

void
msgtk_draft_set_html (MsgtkDraft *d, GBytes *html)
{
  g_clear_pointer (&d->html, g_bytes_unref);
  d->html = html ? g_bytes_ref (html) : NULL;
  d->html_utf8 = FALSE;
}

gboolean
msgtk_draft_add_attachment (MsgtkDraft *d, const char *path, const char *type, const char *name,
                            gboolean inline_, const char *cid, GError **error)
{
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT,
                 "attachment '%s' does not exist or is not a regular file", path);
    return FALSE;
  }
  if (type) {
    const char *slash = strchr (type, '/');
    if (!encode_check_value ("attachment type", type, error))
      return FALSE;
    if (!slash || slash == type || !slash[1] || strpbrk (type, " ;\"")) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "attachment '%s': type '%s' is not of the form 'type/subtype'", path, type);
      return FALSE;
    }
  }
  if ((name && !encode_check_value ("attachment name", name, error))
      || (cid && !encode_check_value ("attachment cid", cid, error)))
    return FALSE;
  if (cid && (!*cid || strpbrk (cid, " <>\"\\,;"))) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "attachment '%s': content id '%s' must be a non-empty token without spaces or "
                 "<>\",;",
                 path, cid);
    return FALSE;
  }
  DraftAttachment *a = g_new0 (DraftAttachment, 1);
  a->path = g_strdup (path);
  a->type = g_strdup (type);
  a->name = name ? g_strdup (name) : g_path_get_basename (path);
  a->inline_ = inline_ || cid != NULL;
  a->cid = g_strdup (cid);
  g_ptr_array_add (d->attachments, a);
  return TRUE;
}

void
msgtk_draft_set_reproducible (MsgtkDraft *d, gboolean on, gint64 epoch)
{
  d->reproducible = on;
  d->epoch = epoch;
}

/* ---- the reproducible hash: of the whole draft ---- */

static gboolean
hash_file (struct sha256_ctx *ctx, const char *path, GError **error)
{
  g_autoptr (GFile) f = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (f, NULL, NULL);
  if (!in) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot read attachment '%s'", path);
    return FALSE;
  }
  guchar buf[65536];
  gssize n;
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, sizeof buf, NULL, NULL)) > 0)
    sha256_update (ctx, (gsize)n, buf);
  if (n < 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot read attachment '%s'", path);
    return FALSE;
  }
  return TRUE;
}

static void
hash_part (struct sha256_ctx *ctx, const char *what, GBytes *bytes)
{
  gsize n = 0;
  const guint8 *p = bytes != NULL ? g_bytes_get_data (bytes, &n) : NULL;
  g_autofree char *head = g_strdup_printf ("\n%s %zu\n", what, bytes != NULL ? n : (gsize)0);
  sha256_update (ctx, strlen (head), (const guint8 *)head);
  if (p != NULL)
    sha256_update (ctx, n, p);
}

/* SHA-256 of the draft's JSON form (every field of the table, the extra
 * header fields, the attachments' names and types), then of its bodies and
 * attachments' contents: two drafts that differ in anything the message
 * shows differ here. */
static char *
draft_hash (MsgtkDraft *d, GError **error)
{
  g_autoptr (JsonNode) node = draft_to_json (d, TRUE);
  g_autofree char *json = json_to_string (node, FALSE);
  struct sha256_ctx ctx;
  sha256_init (&ctx);
  sha256_update (&ctx, strlen (json), (const guint8 *)json);
  /* the bodies as the message will carry them: canonical UTF-8 */
  GBytes *bodies[] = { d->text, d->html };
  const gboolean utf8[] = { d->text_utf8, d->html_utf8 };
  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++) {
    gsize len = 0;
    char *text = bodies[i] ? draft_body_to_utf8 (d, "body", bodies[i], utf8[i], &len, NULL) : NULL;
    g_autoptr (GBytes) canonical = text ? g_bytes_new_take (text, len) : NULL;
    hash_part (&ctx, i ? "html" : "text", canonical ? canonical : bodies[i]);
  }
  for (guint i = 0; i < d->attachments->len; i++) {
    DraftAttachment *a = g_ptr_array_index (d->attachments, i);
    hash_part (&ctx, "attachment", NULL);
    if (!hash_file (&ctx, a->path, error))
      return NULL;
  }
  return digest_sha256_hex (&ctx);
}

/* ---- building ---- */

static const char *
domain_of (InternetAddressList *l)
{
  const char *addr = address_first_addr (l);
  const char *at = addr ? strrchr (addr, '@') : NULL;
  return at && at[1] && at[1] != '[' ? at + 1 : NULL;
}

static gboolean
check_msgid (const char *field, const char *value, GError **error)
{
  const char *at = strchr (value, '@');
  if (!at || at == value || !at[1] || strpbrk (value, " \t<>\"") || !g_str_is_ascii (value)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "%s: '%s' is not a message id of the form 'left@right' (angle brackets "
                 "optional)",
                 field, value);
    return FALSE;
  }
  return TRUE;
}

/* "<a@b> c@d" → "<a@b> <c@d>", each checked. */
static char *
msgid_list (const char *field, const char *value, GError **error)
{
  g_auto (GStrv) ids = g_strsplit_set (value, " \t,", -1);
  GString *out = g_string_new (NULL);
  for (guint i = 0; ids[i]; i++) {
    char *id = ids[i];
    if (!*id)
      continue;
    gsize n = strlen (id);
    if (id[0] == '<' && n > 1 && id[n - 1] == '>') {
      id[n - 1] = '\0';
      id++;
    }
    if (!check_msgid (field, id, error)) {
      g_string_free (out, TRUE);
      return NULL;
    }
    g_string_append_printf (out, "%s<%s>", out->len ? " " : "", id);
  }
  if (out->len == 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "%s: no message id in '%s'", field, value);
    g_string_free (out, TRUE);
    return NULL;
  }
  return g_string_free (out, FALSE);
}

/* The address list of @m that field @f fills. */
static InternetAddressList *
addresses_of (GMimeMessage *m, const DraftField *f)
{
  static const struct {
    const char *header;
    GMimeAddressType type;
  } types[] = { { "From", GMIME_ADDRESS_TYPE_FROM },
                { "Sender", GMIME_ADDRESS_TYPE_SENDER },
                { "Reply-To", GMIME_ADDRESS_TYPE_REPLY_TO },
                { "To", GMIME_ADDRESS_TYPE_TO },
                { "Cc", GMIME_ADDRESS_TYPE_CC },
                { "Bcc", GMIME_ADDRESS_TYPE_BCC } };
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    if (strcmp (types[i].header, f->header) == 0)
      return g_mime_message_get_addresses (m, types[i].type);
  g_return_val_if_reached (NULL);
}

/* The address fields, each address checked (a Bcc the message does not
 * keep is checked too). */
static gboolean
build_addresses (MsgtkDraft *d, GMimeMessage *m, GError **error)
{
  for (guint i = 0; i < draft_n_fields; i++) {
    const DraftField *f = &draft_fields[i];
    if (f->kind != DRAFT_MAILBOX && f->kind != DRAFT_ADDRESSES)
      continue;
    g_autoptr (InternetAddressList) dropped = internet_address_list_new ();
    gboolean keep = !(f->offset == G_STRUCT_OFFSET (MsgtkDraft, bcc) && !d->keep_bcc);
    InternetAddressList *dst = keep ? addresses_of (m, f) : dropped;
    if (f->kind == DRAFT_MAILBOX) {
      const char *v = *DRAFT_MEMBER (d, f, char *);
      if (v != NULL && !address_parse_strict (f->header, v, d->charset, dst, error))
        return FALSE;
      continue;
    }
    GPtrArray *values = *DRAFT_MEMBER (d, f, GPtrArray *);
    for (guint j = 0; j < values->len; j++)
      if (!address_parse_strict (f->header, values->pdata[j], d->charset, dst, error))
        return FALSE;
  }
  return TRUE;
}

static gboolean
build_date (MsgtkDraft *d, GMimeMessage *m, GError **error)
{
  g_autoptr (GDateTime) date = NULL;
  if (d->date) {
    date = g_mime_utils_header_decode_date (d->date);
    if (!date) {
      g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
      date = g_date_time_new_from_iso8601 (d->date, utc);
    }
    if (!date) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                   "date: cannot read '%s'; write it as RFC 5322 ('Tue, 1 Jul 2025 10:00:00 "
                   "+0000') or ISO 8601 ('2025-07-01T10:00:00Z')",
                   d->date);
      return FALSE;
    }
  } else if (d->reproducible) {
    date = g_date_time_new_from_unix_utc (d->epoch);
  } else {
    date = g_date_time_new_now_local ();
  }
  g_mime_message_set_date (m, date);
  return TRUE;
}

/* The Message-ID given, derived from the draft (reproducible) or made up. */
static gboolean
build_message_id (DraftBuild *b, GMimeMessage *m, GError **error)
{
  MsgtkDraft *d = b->d;
  const char *domain = d->mid_domain ? d->mid_domain : domain_of (g_mime_message_get_from (m));
  if (!domain)
    domain = "localhost";
  g_autofree char *id = NULL;
  if (d->message_id) {
    id = g_strdup (d->message_id);
    gsize n = strlen (id);
    if (id[0] == '<' && n > 1 && id[n - 1] == '>') {
      id[n - 1] = '\0';
      memmove (id, id + 1, n - 1);
    }
    if (!check_msgid ("message-id", id, error))
      return FALSE;
  } else if (d->reproducible) {
    g_autofree char *h = draft_derived (b, "message-id", 0);
    id = g_strdup_printf ("%.32s@%s", h, domain);
  } else {
    if (strpbrk (domain, " <>@")) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA, "message-id-domain: '%s' is not a domain",
                   domain);
      return FALSE;
    }
    id = g_mime_utils_generate_message_id (domain);
  }
  g_mime_message_set_message_id (m, id);
  return TRUE;
}

/* In-Reply-To and References, and the extra header fields, checked. */
static gboolean
build_other_fields (MsgtkDraft *d, GMimeMessage *m, GError **error)
{
  for (guint i = 0; i < draft_n_fields; i++) {
    const DraftField *f = &draft_fields[i];
    const char *v = f->kind == DRAFT_MSGIDS ? *DRAFT_MEMBER (d, f, char *) : NULL;
    if (v == NULL)
      continue;
    g_autofree char *ids = msgid_list (f->header, v, error);
    if (!ids)
      return FALSE;
    g_mime_object_set_header (GMIME_OBJECT (m), f->header, ids, NULL);
  }
  for (guint i = 0; i < d->headers->len; i++) {
    DraftHeader *h = g_ptr_array_index (d->headers, i);
    g_autofree char *check = msgtk_encode_header (h->name, h->value, d->charset, error);
    if (!check)
      return FALSE;
    g_mime_object_append_header (GMIME_OBJECT (m), h->name, h->value, d->charset);
  }
  return TRUE;
}

/* GMime's renderings of the fields that hold text replaced by ours (RFC
 * 2047 words of at most 75 characters, lines of at most 78). */
static void
encode_fields (MsgtkDraft *d, GMimeMessage *m)
{
  GMimeObject *o = GMIME_OBJECT (m);
  const char *cs = d->charset;
  for (guint i = 0; i < draft_n_fields; i++) {
    const DraftField *f = &draft_fields[i];
    if (f->kind == DRAFT_MAILBOX || f->kind == DRAFT_ADDRESSES)
      encode_set_raw_addresses (o, f->header, addresses_of (m, f), cs);
  }
  if (d->subject)
    encode_set_raw_text (o, "Subject", d->subject, cs);
  GMimeHeaderList *hl = g_mime_object_get_header_list (o);
  for (guint i = 0; i < d->headers->len; i++) {
    DraftHeader *h = g_ptr_array_index (d->headers, i);
    /* only the first of repeated names can be reached by name: the one of
     * this name that comes as many times later as there are before it */
    guint seen = 0;
    for (guint j = 0; j < i; j++)
      seen += g_ascii_strcasecmp (((DraftHeader *)d->headers->pdata[j])->name, h->name) == 0;
    for (int k = 0; k < g_mime_header_list_get_count (hl); k++) {
      GMimeHeader *gh = g_mime_header_list_get_header_at (hl, k);
      if (g_ascii_strcasecmp (g_mime_header_get_name (gh), h->name) != 0 || seen-- > 0)
        continue;
      g_autoptr (GString) out = g_string_new (NULL);
      Folder fold = { out, strlen (h->name) + 1 };
      encode_unstructured (&fold, h->value, cs);
      g_string_append_c (out, '\n');
      g_mime_header_set_raw_value (gh, out->str);
      break;
    }
  }
}

GMimeMessage *
msgtk_draft_build (MsgtkDraft *d, GError **error)
{
  if (d->charset && !encode_check_charset (d->charset, error))
    return NULL;
  if (!d->from) {
    error_set_hint (error, MSGTK_ERROR_HINT_GIVE_FROM, MSGTK_ERROR_USAGE, "no From address");
    return NULL;
  }
  g_autoptr (GMimeMessage) m = g_mime_message_new (TRUE);
  if (!build_addresses (d, m, error))
    return NULL;
  if (d->subject) {
    g_autofree char *check = msgtk_encode_header ("Subject", d->subject, d->charset, error);
    if (!check)
      return NULL;
    g_mime_message_set_subject (m, d->subject, d->charset);
  }
  g_autofree char *seed = NULL;
  if (d->reproducible && (seed = draft_hash (d, error)) == NULL)
    return NULL;
  DraftBuild b = { d, seed, 0 };
  if (!build_date (d, m, error) || !build_message_id (&b, m, error)
      || !build_other_fields (d, m, error))
    return NULL;
  g_autoptr (GMimeObject) body = draft_build_body (&b, error);
  if (!body)
    return NULL;
  g_mime_message_set_mime_part (m, body);
  encode_fields (d, m);
  return g_steal_pointer (&m);
}

/* ---- many drafts into a sink ---- */

typedef struct {
  GPtrArray *drafts;
  MsgtkSink *sink;
  gint fail_at; /* atomic: the first draft (in order) known to have failed; none
                 * after it is built, every one before it is */
  guint failed;
  GError *error;
} WriteAll;

/* drafts per job: enough to keep the runner's hand-overs off the profile */
#define WRITE_CHUNK 16

typedef struct {
  guint first, n;           /* drafts[first .. first + n) */
  char *names[WRITE_CHUNK]; /* reserved in the drafts' order */
  GError *error;            /* the first of them that failed */
  guint failed;             /* its index */
} WriteJob;

static void
write_work (gpointer job, gpointer worker, gpointer data)
{
  WriteAll *w = data;
  WriteJob *j = job;
  for (guint k = 0; k < j->n; k++) {
    guint i = j->first + k;
    if (i > (guint)g_atomic_int_get (&w->fail_at))
      break;
    MsgtkDraft *d = g_ptr_array_index (w->drafts, i);
    g_autoptr (GMimeMessage) m = msgtk_draft_build (d, &j->error);
    gboolean ok = m != NULL
                  && (j->names[k] != NULL
                          ? sink_write_message_named (w->sink, j->names[k], m, &j->error)
                          : msgtk_sink_write_message (w->sink, m, 0, NULL, NULL, &j->error));
    /* what the draft held (attachment streams are closed by now) */
    g_ptr_array_index (w->drafts, i) = NULL;
    msgtk_draft_free (d);
    if (!ok) {
      j->failed = i;
      for (gint at = g_atomic_int_get (&w->fail_at);
           (guint)at > i && !g_atomic_int_compare_and_exchange (&w->fail_at, at, (gint)i);)
        at = g_atomic_int_get (&w->fail_at);
      break;
    }
  }
}

static void
write_finish (gpointer job, gpointer data)
{
  WriteAll *w = data;
  WriteJob *j = job;
  if (j->error != NULL && w->error == NULL) { /* the first failure in the drafts' order */
    w->failed = j->failed;
    w->error = g_steal_pointer (&j->error);
  }
  g_clear_error (&j->error);
  for (guint k = 0; k < j->n; k++)
    g_free (j->names[k]);
  g_free (j);
}

gboolean
msgtk_draft_write_all (GPtrArray *drafts, guint from, MsgtkSink *sink, guint jobs, guint *failed,
                       GError **error)
{
  WriteAll w = { drafts, sink, G_MAXINT, 0, NULL };
  /* only a maildir takes messages in any order */
  gboolean parallel = sink_takes_any_order (sink);
  JobsConfig c
      = { .threads = parallel ? jobs : 1, .work = write_work, .finish = write_finish, .data = &w };
  Jobs *runner = jobs_new (&c);
  for (guint i = from; i < drafts->len && w.error == NULL;) {
    WriteJob *j = g_new0 (WriteJob, 1);
    j->first = i;
    for (; j->n < WRITE_CHUNK && i < drafts->len; j->n++, i++)
      j->names[j->n] = sink_reserve_name (sink);
    jobs_push (runner, j, 0);
  }
  jobs_free (runner);
  if (w.error == NULL)
    return TRUE;
  if (failed != NULL)
    *failed = w.failed;
  g_propagate_error (error, w.error);
  return FALSE;
}
