/*
 * pipeline/journal.h - the crash journal: rows generated but not yet
 * committed to the table, appended to a file next to it.
 *
 * Two files, `<table>.lance.journal` and `<table>.lance.journal.1` (LanceDB
 * lists only names ending in `.lance` as tables, and lance itself never
 * looks outside the table directory, so neither trips over them). They are
 * the two segments of one journal: the pipeline commits one buffer on its
 * writer thread while the next one fills (pipeline/flush.c), and each buffer's
 * rows go to their own segment, so that the committed buffer's segment can
 * be emptied without touching the rows of the one still filling. Rows are
 * added to the current segment; resona__journal_switch() makes the other
 * (empty) one current when a buffer is handed to the writer. Both files have
 * the same format, little-endian throughout:
 *
 *   file header, 16 bytes
 *     0   8  magic "RSNJRNL\0"
 *     8   4  format version = 1
 *     12  4  reserved (0)
 *   records, back to back
 *     0   4  payload length L (1 .. 1 GiB)
 *     4   4  CRC-32C of the payload
 *     8   L  payload:
 *              u32 id_len, id bytes
 *              64 bytes text_hash (lowercase hex)
 *              u32 text_len, text bytes
 *              u32 model_len, model bytes
 *              u32 metadata_len, metadata bytes
 *              f64 created_at
 *              u32 dim, dim x f32 vector
 *
 * Write policy. Rows are encoded into memory as they arrive and written to
 * the file (one write()) after each reply of the model, so a kill -9 loses
 * nothing the model returned before it (the page cache survives the
 * process). Before a flush deletes old rows, and at the end of a run that
 * leaves rows in it, the file is fsynced, so a delete never runs ahead of a
 * durable copy of the replacements (power loss included); a flush that only
 * appends does not wait for it (a power cut then loses model work, never a
 * table row). After a flush commits, its segment is truncated to its header.
 *
 * Recovery reads both segments (the first, then the second: an id in both
 * cannot happen, as a run submits an id once and empties both segments
 * after committing what it recovered), each until the end or until the
 * first record that is short or fails its CRC (a torn tail from a crash
 * mid-write); the tail is cut off. (A build older than the second file
 * recovers only the first one.) Recovered rows are committed as upserts (delete their ids, then
 * append), which is idempotent: a crash after a commit and before the
 * truncation only makes the next run commit the same rows again.
 *
 * The first file is locked (flock, exclusive, non-blocking) for the whole
 * run, and the lock covers both: a second run on the same table fails with
 * RESONA_ECONFLICT.
 *
 * Threads: one thread adds, writes, switches and resets; the only call
 * allowed from another thread at the same time is resona__journal_fsync()
 * of a segment that is not the current one.
 */
#ifndef RESONA_PIPELINE_JOURNAL_H
#define RESONA_PIPELINE_JOURNAL_H

#include "pipeline/row.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct resona_journal resona_journal;

/** CRC-32C (Castagnoli) of len bytes, continuing from crc (start with 0). */
uint32_t resona__crc32c(uint32_t crc, const void *data, size_t len);

/** Open (create) and lock the journal at path (and open path + ".1"). */
int resona__journal_open(const char *path, resona_journal **out);

/** Called for each recovered row; the callee owns the row. Return < 0 to stop. */
typedef int (*resona_journal_row_fn)(resona_prow *row, void *payload);

/**
 * Read every intact record from the start of the file and hand it to fn;
 * cut off a torn tail. *torn_out (may be NULL) is set to 1 when a tail was
 * cut. The file is not emptied (see resona__journal_reset).
 */
int resona__journal_recover(resona_journal *j, resona_journal_row_fn fn, void *payload,
                            int *torn_out);

/** Encode a row into the pending bytes of the current segment (not yet written). */
int resona__journal_add(resona_journal *j, const resona_prow *row);

/** Write the pending bytes to the current segment's file (one write). */
int resona__journal_write(resona_journal *j);

/** write + fsync of every segment that holds records. */
int resona__journal_sync(resona_journal *j);

/** fsync of one segment's file only (no write). See "Threads" above. */
int resona__journal_fsync(const resona_journal *j, int seg);

/** The current segment (0 or 1). */
int resona__journal_segment(const resona_journal *j);

/**
 * Write the pending bytes, then make the other segment current; *closed_out
 * gets the segment that was current (it now holds exactly the rows added
 * since it became current). The other segment must be empty (its rows
 * committed and reset): else RESONA_ERROR, nothing changed.
 */
int resona__journal_switch(resona_journal *j, int *closed_out);

/** Forget the records of one segment: truncate its file to its header. */
int resona__journal_reset_segment(resona_journal *j, int seg);

/** Forget every record of both segments. */
int resona__journal_reset(resona_journal *j);

/** Records currently in the files (recovered and added since the last reset). */
uint64_t resona__journal_records(const resona_journal *j);

/** Records currently in one segment's file. */
uint64_t resona__journal_segment_records(const resona_journal *j, int seg);

/** Close (unlock). Removes each file that holds no record. NULL is a no-op. */
void resona__journal_close(resona_journal *j);

#endif
