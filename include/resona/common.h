/*
 * resona/common.h - what every part of libresona shares: the export macro,
 * the version, the error convention and the log hook.
 *
 * Error convention. Every fallible function returns int: 0 on success or a
 * negative RESONA_E* code. The code says what kind of failure it was (so a
 * caller can act on it); the message says exactly what failed, naming the
 * file, byte offset, HTTP status or value at fault. The message is set once,
 * where the failure is detected, and kept in thread-local storage until the
 * next failure on the same thread. It is read with resona_error_message().
 *
 * Logging. The library never prints. It reports diagnostics through one
 * process-wide callback that the application installs (the CLIs map -v and
 * -q onto the level). Without a callback, nothing is logged.
 */
#ifndef RESONA_COMMON_H
#define RESONA_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(RESONA_BUILDING) && defined(__GNUC__)
#define RESONA_EXTERN __attribute__((visibility("default")))
#else
#define RESONA_EXTERN
#endif

#define RESONA_VERSION_MAJOR 0
#define RESONA_VERSION_MINOR 1
#define RESONA_VERSION_PATCH 0
#define RESONA_VERSION "0.1.0"

/** Error codes. 0 is success; every failure is negative. */
enum resona_error_code {
    RESONA_OK = 0,
    RESONA_ERROR = -1,        /**< generic failure (see the message) */
    RESONA_ENOMEM = -2,       /**< out of memory, or a bounded buffer is full */
    RESONA_EINVALID = -3,     /**< bad argument or bad user input */
    RESONA_EIO = -4,          /**< operating-system I/O failure (errno in message) */
    RESONA_ECORRUPT = -5,     /**< on-disk or on-wire data is malformed */
    RESONA_ENOTFOUND = -6,    /**< file, table, version, model or key absent */
    RESONA_EEXISTS = -7,      /**< already exists */
    RESONA_EUNSUPPORTED = -8, /**< valid but not supported (format, feature flag) */
    RESONA_EHTTP = -9,        /**< HTTP transport or server error */
    RESONA_ETIMEOUT = -10,    /**< a time limit passed */
    RESONA_ECONFLICT = -11,   /**< a concurrent writer won; retry may succeed */
    RESONA_EINTERRUPTED = -12 /**< stopped on request (signal, callback) */
};

/**
 * The message of the last failure on the calling thread, or "" when none.
 * Borrowed: valid until the next libresona call on this thread that fails.
 */
RESONA_EXTERN const char *resona_error_message(void);

/** The code of the last failure on the calling thread (RESONA_OK if none). */
RESONA_EXTERN int resona_error_code(void);

/** A short constant name for a code, e.g. "ENOTFOUND". Never NULL. */
RESONA_EXTERN const char *resona_error_name(int code);

/** Forget the last failure on the calling thread. */
RESONA_EXTERN void resona_error_clear(void);

/** Log levels, most severe first. */
typedef enum resona_log_level {
    RESONA_LOG_ERROR = 0,
    RESONA_LOG_WARN = 1,
    RESONA_LOG_INFO = 2,
    RESONA_LOG_DEBUG = 3,
    RESONA_LOG_TRACE = 4
} resona_log_level;

/** A log sink: called for each message at or above the configured level. */
typedef void (*resona_log_fn)(resona_log_level level, const char *message, void *payload);

/**
 * Install the process-wide log sink and the most verbose level it wants.
 * fn NULL disables logging (the default). Not thread-safe with respect to
 * concurrent logging: call it at start-up. The sink itself may be called from
 * any thread the library runs, so it must be thread-safe.
 */
RESONA_EXTERN void resona_log_set(resona_log_fn fn, resona_log_level max_level, void *payload);

/** The library version string, e.g. "0.1.0". Static storage. */
RESONA_EXTERN const char *resona_version(void);

#ifdef __cplusplus
}
#endif

#endif /* RESONA_COMMON_H */
