/*
 * util/log.h - internal logging through the application's sink
 * (resona_log_set in resona/common.h). Cheap when disabled: the level is
 * checked before the message is formatted.
 */
#ifndef RESONA_UTIL_LOG_H
#define RESONA_UTIL_LOG_H

#include "util/error.h"

/** True when a message at `level` would be delivered. */
int resona__log_enabled(resona_log_level level);
void resona__log(resona_log_level level, const char *fmt, ...) RESONA_PRINTF(2, 3);

#define RESONA_LOG(level, ...)                                                                     \
    do {                                                                                           \
        if (resona__log_enabled(level))                                                            \
            resona__log(level, __VA_ARGS__);                                                       \
    } while (0)

#endif
