/*
 * sync/writeback.h - start the kernel's writeback of a file while it is
 * still being written.
 *
 * A sync builds a 70 MB database for 100k nodes and must fsync it before
 * the rename (an unsynced rename can leave an empty index after a crash).
 * Left alone, the kernel holds those pages dirty and the final fsync waits
 * for all of them; a background thread that asks for writeback every few
 * tens of milliseconds (sync_file_range, SYNC_FILE_RANGE_WRITE: start, do
 * not wait) lets the disk work while SQLite is still computing, and the
 * fsync finds little left. Where sync_file_range does not exist, the
 * thread is not started and nothing changes but the speed.
 */
#ifndef SUPERTAG_SYNC_WRITEBACK_H
#define SUPERTAG_SYNC_WRITEBACK_H

typedef struct st_writeback st_writeback;

/**
 * Start pushing `path` to disk every `interval_ms` until stopped. Returns
 * NULL when the file cannot be opened or the thread cannot start (the
 * caller goes on without it: this is only an optimisation).
 */
st_writeback *st_writeback_start(const char *path, int interval_ms);

/** Stop the thread, wait for it, free everything. NULL is allowed. */
void st_writeback_stop(st_writeback *wb);

#endif
