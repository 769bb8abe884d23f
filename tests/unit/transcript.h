/* The one harness for protocol tests: a transcript (a scripted server's
 * lines, the client's lines it expects, in order, as an RFC example dialogue
 * reads) played by a server on a loopback port, in a thread of the test.
 * The format is described in tests/data/transcripts/README.md; every file
 * there is run by test-transcripts (transcript_run), and test-smtp and
 * test-imap drive their own client against transcripts written in their
 * source where they check results (per-recipient replies, message status,
 * callbacks) beside the dialogue. The integration tests' tools meet the
 * same server as a program, tests/servers/transcript-peer. */
#pragma once

#include <msgtk/msgtk.h>

G_BEGIN_DECLS

typedef struct _Transcript Transcript;

/* Parse a transcript; @name is what messages call it. */
Transcript *transcript_parse (const char *name, const char *text, GError **error);
/* Read and parse the transcript file @path. */
Transcript *transcript_load (const char *path, GError **error);
void transcript_free (Transcript *transcript);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Transcript, transcript_free)

/* FALSE with @error if @transcript's header has fields for
 * transcript_run's own client (run:, fails:, the account, what it sends):
 * for a peer whose client is a program under test (transcript-peer). */
gboolean transcript_check_server_only (Transcript *transcript, GError **error);

/* The scripted server of a transcript, listening on 127.0.0.1; it takes the
 * client's connections one at a time, in the order the client makes them,
 * each playing its part of the dialogue (-- connection --). */
typedef struct _TranscriptPeer TranscriptPeer;

TranscriptPeer *transcript_peer_new (Transcript *transcript, GError **error);
/* transcript_peer_new(), asserting that it could listen. */
TranscriptPeer *transcript_peer_start (Transcript *transcript);
guint16 transcript_peer_get_port (TranscriptPeer *peer);
/* The throw-away certificate of its TLS (made now if it is not yet), the
 * file for a client to trust; removed when the process exits. */
const char *transcript_peer_get_cafile (TranscriptPeer *peer);
/* An account that reaches the peer: 127.0.0.1, its port, a 5 s timeout,
 * the TLS mode and credentials of the transcript's header, and its
 * throw-away certificate as the trust file. */
MsgtkAccount *transcript_peer_account (TranscriptPeer *peer);
/* A plaintext TCP connection to the peer (for sessions made over a stream,
 * msgtk_imap_session_new_for_stream). */
GIOStream *transcript_peer_connect (TranscriptPeer *peer);
/* Wait until the peer is done (call it once the client has closed its last
 * connection, or the transcript ends with "-- close --"): FALSE with
 * @error saying where the client departed from the transcript (a
 * connection the transcript does not have is one). Frees @peer. */
gboolean transcript_peer_finish (TranscriptPeer *peer, GError **error);

/* Play @transcript against the client steps of its header (run:, fails:,
 * mechanism:): the dialogue must go as written, every step end as the
 * transcript says, and no secret may show in the client's trace or in an
 * error message. */
gboolean transcript_run (Transcript *transcript, GError **error);

/* For tests in C: a peer for the transcript @text (which must parse). */
TranscriptPeer *transcript_start_text (const char *name, const char *text);
/* transcript_peer_finish(), asserting that the dialogue went as written. */
void transcript_assert_finish (TranscriptPeer *peer);

G_END_DECLS
