/*
 * lance/writer.h - writing one Lance data file, format 2.0, in row batches.
 *
 * The writer streams pages straight from the caller's column arrays into the
 * file (64-byte aligned buffers), keeping only per-page bookkeeping in
 * memory; `finish` writes the schema (global buffer 0), the column metadata,
 * the offset tables and the footer, then fsyncs. Column arrays are given in
 * the table's schema order; a NULL column means "all null".
 */
#ifndef RESONA_LANCE_WRITER_H
#define RESONA_LANCE_WRITER_H

#include "lance/table_int.h"

typedef struct lance_writer lance_writer;

/** Start data/<uuid>.lance in table t (schema = t's top-level fields). */
int resona__writer_open(const resona_table *t, lance_writer **out);
/** Append rows; cols[i] is schema field i (NULL = all null). Checked by the caller. */
int resona__writer_write(lance_writer *w, const resona_column *const *cols, size_t rows);
/**
 * Finish and fsync. Fills *df (path and arrays owned by the writer: keep
 * the writer until df is no longer used) and *rows.
 */
int resona__writer_finish(lance_writer *w, Lt__DataFile **df, uint64_t *rows);
/** Remove the file (if not kept) and free. keep=1 after a successful commit. */
void resona__writer_free(lance_writer *w, int keep);

/** Validate a column view against a field for `rows` rows (nulls, offsets). */
int resona__column_check(const resona_field *f, const resona_column *c, size_t rows);

#endif
