/* TEMPORARY stand-in for mkbuild's sink.h (replaced by theirs on merge). */
#pragma once
#include <glib.h>
G_BEGIN_DECLS
typedef enum {
  MSGTK_FLAG_NONE = 0,
  MSGTK_FLAG_SEEN = 1 << 0,
  MSGTK_FLAG_ANSWERED = 1 << 1,
  MSGTK_FLAG_FLAGGED = 1 << 2,
  MSGTK_FLAG_DELETED = 1 << 3,
  MSGTK_FLAG_DRAFT = 1 << 4,
} MsgtkFlags;
static inline MsgtkFlags
msgtk_flags_from_maildir (const char *letters)
{
  MsgtkFlags f = 0;
  for (; *letters; letters++)
    f |= *letters == 'S' ? MSGTK_FLAG_SEEN : *letters == 'R' ? MSGTK_FLAG_ANSWERED
       : *letters == 'F' ? MSGTK_FLAG_FLAGGED : *letters == 'T' ? MSGTK_FLAG_DELETED
       : *letters == 'D' ? MSGTK_FLAG_DRAFT : 0;
  return f;
}
static inline MsgtkFlags
msgtk_flags_from_mbox (const char *status, const char *x_status)
{
  MsgtkFlags f = 0;
  for (; status && *status; status++)
    f |= *status == 'R' ? MSGTK_FLAG_SEEN : 0;
  for (; x_status && *x_status; x_status++)
    f |= *x_status == 'A' ? MSGTK_FLAG_ANSWERED : *x_status == 'F' ? MSGTK_FLAG_FLAGGED
       : *x_status == 'D' ? MSGTK_FLAG_DELETED : *x_status == 'T' ? MSGTK_FLAG_DRAFT : 0;
  return f;
}
G_END_DECLS
