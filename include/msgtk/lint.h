/* msgtk — lint: the parser's findings and the RFC 5322/2045/2047/2231 checks,
 * under stable codes. */
#pragma once

#include <msgtk/inspect.h>

G_BEGIN_DECLS

/* Lint: the defects plus RFC 5322/2045/2047/2231 checks; MsgtkFinding array
 * (owned by the caller). */
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
 * Returns: (nullable) (transfer none): the table's entry for @code, or %NULL.
 */
const MsgtkLintCode *msgtk_lint_code_lookup (const char *code);

G_END_DECLS
