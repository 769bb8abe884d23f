/* msgbuild — build RFC 5322/MIME messages from options or JSON drafts. */
#include "cli.h"

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

static const char *prog = "msgbuild";

typedef struct {
  char *path, *type, *name, *cid;
  gboolean inline_;
} AttachOpt;

static GPtrArray *attachments; /* AttachOpt* in command-line order */

static void
attach_opt_free (gpointer p)
{
  AttachOpt *a = p;
  g_free (a->path);
  g_free (a->type);
  g_free (a->name);
  g_free (a->cid);
  g_free (a);
}

static gboolean
on_attach (const char *name, const char *value, gpointer data, GError **error)
{
  if (g_str_equal (name, "--attach")) {
    AttachOpt *a = g_new0 (AttachOpt, 1);
    a->path = g_strdup (value);
    g_ptr_array_add (attachments, a);
    return TRUE;
  }
  if (attachments->len == 0) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "%s applies to the --attach before it; give --attach FILE first", name);
    return FALSE;
  }
  AttachOpt *a = g_ptr_array_index (attachments, attachments->len - 1);
  char **slot = g_str_equal (name, "--attach-type")   ? &a->type
                : g_str_equal (name, "--attach-name") ? &a->name
                : g_str_equal (name, "--cid")         ? &a->cid
                                                      : NULL;
  if (slot) {
    g_free (*slot);
    *slot = g_strdup (value);
  } else {
    a->inline_ = TRUE; /* --inline */
  }
  return TRUE;
}

static char *opt_from, *opt_sender, *opt_reply_to, *opt_subject, *opt_date, *opt_mid,
    *opt_mid_domain, *opt_in_reply_to, *opt_references, *opt_text, *opt_html, *opt_input_charset,
    *opt_charset, *opt_fname_enc, *opt_draft, *opt_output, *opt_mbox, *opt_maildir, *opt_outdir;
static char **opt_to, **opt_cc, **opt_bcc, **opt_headers;
static gboolean opt_keep_bcc, opt_reproducible, opt_crlf;

static GOptionEntry header_entries[] = {
  { "from", 0, 0, G_OPTION_ARG_STRING, &opt_from, "Author address (From)", "ADDR" },
  { "to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_to, "Recipient(s) (repeatable)", "ADDR" },
  { "cc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_cc, "Carbon copy (repeatable)", "ADDR" },
  { "bcc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_bcc, "Blind copy (repeatable)", "ADDR" },
  { "keep-bcc", 0, 0, G_OPTION_ARG_NONE, &opt_keep_bcc, "Keep the Bcc header (default: drop it)",
    NULL },
  { "reply-to", 0, 0, G_OPTION_ARG_STRING, &opt_reply_to, "Reply-To address", "ADDR" },
  { "sender", 0, 0, G_OPTION_ARG_STRING, &opt_sender, "Sender address", "ADDR" },
  { "subject", 's', 0, G_OPTION_ARG_STRING, &opt_subject, "Subject (UTF-8)", "TEXT" },
  { "date", 0, 0, G_OPTION_ARG_STRING, &opt_date, "Date (RFC 5322 or ISO 8601; default now)",
    "DATE" },
  { "message-id", 0, 0, G_OPTION_ARG_STRING, &opt_mid, "Message-ID (default: generated)", "ID" },
  { "message-id-domain", 0, 0, G_OPTION_ARG_STRING, &opt_mid_domain,
    "Domain of generated Message-IDs (default: the From domain)", "DOMAIN" },
  { "in-reply-to", 0, 0, G_OPTION_ARG_STRING, &opt_in_reply_to, "In-Reply-To message id(s)", "ID" },
  { "references", 0, 0, G_OPTION_ARG_STRING, &opt_references, "References message ids", "IDS" },
  { "header", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &opt_headers,
    "Extra header 'Name: value' (repeatable)", "HEADER" },
  { "charset", 0, 0, G_OPTION_ARG_STRING, &opt_charset,
    "Charset for headers and bodies (default: smallest that fits)", "CHARSET" },
  { NULL },
};

static GOptionEntry body_entries[] = {
  { "text", 't', 0, G_OPTION_ARG_FILENAME, &opt_text, "Plain text body from FILE (- = stdin)",
    "FILE" },
  { "html", 0, 0, G_OPTION_ARG_FILENAME, &opt_html, "HTML body from FILE", "FILE" },
  { "input-charset", 0, 0, G_OPTION_ARG_STRING, &opt_input_charset,
    "Charset of the body files (default UTF-8)", "CHARSET" },
  { "attach", 'a', 0, G_OPTION_ARG_CALLBACK, on_attach, "Attach FILE (repeatable)", "FILE" },
  { "attach-type", 0, 0, G_OPTION_ARG_CALLBACK, on_attach,
    "Content type of the last --attach (default: guessed)", "TYPE" },
  { "attach-name", 0, 0, G_OPTION_ARG_CALLBACK, on_attach, "File name shown for the last --attach",
    "NAME" },
  { "inline", 0, G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, on_attach,
    "Make the last --attach inline", NULL },
  { "cid", 0, 0, G_OPTION_ARG_CALLBACK, on_attach,
    "Content-ID of the last --attach (for cid: in the HTML)", "ID" },
  { "filename-encoding", 0, 0, G_OPTION_ARG_STRING, &opt_fname_enc,
    "Non-ASCII file names: rfc2231 (default) or rfc2047", "METHOD" },
  { "draft", 'd', 0, G_OPTION_ARG_FILENAME, &opt_draft,
    "JSON draft or JSON Lines drafts from FILE (- = stdin)", "FILE" },
  { NULL },
};

static GOptionEntry output_entries[] = {
  { "output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output, "Write the message to FILE atomically",
    "FILE" },
  { "mbox", 0, 0, G_OPTION_ARG_FILENAME, &opt_mbox, "Append to the mbox FILE", "FILE" },
  { "maildir", 0, 0, G_OPTION_ARG_FILENAME, &opt_maildir, "Deliver into the maildir DIR", "DIR" },
  { "outdir", 0, 0, G_OPTION_ARG_FILENAME, &opt_outdir, "Write numbered .eml files into DIR",
    "DIR" },
  { "crlf", 0, 0, G_OPTION_ARG_NONE, &opt_crlf, "End lines with CRLF (default LF)", NULL },
  { "reproducible", 0, 0, G_OPTION_ARG_NONE, &opt_reproducible,
    "Byte-identical output for the same input (also with SOURCE_DATE_EPOCH)", NULL },
  { NULL },
};

static GBytes *
read_input (const char *path, GError **error)
{
  g_autoptr (GError) e = NULL;
  char *data = NULL;
  gsize len = 0;
  errno = 0;
  if (g_str_equal (path, "-")) {
    GByteArray *buf = g_byte_array_new ();
    guint8 chunk[65536];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, stdin)) > 0)
      g_byte_array_append (buf, chunk, (guint)n);
    if (ferror (stdin)) {
      g_byte_array_unref (buf);
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_IO, "cannot read standard input: %s",
                   g_strerror (errno));
      return NULL;
    }
    return g_byte_array_free_to_bytes (buf);
  }
  if (!g_file_get_contents (path, &data, &len, &e)) {
    g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_NO_INPUT, "cannot read '%s': %s", path,
                 e->message);
    return NULL;
  }
  return g_bytes_new_take (data, len);
}

/* Apply the command-line options to @d (after any JSON draft fields). */
static gboolean
apply_options (MsgtkDraft *d, GBytes *text, GBytes *html, GError **error)
{
  struct {
    const char *field;
    const char *value;
  } singles[] = {
    { "from", opt_from },
    { "sender", opt_sender },
    { "reply-to", opt_reply_to },
    { "subject", opt_subject },
    { "date", opt_date },
    { "message-id", opt_mid },
    { "message-id-domain", opt_mid_domain },
    { "in-reply-to", opt_in_reply_to },
    { "references", opt_references },
    { "charset", opt_charset },
    { "input-charset", opt_input_charset },
    { "filename-encoding", opt_fname_enc },
  };
  for (guint i = 0; i < G_N_ELEMENTS (singles); i++)
    if (singles[i].value && !msgtk_draft_set (d, singles[i].field, singles[i].value, error))
      return FALSE;
  char **lists[] = { opt_to, opt_cc, opt_bcc };
  const char *names[] = { "to", "cc", "bcc" };
  for (guint i = 0; i < G_N_ELEMENTS (lists); i++)
    for (guint j = 0; lists[i] && lists[i][j]; j++)
      if (!msgtk_draft_set (d, names[i], lists[i][j], error))
        return FALSE;
  for (guint i = 0; opt_headers && opt_headers[i]; i++) {
    const char *colon = strchr (opt_headers[i], ':');
    if (!colon) {
      g_set_error (error, MSGTK_ERROR, MSGTK_ERROR_USAGE,
                   "--header '%s': write it as 'Name: value'", opt_headers[i]);
      return FALSE;
    }
    g_autofree char *name = g_strndup (opt_headers[i], (gsize)(colon - opt_headers[i]));
    const char *value = colon + 1;
    while (*value == ' ' || *value == '\t')
      value++;
    if (!msgtk_draft_add_header (d, name, value, error))
      return FALSE;
  }
  if (opt_keep_bcc)
    msgtk_draft_set_keep_bcc (d, TRUE);
  if (text)
    msgtk_draft_set_text (d, text);
  if (html)
    msgtk_draft_set_html (d, html);
  for (guint i = 0; i < attachments->len; i++) {
    AttachOpt *a = g_ptr_array_index (attachments, i);
    if (!msgtk_draft_add_attachment (d, a->path, a->type, a->name, a->inline_, a->cid, error))
      return FALSE;
  }
  return TRUE;
}

static int
run (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- build an Internet message");
  g_option_context_set_summary (ctx, "Builds RFC 5322/MIME messages from options or JSON drafts "
                                     "and writes them to stdout, a file, an mbox or a maildir.");
  GOptionGroup *hg
      = g_option_group_new ("headers", "Header options:", "Show header options", NULL, NULL);
  g_option_group_add_entries (hg, header_entries);
  g_option_context_add_group (ctx, hg);
  GOptionGroup *bg = g_option_group_new ("content", "Content options:",
                                         "Show body, attachment and draft "
                                         "options",
                                         NULL, NULL);
  g_option_group_add_entries (bg, body_entries);
  g_option_context_add_group (ctx, bg);
  g_option_context_add_main_entries (ctx, output_entries, NULL);
  if (!cli_parse (ctx, prog, &argc, &argv))
    return EX_USAGE;
  if (argc > 1) {
    fprintf (stderr, "%s: unexpected argument '%s'; try '%s --help-all'\n", prog, argv[1], prog);
    return EX_USAGE;
  }
  int outputs = !!opt_output + !!opt_mbox + !!opt_maildir + !!opt_outdir;
  if (outputs > 1) {
    fprintf (stderr, "%s: give at most one of -o, --mbox, --maildir, --outdir\n", prog);
    return EX_USAGE;
  }
  if ((opt_text && g_str_equal (opt_text, "-")) && (opt_draft && g_str_equal (opt_draft, "-"))) {
    fprintf (stderr, "%s: --text - and --draft - cannot both read standard input\n", prog);
    return EX_USAGE;
  }

  gboolean reproducible = opt_reproducible;
  gint64 epoch = 0;
  const char *sde = g_getenv ("SOURCE_DATE_EPOCH");
  if (sde && *sde) {
    char *end;
    errno = 0;
    long long v = strtoll (sde, &end, 10);
    if (errno || *end || v < 0) {
      fprintf (stderr, "%s: SOURCE_DATE_EPOCH '%s' is not a number of seconds\n", prog, sde);
      return EX_USAGE;
    }
    epoch = v;
    reproducible = TRUE;
  }

  g_autoptr (GBytes) text = NULL, html = NULL;
  if (opt_text && !(text = read_input (opt_text, &error)))
    return cli_report_error (prog, error);
  if (opt_html && !(html = read_input (opt_html, &error)))
    return cli_report_error (prog, error);

  g_autoptr (GPtrArray) drafts = NULL;
  if (opt_draft) {
    g_autoptr (GBytes) json = read_input (opt_draft, &error);
    if (!json)
      return cli_report_error (prog, error);
    g_autofree char *base = g_str_equal (opt_draft, "-") ? NULL : g_path_get_dirname (opt_draft);
    gsize len;
    const char *data = g_bytes_get_data (json, &len);
    drafts = msgtk_draft_parse_json_many (data ? data : "", len, base, &error);
    if (!drafts) {
      g_prefix_error (&error, "%s: ", opt_draft);
      return cli_report_error (prog, error);
    }
  } else {
    drafts = g_ptr_array_new_with_free_func ((GDestroyNotify)msgtk_draft_free);
    g_ptr_array_add (drafts, msgtk_draft_new ());
  }
  if (drafts->len > 1 && !opt_mbox && !opt_maildir && !opt_outdir) {
    fprintf (stderr, "%s: %s holds %u drafts; write them with --mbox, --maildir or --outdir\n",
             prog, opt_draft, drafts->len);
    return EX_USAGE;
  }

  MsgtkSinkKind kind = opt_output    ? MSGTK_SINK_FILE
                       : opt_mbox    ? MSGTK_SINK_MBOX
                       : opt_maildir ? MSGTK_SINK_MAILDIR
                       : opt_outdir  ? MSGTK_SINK_DIR
                                     : MSGTK_SINK_STDOUT;
  const char *path = opt_output    ? opt_output
                     : opt_mbox    ? opt_mbox
                     : opt_maildir ? opt_maildir
                                   : opt_outdir;
  cli_catch_interrupts ();
  /* Build the first message before opening the sink: a bad draft leaves nothing. */
  g_autoptr (MsgtkSink) sink = NULL;
  guint i;
  for (i = 0; i < drafts->len; i++) {
    MsgtkDraft *d = g_ptr_array_index (drafts, i);
    if (!apply_options (d, text, html, &error))
      goto fail;
    msgtk_draft_set_reproducible (d, reproducible, epoch);
  }
  /* Build the first message before opening the sink: a bad draft leaves nothing. */
  i = 0;
  GMimeMessage *first = msgtk_draft_build (g_ptr_array_index (drafts, 0), &error);
  if (!first)
    goto fail;
  sink = msgtk_sink_new (kind, path, &error);
  if (!sink) {
    g_object_unref (first);
    goto fail;
  }
  if (opt_crlf)
    msgtk_sink_set_eol (sink, MSGTK_EOL_CRLF);
  gboolean ok = msgtk_sink_write_message (sink, first, 0, NULL, NULL, &error);
  g_object_unref (first);
  if (!ok)
    goto fail;
  g_clear_pointer (&g_ptr_array_index (drafts, 0), msgtk_draft_free);
  if (!msgtk_draft_write_all (drafts, 1, sink, 0, &i, &error))
    goto fail;
  if (!msgtk_sink_commit (sink, &error))
    goto fail;
  return EX_OK;
fail:
  if (cli_interrupt_signal ()) {
    /* the sink, freed on the way out, takes back what it wrote */
    fprintf (stderr, "%s: interrupted; nothing written%s%s\n", prog, path ? " to " : "",
             path ? path : "");
    return 128 + cli_interrupt_signal ();
  }
  if (drafts->len > 1)
    g_prefix_error (&error, "draft %u of %u: ", i + 1, drafts->len);
  return cli_report_error (prog, error);
}

int
main (int argc, char **argv)
{
  msgtk_init ();
  attachments = g_ptr_array_new_with_free_func (attach_opt_free);
  int r = run (argc, argv);
  g_ptr_array_unref (attachments);
  g_free (opt_from);
  g_free (opt_sender);
  g_free (opt_reply_to);
  g_free (opt_subject);
  g_free (opt_date);
  g_free (opt_mid);
  g_free (opt_mid_domain);
  g_free (opt_in_reply_to);
  g_free (opt_references);
  g_free (opt_text);
  g_free (opt_html);
  g_free (opt_input_charset);
  g_free (opt_charset);
  g_free (opt_fname_enc);
  g_free (opt_draft);
  g_free (opt_output);
  g_free (opt_mbox);
  g_free (opt_maildir);
  g_free (opt_outdir);
  g_strfreev (opt_to);
  g_strfreev (opt_cc);
  g_strfreev (opt_bcc);
  g_strfreev (opt_headers);
  return r;
}
