/* msgtk — the source module's inside: a source's state (source.c: opening
 * paths and streams, reading files and mboxes, iterating) and the tree of
 * a directory read into folders and entries (source-tree.c: every layout
 * mail programs leave, told by names and structure, before any file is
 * read). */
#pragma once

#include <msgtk/error.h>
#include <msgtk/source.h>

#include "decompress-private.h"
#include "mbox-reader-private.h"

G_BEGIN_DECLS

/* What a directory tree holds, in the order it is read: each directory's
 * files, then its folders. */
typedef enum {
  ENTRY_FILE,    /* told by its content when it is reached */
  ENTRY_MAILDIR, /* a file of a maildir's cur/ or new/: a message */
  ENTRY_PROBLEM, /* something to report where it stands */
} EntryKind;

typedef struct {
  EntryKind kind;
  guint dir;       /* its directory, in the source's dirs */
  char *path;      /* NULL for a problem */
  GError *problem; /* ENTRY_PROBLEM */
} Entry;

typedef struct {
  char *path;
  char *folder;       /* of the messages in it; NULL at the top */
  gboolean bundle;    /* in an Apple Mail .mbox bundle */
  GArray *unseen;     /* MH (.mh_sequences): the unseen sequence, pairs of
                       * numbers; NULL in other directories */
  char *keywords[26]; /* maildir (dovecot-keywords): the keyword of each
                       * letter a-z of its files' names; NULL: none */
  guint files;        /* its entries of files */
  guint messages;     /* messages that came out of them */
  guint last;         /* its last entry, when @files */
  GPtrArray *junk;    /* GError *: its files that hold no message, told once
                       * all of them were read */
} Dir;

struct _MsgtkSource {
  MsgtkSourceFormat format;
  gboolean headers_only; /* items hold their header block only */
  char *path;            /* as given, "-" for stdin */
  char *abs_path;        /* absolute, for identities */
  guint index;
  /* an mbox or a stream; in a tree, the file being read as an mbox */
  MboxReader *mbox;
  Compression compression; /* of @mbox's data */
  /* a single message: the file (an .emlx one?), or the stream */
  gboolean single_file, single_emlx;
  gboolean done;
  /* a directory tree */
  GArray *entries; /* Entry */
  GPtrArray *dirs; /* Dir * */
  guint next_entry;
  guint mbox_entry;    /* the entry @mbox reads */
  char *mbox_folder;   /* the folder of its messages */
  GQueue told;         /* GError *: reports to give before going on */
  guint items, errors; /* given so far */
  gboolean told_nothing;
};

/* ---- source-tree.c ---- */

/* Whether @dir holds a maildir's cur/ or new/. */
gboolean source_is_maildir (const char *dir);

/* Whether @s is made of digits only (MH message numbers). */
gboolean source_all_digits (const char *s);

/* @name under @folder ("" or NULL: the top), '/' between. */
char *source_folder_join (const char *folder, const char *name);

/* Whether @name ends in @suffix, with something before it. */
gboolean source_has_suffix (const char *name, const char *suffix);

/* The entries of the directory @path, in the order they are read: the one
 * tree walk, or the files of a maildir's cur/ or new/ given alone. */
void source_collect_tree (MsgtkSource *s, const char *path);

G_END_DECLS
