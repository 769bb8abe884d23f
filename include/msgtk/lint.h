/**
 * SECTION:msgtk-lint
 * @title: Lint
 * @short_description: the parser's findings and the RFC 5322/2045/2047/2231
 *   checks, under stable codes
 *
 * The checks msgparse --check runs on an inspected message, and the one
 * table of the codes its findings (and the parser's defects) can have, each
 * with its severity.
 */
#pragma once

#include <msgtk/inspect.h>

G_BEGIN_DECLS

/**
 * msgtk_inspection_check:
 * @inspection: an inspection parsed with its message's own fields (not
 *   %MSGTK_INSPECT_STRUCTURE)
 *
 * Lints the message: the parser's defects plus the RFC 5322/2045/2047/2231
 * checks (required and duplicate fields, encoded words, line lengths and
 * ends, MIME structure), each finding with the severity of its code in
 * msgtk_lint_codes().
 *
 * Returns: (transfer full) (element-type MsgtkFinding): the findings, owned
 *   by the caller.
 */
GPtrArray *msgtk_inspection_check (MsgtkInspection *inspection);

/**
 * MsgtkLintCode:
 * @code: the stable code ("MISSING_FROM")
 * @severity: the severity of its findings
 * @summary: what it means, in words
 *
 * One code a finding can have: of the parser's defects and of the lint's
 * checks alike.
 */
typedef struct {
  const char *code;
  MsgtkSeverity severity;
  const char *summary;
} MsgtkLintCode;

/**
 * msgtk_lint_codes:
 * @n_codes: (out): the number of codes
 *
 * The one table of finding codes: msgparse(1)'s list and doc/VIOLATIONS.md
 * are checked against it by a test.
 *
 * Returns: (array length=n_codes) (transfer none): every code.
 */
const MsgtkLintCode *msgtk_lint_codes (guint *n_codes);

/**
 * msgtk_lint_code_lookup:
 * @code: a code
 *
 * Looks up a code in the table of msgtk_lint_codes().
 *
 * Returns: (nullable) (transfer none): the table's entry for @code, or %NULL.
 */
const MsgtkLintCode *msgtk_lint_code_lookup (const char *code);

G_END_DECLS
