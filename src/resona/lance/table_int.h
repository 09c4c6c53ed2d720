/*
 * lance/table_int.h - the resona_table handle and what the Lance module's
 * files share: manifest loading and committing (manifest.c), data file
 * reading (reader.c) and writing (writer.c), deletion vectors (deletion.c).
 *
 * A handle holds one decoded manifest (protobuf-c message, owned) plus the
 * raw IndexSection bytes, and a flat view of its top-level schema. Changing
 * operations build the next manifest as a shallow copy of the current one
 * with a few members replaced, pack it, commit it, and then reload the
 * handle from disk, so the handle always mirrors a committed version.
 */
#ifndef RESONA_LANCE_TABLE_INT_H
#define RESONA_LANCE_TABLE_INT_H

#include <resona/table.h>

#include "lance_table.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/* Data format of a table version. */
enum lance_format { LANCE_FMT_UNKNOWN = 0, LANCE_FMT_LEGACY, LANCE_FMT_20, LANCE_FMT_21,
                   LANCE_FMT_22 };

/* Feature flags (lance-format.md 2.10). */
#define LANCE_FLAG_DELETION_FILES 1u
#define LANCE_FLAG_STABLE_ROW_IDS 2u
#define LANCE_FLAG_TABLE_CONFIG 8u

/* Limits on what we read (bad input must not make us allocate without bound). */
#define LANCE_MAX_MANIFEST_BYTES ((size_t)1 << 30)
#define LANCE_MAX_META_BYTES ((size_t)64 << 20)

struct resona_table {
    char *path;
    resona_manifest_naming naming;
    uint64_t version;
    Lt__Manifest *man;  /* owned, unpacked with resona__pb_alloc */
    uint8_t *index_raw; /* IndexSection message bytes (no length prefix) or NULL */
    size_t index_len;
    Lt__IndexSection *index; /* decoded index section or NULL */
    char **index_names;      /* borrowed from index */
    size_t index_count;
    resona_field *fields; /* top-level fields, names/logical types borrowed from man */
    size_t nfields;
    size_t *field_pb; /* fields[i] is man->fields[field_pb[i]] */
    resona_schema schema;
    int nested;             /* schema has child fields */
    int format;             /* enum lance_format */
    const char *format_str; /* borrowed or static */
    int committed;          /* last resona__manifest_commit linked its version (even if the
                               reload after it failed): its files must be kept */
    uint64_t last_commit;   /* version the current/last public write call linked, 0 = none
                               (resona_table_last_commit); reset when such a call starts */
};

/* ---- manifest.c ---- */

typedef struct lance_version_list {
    uint64_t *versions; /* sorted ascending */
    char **names;       /* file names in _versions/ (parallel) */
    size_t count;
    int naming; /* resona_manifest_naming of the names, -1 if none */
    int mixed;  /* both schemes present */
} lance_version_list;

int resona__versions_list(const char *table_path, lance_version_list *out);
void resona__versions_free(lance_version_list *l);
/** File name (no directory) of a version's manifest under a naming scheme. Caller frees. */
char *resona__manifest_name(resona_manifest_naming naming, uint64_t version);

/**
 * Decode a manifest file image: footer, Manifest message, IndexSection bytes.
 * `name` names the file in errors. Pure: no I/O (the fuzz target's entry).
 */
int resona__manifest_decode(const uint8_t *buf, size_t len, const char *name, Lt__Manifest **man,
                            uint8_t **index_raw, size_t *index_len);

/** (Re)load a handle at `version` (0 = latest). On failure the handle is unchanged. */
int resona__table_load(resona_table *t, uint64_t version);

/**
 * Commit `next` (a manifest for t->version + 1, fields set by the caller
 * except version/timestamp/transaction offsets/writer_version/flags) with
 * transaction `txn` (read_version and uuid are filled in here) and the
 * IndexSection bytes `index_raw` (may be NULL). Writes the .txn file and the
 * manifest via temp file + link(). RESONA_ECONFLICT if the version exists.
 * On success the handle is reloaded at the new version. t->committed tells
 * whether the version was linked, also when the reload after it failed.
 */
int resona__manifest_commit(resona_table *t, Lt__Manifest *next, Lt__Transaction *txn,
                            const uint8_t *index_raw, size_t index_len);

/**
 * Test hook: the next n commits fail with RESONA_EIO right after their
 * version is linked (as if fsyncing _versions/ or reloading the handle
 * failed): the version is in the table, the handle stays at the old one.
 */
void resona__table_fail_after_commit(int n);

/** Next fragment id for the handle's version. */
uint64_t resona__table_next_fragment_id(const resona_table *t);

/** Check that the handle's version may be written (format 2.0, flags we implement). */
int resona__table_check_writable(const resona_table *t);

/** Map a Lance field (logical type) to our type; dim set for vectors. */
resona_type resona__lance_type(const char *logical_type, uint32_t *dim);

#endif
