/* msgtk — the mbox reader (private to the source module): messages out of
 * a stream split at From_ lines (mboxo/mboxrd quoting undone, Content-Length
 * checked), each handed out without a copy where it can be, with flat
 * memory; and a stream read whole as one message. */
#include <msgtk/error.h>

#include "date-private.h"
#include "header-private.h"
#include "mbox-reader-private.h"
#include "simd-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK (256 * 1024)

/* ---- a buffered line reader with push-back over a GInputStream ---- */

typedef struct {
  GInputStream *in;
  guint8 *buf;
  gsize cap, pos, len;
  gboolean eof;
  goffset offset; /* absolute offset of buf[pos] */
  gsize keep;     /* bytes from here on are kept even when read; G_MAXSIZE: none */
  GBytes *shared; /* owns buf once slices of it were handed out: the bytes
                   * read so far are then never moved or written again */
} Reader;

static void
reader_init (Reader *r, GInputStream *in)
{
  memset (r, 0, sizeof *r);
  r->in = g_object_ref (in);
  r->cap = READ_CHUNK * 2;
  r->buf = g_malloc (r->cap);
  r->keep = G_MAXSIZE;
}

static void
reader_clear (Reader *r)
{
  g_clear_object (&r->in);
  if (r->shared != NULL)
    g_clear_pointer (&r->shared, g_bytes_unref);
  else
    g_free (r->buf);
  r->buf = NULL;
}

/* Bytes [@from, len) of the buffer moved to the start of a buffer with room
 * for @room more: the same one, or a new one when the old is shared. */
static void
reader_compact (Reader *r, gsize from, gsize room)
{
  gsize n = r->len - from;
  if (r->shared != NULL) {
    gsize cap = MAX (READ_CHUNK * 2, n + room);
    guint8 *fresh = g_malloc (cap);
    memcpy (fresh, r->buf + from, n);
    g_clear_pointer (&r->shared, g_bytes_unref); /* the slices keep it */
    r->buf = fresh;
    r->cap = cap;
  } else {
    if (from > 0)
      memmove (r->buf, r->buf + from, n);
    if (r->cap - n < room) {
      r->cap = MAX (r->cap * 2, n + room);
      r->buf = g_realloc (r->buf, r->cap);
    }
  }
  r->len = n;
  r->pos -= from;
  if (r->keep != G_MAXSIZE)
    r->keep = r->keep > from ? r->keep - from : 0;
}

/* @n bytes at @at of the buffer as bytes that stay valid (no copy). */
static GBytes *
reader_slice (Reader *r, gsize at, gsize n)
{
  if (r->shared == NULL)
    r->shared = g_bytes_new_take (r->buf, r->cap);
  return g_bytes_new_from_bytes (r->shared, at, n);
}

/* Make at least @want unread bytes available (fewer only at EOF). */
static gboolean
reader_fill (Reader *r, gsize want, GError **error)
{
  while (r->len - r->pos < want && !r->eof) {
    gsize from = MIN (r->keep, r->pos);
    if (from > 0 || r->cap - r->len < READ_CHUNK)
      reader_compact (r, from, READ_CHUNK);
    gssize n = g_input_stream_read (r->in, r->buf + r->len, r->cap - r->len, NULL, error);
    if (n < 0)
      return FALSE;
    if (n == 0)
      r->eof = TRUE;
    r->len += (gsize)n;
  }
  return TRUE;
}

/* The next line (with its newline, if any) in line and n; n is 0 at EOF. The
 * pointer is valid until the next reader call. */
static gboolean
reader_line (Reader *r, const guint8 **line, gsize *n, GError **error)
{
  gsize scanned = 0;
  for (;;) {
    const guint8 *start = r->buf + r->pos;
    gsize avail = r->len - r->pos;
    const guint8 *nl = avail > scanned ? memchr (start + scanned, '\n', avail - scanned) : NULL;
    if (nl != NULL || r->eof) {
      *line = start;
      *n = nl != NULL ? (gsize)(nl - start) + 1 : avail;
      r->pos += *n;
      r->offset += (goffset)*n;
      return TRUE;
    }
    scanned = avail;
    if (!reader_fill (r, avail + 1, error))
      return FALSE;
  }
}

/* Put @n bytes back in front of the unread data. */
static void
reader_unread (Reader *r, const guint8 *data, gsize n)
{
  if (r->shared != NULL)
    reader_compact (r, r->pos, n); /* the data is not written where slices are */
  if (n <= r->pos) {
    r->pos -= n;
    memmove (r->buf + r->pos, data, n);
  } else {
    gsize unread = r->len - r->pos;
    if (r->cap < unread + n) {
      r->cap = unread + n + READ_CHUNK;
      r->buf = g_realloc (r->buf, r->cap);
    }
    memmove (r->buf + n, r->buf + r->pos, unread);
    memcpy (r->buf, data, n);
    r->pos = 0;
    r->len = unread + n;
  }
  r->offset -= (goffset)n;
}

/* Append up to @want bytes to @out; returns how many were appended. */
static gboolean
reader_take (Reader *r, GByteArray *out, gsize want, gsize *got, GError **error)
{
  *got = 0;
  while (*got < want) {
    if (r->len == r->pos && !reader_fill (r, 1, error))
      return FALSE;
    gsize avail = r->len - r->pos;
    if (avail == 0)
      break;
    gsize k = MIN (avail, want - *got);
    g_byte_array_append (out, r->buf + r->pos, (guint)k);
    r->pos += k;
    r->offset += (goffset)k;
    *got += k;
  }
  return TRUE;
}

GBytes *
mbox_bytes_fitted (GByteArray *a)
{
  gsize len = a->len;
  guint8 *data = g_byte_array_free (a, FALSE);
  return g_bytes_new_take (len > 0 ? g_realloc (data, len) : data, len);
}

struct _MboxReader {
  Reader reader;
  char *path;     /* the name items carry */
  char *abs_path; /* for identities */
  guint index;
  gboolean headers_only;
  GByteArray *pending_from; /* From_ line of the next message, NULL at end */
  goffset pending_offset;
};

MboxReader *
mbox_reader_new (GInputStream *in, const char *path, const char *abs_path)
{
  MboxReader *r = g_new0 (MboxReader, 1);
  reader_init (&r->reader, in);
  r->path = g_strdup (path);
  r->abs_path = g_strdup (abs_path);
  return r;
}

void
mbox_reader_free (MboxReader *r)
{
  if (r == NULL)
    return;
  reader_clear (&r->reader);
  if (r->pending_from != NULL)
    g_byte_array_unref (r->pending_from);
  g_free (r->path);
  g_free (r->abs_path);
  g_free (r);
}

void
mbox_reader_set_headers_only (MboxReader *r, gboolean headers_only)
{
  r->headers_only = headers_only;
}

gboolean
mbox_reader_start (MboxReader *s, GError **error)
{
  const guint8 *line;
  gsize n;
  if (!reader_line (&s->reader, &line, &n, error))
    return FALSE;
  if (n < 5 || memcmp (line, "From ", 5) != 0) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_DATA,
                 "'%s' is not an mbox: it does not start with a \"From \" line", s->path);
    return FALSE;
  }
  s->pending_from = g_byte_array_new ();
  g_byte_array_append (s->pending_from, line, (guint)n);
  s->pending_offset = 0;
  return TRUE;
}

gboolean
mbox_reader_starts_with_from (MboxReader *s, GError **error)
{
  Reader *r = &s->reader;
  if (!reader_fill (r, 8, error))
    return FALSE;
  /* an mbox saved with a UTF-8 byte order mark: skip the mark */
  if (r->len - r->pos >= 8
      && memcmp (r->buf + r->pos,
                 "\xEF\xBB\xBF"
                 "From ",
                 8)
             == 0) {
    r->pos += 3;
    r->offset += 3;
  }
  return r->len - r->pos >= 5 && memcmp (r->buf + r->pos, "From ", 5) == 0;
}

const guint8 *
mbox_reader_peek (MboxReader *s, gsize want, gsize *len, GError **error)
{
  Reader *r = &s->reader;
  if (!reader_fill (r, want, error))
    return NULL;
  *len = MIN (want, r->len - r->pos);
  return r->buf + r->pos;
}

/* ---- mbox ---- */

/* The date of a From_ line ("From sender Tue Nov 24 09:52:57 2026", an
 * optional zone before or after the year), read as UTC; NULL if none. */
static GDateTime *
parse_from_date (const guint8 *line, gsize n)
{
  g_autofree char *s = g_strndup ((const char *)line, n);
  g_strchomp (s);
  g_auto (GStrv) tok = g_strsplit_set (s, " \t", -1);
  guint nt = g_strv_length (tok);
  /* find "Mon DD HH:MM[:SS]" after the sender */
  for (guint i = 2; i + 2 < nt; i++) {
    int mon = date_month_from_name (tok[i], strlen (tok[i]));
    if (mon == 0)
      continue;
    guint j = i + 1;
    while (j < nt && tok[j][0] == '\0')
      j++;
    if (j + 1 >= nt)
      return NULL;
    int day = atoi (tok[j]);
    int hh = 0, mm = 0, ss = 0;
    if (sscanf (tok[j + 1], "%d:%d:%d", &hh, &mm, &ss) < 2)
      return NULL;
    int year = -1;
    for (guint k = j + 2; k < nt && k < j + 5; k++)
      if (g_ascii_isdigit (tok[k][0]) && strlen (tok[k]) == 4)
        year = atoi (tok[k]);
    if (year < 1900 || day < 1 || day > 31)
      return NULL;
    return g_date_time_new_utc (year, mon, day, hh, mm, ss);
  }
  return NULL;
}

/* The address of a From_ line ("From sender date"); NULL when it has none. */
static char *
from_line_sender (const guint8 *line, gsize n)
{
  gsize i = 5, start;
  while (i < n && line[i] == ' ')
    i++;
  start = i;
  while (i < n && line[i] > ' ' && line[i] != 0x7f)
    i++;
  return i > start ? g_strndup ((const char *)line + start, i - start) : NULL;
}

static gboolean
is_blank (const guint8 *line, gsize n)
{
  return (n == 1 && line[0] == '\n') || (n == 2 && line[0] == '\r' && line[1] == '\n');
}

static gboolean
is_from_line (const guint8 *line, gsize n)
{
  return n >= 5 && memcmp (line, "From ", 5) == 0;
}

/* ">From ", ">>From " …: a quoted From line (mboxrd; mboxo's ">From " too). */
static gboolean
is_quoted_from (const guint8 *line, gsize n)
{
  gsize i = 0;
  while (i < n && line[i] == '>')
    i++;
  return i > 0 && n - i >= 5 && memcmp (line + i, "From ", 5) == 0;
}

/* The flags of Thunderbird's X-Mozilla-Status field (hexadecimal
 * nsMsgMessageFlags: 0x1 read, 0x2 replied, 0x4 marked, 0x8 expunged: deleted,
 * waiting for the folder to be compacted). */
static MsgtkFlags
mozilla_status (const char *value)
{
  char *end = NULL;
  guint64 v = value != NULL ? g_ascii_strtoull (value, &end, 16) : 0;
  if (value == NULL || end == value)
    return MSGTK_FLAG_NONE;
  return (v & 0x1 ? MSGTK_FLAG_SEEN : 0) | (v & 0x2 ? MSGTK_FLAG_ANSWERED : 0)
         | (v & 0x4 ? MSGTK_FLAG_FLAGGED : 0) | (v & 0x8 ? MSGTK_FLAG_DELETED : 0);
}

/* What an mbox needs of a header block: the flags its Status and X-Status
 * fields say (and Thunderbird's X-Mozilla-Status), and its Content-Length. */
MsgtkFlags
mbox_header_info (const guint8 *data, gsize len, char **content_length)
{
  g_autofree char *status = NULL, *x_status = NULL, *mozilla = NULL;
  HeaderIter it;
  HeaderField f;
  header_iter_init (&it, (const char *)data, len);
  while (header_iter_next (&it, &f)) {
    if (status == NULL && header_field_is (&f, "Status"))
      status = header_field_unfold (&f);
    else if (x_status == NULL && header_field_is (&f, "X-Status"))
      x_status = header_field_unfold (&f);
    else if (mozilla == NULL && header_field_is (&f, "X-Mozilla-Status"))
      mozilla = header_field_unfold (&f);
    else if (content_length != NULL && *content_length == NULL
             && header_field_is (&f, "Content-Length"))
      *content_length = header_field_unfold (&f);
  }
  return msgtk_flags_from_mbox_status (status, x_status) | mozilla_status (mozilla);
}

/* How many bytes at the end of a message of @size bytes, whose last
 * MIN (@size, 4) bytes are @tail, are the blank line that separates it from
 * the next From_ line (or the end): that line belongs to the mbox, not to
 * the message. */
static gsize
trailing_blank (const guint8 *tail, gsize size)
{
  gsize t = MIN (size, 4);
  const guint8 *e = tail + t; /* one past the last byte */
  if (size >= 4 && memcmp (e - 4, "\r\n\r\n", 4) == 0)
    return 2;
  if (size >= 2 && e[-1] == '\n' && e[-2] == '\n')
    return 1;
  if (size == 1 && e[-1] == '\n')
    return 1;
  if (size == 2 && e[-1] == '\n' && e[-2] == '\r')
    return 2;
  return 0;
}

/* The message being read out of an mbox: its bytes, or (headers-only) its
 * header block and the count of the body's bytes with the last four of
 * them. */
typedef struct {
  GByteArray *data;
  gboolean count_only;
  gsize counted;
  guint8 tail[4];
  gboolean may_slice; /* the message starts at the reader's keep mark */
  GBytes *slice;      /* set instead of @data: the message where it lies in the buffer */
} MboxMessage;

static void
mbox_message_add (MboxMessage *m, const guint8 *data, gsize n)
{
  if (!m->count_only) {
    g_byte_array_append (m->data, data, (guint)n);
    return;
  }
  if (n >= 4)
    memcpy (m->tail, data + n - 4, 4);
  else if (n > 0) {
    memmove (m->tail, m->tail + n, 4 - n);
    memcpy (m->tail + 4 - n, data, n);
  }
  m->counted += n;
}

static gsize
mbox_message_size (MboxMessage *m)
{
  return m->data->len + m->counted;
}

/* Drop the blank line before the next From_ line (or the end). */
static void
mbox_message_strip (MboxMessage *m)
{
  GByteArray *d = m->data;
  if (!m->count_only || m->counted == 0) {
    gsize k = trailing_blank (d->data + d->len - MIN (d->len, 4), d->len);
    g_byte_array_set_size (d, (guint)(d->len - k));
    return;
  }
  /* the last four bytes of header block + body */
  guint8 tail[4];
  gsize body_bytes = MIN (m->counted, 4), head_bytes = MIN (d->len, 4 - body_bytes);
  memcpy (tail, d->data + d->len - head_bytes, head_bytes);
  memcpy (tail + head_bytes, m->tail + 4 - body_bytes, body_bytes);
  gsize k = trailing_blank (tail, mbox_message_size (m));
  gsize from_body = MIN (k, m->counted);
  m->counted -= from_body;
  g_byte_array_set_size (d, (guint)(d->len - (k - from_body)));
}

/* Is @p (the @avail bytes after a Content-Length body, up to 8192 of them)
 * the end, a From_ line, or a blank line and then one of those? */
static gboolean
boundary_at (const guint8 *p, gsize avail)
{
  if (avail == 0)
    return TRUE;
  if (is_from_line (p, avail))
    return TRUE;
  gsize skip = 0;
  if (p[0] == '\n')
    skip = 1;
  else if (avail >= 2 && p[0] == '\r' && p[1] == '\n')
    skip = 2;
  if (skip == 0)
    return FALSE;
  return avail == skip || is_from_line (p + skip, avail - skip);
}

/* A Content-Length the reader checks by reading up to it; beyond this, on a
 * stream that cannot seek, the field is not trusted (it would be held in
 * memory only to find out). */
#define MAX_UNSEEKABLE_LENGTH (64 * 1024 * 1024)

typedef enum { AHEAD_NO, AHEAD_YES, AHEAD_UNKNOWN } Ahead;

/* Does a boundary (boundary_at()) come @distance bytes into the unread data?
 * Within reach of the buffer it is read; further on, a stream that can seek
 * is looked at there and put back, so that a body need not be read to check
 * its length. AHEAD_UNKNOWN: the stream cannot seek. */
static Ahead
reader_boundary_ahead (Reader *r, gsize distance, GError **error)
{
  gsize buffered = r->len - r->pos;
  if (distance <= buffered + READ_CHUNK || !G_IS_SEEKABLE (r->in)
      || !g_seekable_can_seek (G_SEEKABLE (r->in))) {
    if (distance > buffered + READ_CHUNK)
      return AHEAD_UNKNOWN;
    if (!reader_fill (r, distance + 8192, error))
      return AHEAD_NO;
    if (r->len - r->pos < distance)
      return AHEAD_NO; /* the data ends before that */
    return boundary_at (r->buf + r->pos + distance, MIN (r->len - r->pos - distance, (gsize)8192))
               ? AHEAD_YES
               : AHEAD_NO;
  }
  GSeekable *sk = G_SEEKABLE (r->in);
  goffset here = g_seekable_tell (sk); /* the end of the buffered data */
  goffset target = here - (goffset)buffered + (goffset)distance;
  guint8 peek[8192];
  gsize got = 0;
  Ahead verdict = AHEAD_NO;
  if (g_seekable_seek (sk, 0, G_SEEK_END, NULL, error)) {
    if (target <= g_seekable_tell (sk) && g_seekable_seek (sk, target, G_SEEK_SET, NULL, error)
        && g_input_stream_read_all (r->in, peek, sizeof peek, &got, NULL, error))
      verdict = boundary_at (peek, got) ? AHEAD_YES : AHEAD_NO;
    if (!g_seekable_seek (sk, here, G_SEEK_SET, NULL, error && *error ? NULL : error))
      verdict = AHEAD_NO;
  }
  return verdict;
}

/* Pass over @n unread bytes (there are that many: reader_boundary_ahead()
 * said so), seeking past those not buffered. */
static gboolean
reader_skip (Reader *r, gsize n, GError **error)
{
  gsize buffered = r->len - r->pos;
  if (n > buffered) {
    if (!g_seekable_seek (G_SEEKABLE (r->in), (goffset)(n - buffered), G_SEEK_CUR, NULL, error))
      return FALSE;
    if (r->shared != NULL) { /* slices of it are out: read on in a new one */
      g_clear_pointer (&r->shared, g_bytes_unref);
      r->cap = READ_CHUNK * 2;
      r->buf = g_malloc (r->cap);
    }
    r->pos = r->len = 0;
    r->eof = FALSE;
  } else
    r->pos += n;
  r->offset += (goffset)n;
  return TRUE;
}

/* The first newline in [@p, @end - 1) followed by 'F' or '>' (the line after
 * it may be a From_ line or a quoted one), or NULL: 16 bytes at a time with
 * vector compares (GCC/clang vector extensions). */
static const guint8 *
next_from_candidate (const guint8 *p, const guint8 *end)
{
  for (; end - p >= 17; p += 16) {
    Bytes16 x, y;
    memcpy (&x, p, 16);
    memcpy (&y, p + 1, 16);
    Bytes16 hit = (Bytes16)((x == '\n') & ((y == 'F') | (y == '>')));
    guint64 half[2];
    memcpy (half, &hit, sizeof half);
    if ((half[0] | half[1]) != 0)
      for (int k = 0; k < 16; k++)
        if (hit[k])
          return p + k;
  }
  for (; end - p >= 2; p++)
    if (*p == '\n' && (p[1] == 'F' || p[1] == '>'))
      return p;
  return NULL;
}

/* The body up to the next From_ line that follows a blank line (taken as the
 * pending From_ line) or the end, ">From " quoting undone, the separating
 * blank line dropped. Only lines that start with "From " or ">" need a
 * closer look. The body stays in the reader's buffer until its end is
 * found, then is copied once into the message, at its final size. */
static gboolean
mbox_body (MboxReader *s, MboxMessage *msg, GError **error)
{
  Reader *r = &s->reader;
  gboolean prev_blank = TRUE, found_next = FALSE;
  gsize held = 0;                   /* bytes of the body scanned, at r->pos (copying) */
  g_autoptr (GArray) quoted = NULL; /* their offsets of a quoting '>' to drop */
  for (;;) {
    const guint8 *start = r->buf + r->pos + held, *end = r->buf + r->len;
    const guint8 *p = start, *span = start, *nl;
    while (p < end) {
      if (*p != 'F' && *p != '>') {
        /* pass over the lines that can be neither a From_ line nor a
         * quoted one, up to the next that may be (or the last whole one) */
        nl = next_from_candidate (p, end);
        if (nl == NULL)
          nl = memrchr (p, '\n', (gsize)(end - p));
        if (nl != NULL) {
          prev_blank = nl == p || (nl[-1] == '\n' && nl - 1 >= p)
                       || (nl[-1] == '\r' && (nl - 1 == p || (nl - 2 >= p && nl[-2] == '\n')));
          p = nl + 1;
          continue;
        }
      }
      nl = memchr (p, '\n', (gsize)(end - p));
      if (nl == NULL) {
        if (!r->eof)
          break;      /* an incomplete line: read more first */
        nl = end - 1; /* the last line, without a newline */
      }
      gsize n = (gsize)(nl + 1 - p);
      if (*p == 'F' && prev_blank && is_from_line (p, n)) {
        found_next = TRUE;
        break;
      }
      if (*p == '>' && is_quoted_from (p, n)) {
        if (msg->count_only) {
          mbox_message_add (msg, span, (gsize)(p - span));
          span = p + 1;
        } else {
          if (quoted == NULL)
            quoted = g_array_new (FALSE, FALSE, sizeof (gsize));
          gsize at = (gsize)(p - (r->buf + r->pos));
          g_array_append_val (quoted, at);
        }
      }
      prev_blank = is_blank (p, n);
      p = nl + 1;
    }
    if (msg->count_only) { /* nothing kept: consume as we go */
      mbox_message_add (msg, span, (gsize)(p - span));
      r->pos += (gsize)(p - start);
      r->offset += (goffset)(p - start);
    } else
      held += (gsize)(p - start);
    if (found_next || (r->eof && r->pos + held == r->len))
      break;
    /* keeps the unread bytes, held ones included, at r->pos */
    if (!reader_fill (r, r->len - r->pos + 1, error))
      return FALSE;
  }
  gsize start = r->keep;
  if (held > 0 && msg->may_slice && quoted == NULL && start <= r->pos
      && r->pos - start == msg->data->len) {
    /* nothing unquoted, the header block as read: the message is the bytes
     * in the buffer, header block and body, taken as they are */
    gsize len = r->pos + held - start;
    gsize k = trailing_blank (r->buf + start + len - MIN (len, 4), len);
    msg->slice = reader_slice (r, start, len - k);
    r->pos += held;
    r->offset += (goffset)held;
    held = 0;
  }
  if (held > 0) {
    guint nquoted = quoted != NULL ? quoted->len : 0;
    gsize at = msg->data->len, from = 0;
    g_byte_array_set_size (msg->data, (guint)(at + held - nquoted));
    guint8 *dst = msg->data->data + at;
    const guint8 *src = r->buf + r->pos;
    for (guint i = 0; i < nquoted; i++) {
      gsize q = g_array_index (quoted, gsize, i);
      memcpy (dst, src + from, q - from);
      dst += q - from;
      from = q + 1;
    }
    memcpy (dst, src + from, held - from);
    r->pos += held;
    r->offset += (goffset)held;
  }
  if (found_next) {
    const guint8 *line;
    gsize n;
    if (!reader_line (r, &line, &n, error))
      return FALSE;
    s->pending_from = g_byte_array_new ();
    g_byte_array_append (s->pending_from, line, (guint)n);
    s->pending_offset = r->offset - (goffset)n;
  }
  if (msg->slice == NULL)
    mbox_message_strip (msg);
  return TRUE;
}

MsgtkItem *
mbox_reader_next (MboxReader *s, GError **error)
{
  if (s->pending_from == NULL)
    return NULL;
  Reader *r = &s->reader;
  g_autoptr (GByteArray) from = g_steal_pointer (&s->pending_from);
  goffset from_offset = s->pending_offset;
  g_autoptr (GByteArray) msg = g_byte_array_new ();
  g_autofree char *clen = NULL;
  const guint8 *line;
  gsize n;
  gboolean found_next = FALSE;
  /* a whole message stays in the buffer from its start, to be taken
   * without a copy (mbox_body()) */
  r->keep = s->headers_only ? G_MAXSIZE : r->pos;

  /* header block */
  for (;;) {
    if (!reader_line (r, &line, &n, error))
      return NULL;
    if (n == 0)
      break;
    if (is_blank (line, n)) {
      g_byte_array_append (msg, line, (guint)n);
      break;
    }
    if (msg->len == 0 && is_from_line (line, n)) {
      /* an empty message: the next From_ line came at once */
      found_next = TRUE;
      s->pending_from = g_byte_array_new ();
      g_byte_array_append (s->pending_from, line, (guint)n);
      s->pending_offset = r->offset - (goffset)n;
      break;
    }
    if (is_quoted_from (line, n))
      g_byte_array_append (msg, line + 1, (guint)n - 1);
    else
      g_byte_array_append (msg, line, (guint)n);
  }

  MsgtkFlags flags = mbox_header_info (msg->data, msg->len, &clen);
  gboolean body_done = found_next || n == 0;
  gsize body_size = 0; /* headers-only: the body's bytes (not in @msg) */
  if (clen != NULL)
    r->keep = G_MAXSIZE; /* its body is copied (and its checks read ahead): nothing to keep */
  if (!body_done && clen != NULL) {
    char *end = NULL;
    guint64 want = g_ascii_strtoull (clen, &end, 10);
    GError *local = NULL;
    Ahead ahead = end != clen && *end == '\0' && want < G_MAXUINT32
                      ? reader_boundary_ahead (r, (gsize)want, &local)
                      : AHEAD_NO;
    if (local != NULL) {
      g_propagate_error (error, local);
      return NULL;
    }
    if (ahead == AHEAD_UNKNOWN && want <= MAX_UNSEEKABLE_LENGTH) {
      /* read it, then look */
      gsize before = msg->len, got = 0;
      if (!reader_take (r, msg, (gsize)want, &got, error))
        return NULL;
      ahead = got == want ? reader_boundary_ahead (r, 0, &local) : AHEAD_NO;
      if (local != NULL) {
        g_propagate_error (error, local);
        return NULL;
      }
      reader_unread (r, msg->data + before, msg->len - before);
      g_byte_array_set_size (msg, (guint)before);
    }
    /* otherwise Content-Length lied (or cannot be checked): the body is
     * read by From_ lines instead */
    if (ahead == AHEAD_YES) {
      body_done = TRUE;
      if (s->headers_only) {
        body_size = (gsize)want;
        if (!reader_skip (r, (gsize)want, error))
          return NULL;
      } else {
        gsize got = 0;
        if (!reader_take (r, msg, (gsize)want, &got, error))
          return NULL;
        if (got != want) {
          g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO,
                       "'%s' changed while it was read: message %u is cut short", s->path,
                       s->index + 1);
          return NULL;
        }
      }
      /* skip the separating blank line, take the next From_ line */
      if (!reader_line (r, &line, &n, error))
        return NULL;
      if (is_blank (line, n) && !reader_line (r, &line, &n, error))
        return NULL;
      if (n > 0) {
        s->pending_from = g_byte_array_new ();
        g_byte_array_append (s->pending_from, line, (guint)n);
        s->pending_offset = r->offset - (goffset)n;
      }
    }
  }
  g_autoptr (GBytes) slice = NULL;
  if (!body_done) {
    MboxMessage m
        = { .data = msg, .count_only = s->headers_only, .may_slice = r->keep != G_MAXSIZE };
    gboolean ok = mbox_body (s, &m, error);
    slice = m.slice;
    if (!ok)
      return NULL;
    body_size = m.counted;
  }
  r->keep = G_MAXSIZE;

  MsgtkItem *item = g_new0 (MsgtkItem, 1);
  item->index = ++s->index;
  item->path = g_strdup (s->path);
  item->offset = from_offset;
  item->identity = g_strdup_printf ("mbox:%s@%" G_GINT64_FORMAT, s->abs_path, (gint64)from_offset);
  item->flags = flags;
  item->internal_date = parse_from_date (from->data, from->len);
  item->envelope_sender = from_line_sender (from->data, from->len);
  item->size = slice != NULL ? (goffset)g_bytes_get_size (slice) : (goffset)(msg->len + body_size);
  item->bytes
      = slice != NULL ? g_steal_pointer (&slice) : mbox_bytes_fitted (g_steal_pointer (&msg));
  item->stream = g_memory_input_stream_new_from_bytes (item->bytes);
  return item;
}

MsgtkItem *
mbox_reader_take_all (MboxReader *s, GError **error)
{
  g_autoptr (GByteArray) msg = g_byte_array_new ();
  gsize got;
  if (!reader_take (&s->reader, msg, G_MAXSIZE, &got, error)) {
    g_prefix_error (error, "cannot read '%s': ", s->path);
    return NULL;
  }
  MsgtkItem *item = g_new0 (MsgtkItem, 1);
  item->index = ++s->index;
  item->path = g_strdup (s->path);
  item->identity = g_strdup_printf ("stream:%s", s->abs_path);
  item->size = msg->len;
  item->flags = mbox_header_info (msg->data, msg->len, NULL);
  item->bytes = mbox_bytes_fitted (g_steal_pointer (&msg));
  item->stream = g_memory_input_stream_new_from_bytes (item->bytes);
  return item;
}
