/**
 * SECTION:msgtk
 * @title: libmsgtk
 * @short_description: the umbrella header: include this to use libmsgtk
 *
 * `#include <msgtk/msgtk.h>` includes every public header of libmsgtk.
 * Messages come out of sources (#MsgtkSource) as raw bytes plus metadata
 * (#MsgtkItem), are inspected (#MsgtkInspection) or built from drafts
 * (#MsgtkDraft), and go to sinks (#MsgtkSink), to an SMTP server
 * (#MsgtkSmtp) or to IMAP mailboxes (#MsgtkImapSession, msgtk_upload()).
 * Fallible functions fail with errors of the %MSGTK_ERROR domain
 * (msgtk/error.h).
 */
#pragma once

#include <msgtk/error.h>
#include <msgtk/init.h>
#include <msgtk/charset.h>
#include <msgtk/flags.h>
#include <msgtk/message.h>
#include <msgtk/imap.h>
#include <msgtk/imap-append.h>
#include <msgtk/imap-mailbox.h>
#include <msgtk/folder-map.h>
#include <msgtk/labels.h>
#include <msgtk/journal.h>
#include <msgtk/upload.h>
#include <msgtk/utf7.h>
#include <msgtk/terminal.h>
#include <msgtk/source.h>
#include <msgtk/inspect.h>
#include <msgtk/extract.h>
#include <msgtk/json.h>
#include <msgtk/lint.h>
#include <msgtk/scan.h>
#include <msgtk/summary.h>
#include <msgtk/view.h>
#include <msgtk/sink.h>
#include <msgtk/draft.h>
#include <msgtk/encode.h>
#include <msgtk/connection.h>
#include <msgtk/account.h>
#include <msgtk/sasl.h>
#include <msgtk/smtp.h>
#include <msgtk/smtp-transaction.h>
#include <msgtk/spool.h>
#include <msgtk/submit.h>
