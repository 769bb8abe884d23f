/* The summary from a headers-only inspection (MSGTK_INSPECT_SUMMARY on the
 * header block, msgtk_inspection_new_for_headers()) is the one a full
 * inspection gives. */
#include <msgtk/msgtk.h>
#include <string.h>

static const char *const messages[] = {
  "From: =?utf-8?Q?Zo=C3=AB?= <zoe@example.org>\n"
  "Received: from a by b\n"
  "Subject: =?iso-8859-1?Q?Gr=FC=DFe?=\n"
  " folded on\n"
  "Date: Mon, 2 Feb 2026 10:00:00 +0100\n"
  "Content-Type: multipart/mixed; boundary=x\n"
  "\n"
  "--x\nContent-Type: text/plain\n\nhi\n--x--\n",
  "Subject: first\nSubject: second\nFrom: a@example.org, b@example.org\n\nbody\n",
  /* only Content-* fields: no field of the message's own */
  "MIME-Version: 1.0\nContent-Type: text/html\n\n<p>x</p>\n",
  "Content-Type: text/plain\n\nno message fields at all\n",
  /* not well-formed: seen as it is */
  " leading space\nFrom: x@example.org\n\nbody\n",
  "From: x@example.org\nno colon here\nSubject: after\n\nbody\n",
  "From: y@example.org\r\nSubject: crlf\r\n\r\nbody\r\n",
  "Subject: no blank line and no body",
  "just text, no header at all\n",
};

static void
test_same_summary (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (messages); i++) {
    const char *m = messages[i];
    g_autoptr (GBytes) whole = g_bytes_new_static (m, strlen (m));
    const char *blank = strstr (m, "\n\n");
    const char *crlf = strstr (m, "\r\n\r\n");
    gsize head = crlf != NULL    ? (gsize)(crlf + 4 - m)
                 : blank != NULL ? (gsize)(blank + 2 - m)
                                 : strlen (m);
    g_autoptr (GBytes) block = g_bytes_new_static (m, head);
    g_autoptr (GError) e1 = NULL, e2 = NULL;
    g_autoptr (MsgtkInspection) full = msgtk_inspection_new (whole, NULL, MSGTK_INSPECT_FULL, &e1);
    g_autoptr (MsgtkInspection) fast = msgtk_inspection_new_for_headers (
        block, (goffset)strlen (m), NULL, MSGTK_INSPECT_SUMMARY, &e2);
    g_assert_true ((full == NULL) == (fast == NULL));
    if (full == NULL) {
      g_assert_cmpstr (e1->message, ==, e2->message);
      continue;
    }
    g_autofree char *want = msgtk_inspection_summary (full);
    g_autofree char *got = msgtk_inspection_summary (fast);
    g_assert_cmpstr (got, ==, want);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();
  g_test_add_func ("/inspect/summary-headers-only", test_same_summary);
  int rc = g_test_run ();
  g_mime_shutdown ();
  return rc;
}
