/* msgtk tools — shared command-line glue (not part of libmsgtk). */
#pragma once

#include <msgtk/msgtk.h>

G_BEGIN_DECLS

/* Print "PROG: MESSAGE" for @error on stderr (its hint in words for the
 * tools' options after it) and return its sysexits code. */
int cli_report_error (const char *prog, const GError *error);

/* What the user can do about @error, in words for the tools' options; NULL
 * when the library gave no hint. */
const char *cli_hint (const GError *error);

/* @error's message and its hint ("MESSAGE; HINT"), valid UTF-8. */
char *cli_error_text (const GError *error);

/* Set the locale (UTF-8 whatever the user's charset), add --version to
 * @context and parse argv with it; on failure print the error and a hint to
 * use --help, and return FALSE (the caller exits with EX_USAGE). --version
 * prints "PROG (msgtk) VERSION" and exits. */
gboolean cli_parse (GOptionContext *context, const char *prog, int *argc, char ***argv);

/* SIGINT, SIGTERM and SIGHUP from now on: the first asks the library to stop
 * writing (msgtk_interrupt()) and is remembered, a second ends the program
 * at once (exit 128 + signal). */
void cli_catch_interrupts (void);

/* The signal that interrupted the program, or 0. */
int cli_interrupt_signal (void);

G_END_DECLS

G_BEGIN_DECLS

/* The connection/account/secret options shared by msgsend and msgappend. */
typedef struct {
  char *account, *config, *host, *tls, *user, *auth, *trust_file, *fingerprint;
  char *password_command, *password_file, *token_command, *token_file;
  char *compress; /* IMAP */
  int port, timeout;
  gboolean tls_insecure, trace;
} CliAccountOptions;

/* An option group "account" filling @opts (--account --config --host --port
 * --tls --user --auth --tls-trust-file --tls-fingerprint --tls-insecure
 * --password-command --password-file --token-command --token-file --timeout
 * --trace; for @protocol "imap" also --compress). */
GOptionGroup *cli_account_option_group (CliAccountOptions *opts, const char *protocol);

/* The account: config file ([defaults] and --account), then the options on
 * top. @protocol is "smtp" or "imap". Warns (as @prog) when the certificate
 * is not to be checked; the server's alerts are printed. */
MsgtkAccount *cli_account_resolve (CliAccountOptions *opts, const char *prog, const char *protocol,
                                   GError **error);

G_END_DECLS
