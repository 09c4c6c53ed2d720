/*
 * lance/io.h - file and directory helpers for the Lance module: exact
 * positional reads that name the file and offset on failure, whole writes,
 * fsync of files and directories, random UUIDs, path joining, and the
 * protobuf-c allocator that routes through util/alloc.h.
 */
#ifndef RESONA_LANCE_IO_H
#define RESONA_LANCE_IO_H

#include <protobuf-c/protobuf-c.h>

#include <stddef.h>
#include <stdint.h>

/** Read exactly len bytes at off. Short read: RESONA_ECORRUPT "name: truncated ...". */
int resona__io_pread(int fd, const char *name, uint64_t off, void *buf, size_t len);
/** Write all of data at the current position. */
int resona__io_write(int fd, const char *name, const void *data, size_t len);
/** Read a whole file of at most max bytes. *out (caller frees) is NUL-terminated. */
int resona__io_read_file(const char *path, size_t max, uint8_t **out, size_t *len_out);
/** fsync (skipped when RESONA_UNSAFE_NO_FSYNC=1, for crash tests only). */
int resona__io_fsync(int fd, const char *name);
/** Create/replace a file with data, fsync it. */
int resona__io_write_file(const char *path, const void *data, size_t len);
/** fsync a directory (so new names in it are durable). */
int resona__io_fsync_dir(const char *path);
/** fsync the directory `dir`/`name` (e.g. a table's data/ after new files). */
int resona__io_fsync_subdir(const char *dir, const char *name);
/** mkdir -p. */
int resona__io_mkdirs(const char *path);
/** A random RFC 4122 v4 UUID, hyphenated, 36 chars + NUL. */
int resona__io_uuid(char out[37]);
/** A random u64. */
int resona__io_random_u64(uint64_t *out);
/** "a/b" (caller frees) or NULL on ENOMEM. */
char *resona__io_join(const char *a, const char *b);
/** printf into a new string (caller frees) or NULL on ENOMEM. */
char *resona__io_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** 1 if a relative path stays inside its base (no "..", no leading '/', no NUL). */
int resona__io_safe_relpath(const char *rel, size_t len);
/**
 * After a protobuf-c unpack returned NULL: 1 if an allocation failed (the
 * ENOMEM message is set), 0 if the input was malformed. Clears the flag.
 */
int resona__pb_oom(void);
/** Allocator for protobuf_c unpack/pack through util/alloc.h. */
extern ProtobufCAllocator resona__pb_alloc;

#endif
