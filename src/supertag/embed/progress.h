/*
 * embed/progress.h - the progress display of `embed generate`.
 *
 * Fed by a struct of counters (what the libresona pipeline's progress
 * callback reports), it shows:
 *
 *   TTY    one line redrawn in place with "\r" (padded over the previous
 *          line, no newline until the end):
 *            ⏳ 45.2% | Ollama: 45,200 | LanceDB: 40,000 | 125.3/s | ETA: 2m15s
 *          with "| Buffer: n" and "| Err: n" (after LanceDB) when not zero;
 *   plain  (not a TTY) the same line with a newline, at most once every
 *          `plain_interval` seconds (default 5), and once more at the end if
 *          anything changed since the last one printed: never a flood;
 *   JSON   one object per event, one line each:
 *            {"event":"progress","generated":…,"persisted":…,"buffered":…,
 *             "skipped":…,"errors":…,"total":…,"percent":45.2,"rate":125.3,
 *             "eta_seconds":135}
 *          and {"event":"summary",…} at the end;
 *   quiet  nothing but the summary.
 *
 * Number formats follow the original: counts with en-US grouping (45,200),
 * percentage and rate with one decimal rounded as JS toFixed(1) (exact ties
 * round up), ETA as 45s / 2m15s / 1h02m. The percentage counts items
 * (see by_items) and is capped at 100 (the original's mixed items and
 * chunks and could pass 100 %, reference §15.12).
 *
 * Thread safety: st_progress_update may be called from any thread; calls are
 * serialised by an internal mutex. The FILE is written only by this module
 * while a display is active.
 */
#ifndef SUPERTAG_EMBED_PROGRESS_H
#define SUPERTAG_EMBED_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/** What one progress event reports (the pipeline callback maps onto it). */
struct st_progress_counters {
    long long generated; /**< vectors returned by the model */
    long long persisted; /**< rows committed to the Lance table */
    long long buffered;  /**< vectors waiting in the buffer */
    long long skipped;   /**< items unchanged (hash equal) */
    long long errors;    /**< items or chunks that failed */
    long long total;     /**< items to process */
    double rate;         /**< generated per second; 0 = unknown */
    double eta_seconds;  /**< > 0 = the ETA to show; otherwise computed from rate */
    /**
     * by_items: the percentage is (items_done + skipped) / total, counting
     * items on both sides (the pipeline's generated/errors count chunk rows),
     * and the ETA is eta_seconds only. Otherwise generated + skipped + errors
     * stand in for the items done and the ETA may be computed from rate.
     */
    bool by_items;
    long long items_done;
};

enum st_progress_mode {
    ST_PROGRESS_AUTO = 0, /**< TTY if the stream is a terminal, else plain */
    ST_PROGRESS_TTY,
    ST_PROGRESS_PLAIN,
    ST_PROGRESS_JSON,
    ST_PROGRESS_QUIET
};

struct st_progress_opts {
    FILE *out; /**< default stdout */
    enum st_progress_mode mode;
    double plain_interval;          /**< seconds between plain lines (default 5) */
    double (*clock)(void *payload); /**< monotonic seconds; NULL = CLOCK_MONOTONIC */
    void *clock_payload;
};

#define ST_PROGRESS_OPTS_INIT                                                                      \
    {                                                                                              \
        NULL, ST_PROGRESS_AUTO, 5.0, NULL, NULL                                                    \
    }

/** The final report of a run. */
struct st_progress_summary {
    long long processed; /**< items embedded and persisted */
    long long skipped;   /**< unchanged */
    long long errors;
    const char *const *error_samples; /**< at most 5 are shown */
    size_t sample_count;
    double duration_s;
    long long commits;    /**< Lance commits (appends/deletes) made */
    long long total_rows; /**< rows in the table after the run; < 0 = unknown */
    bool interrupted;     /**< stopped by SIGINT/SIGTERM (buffer flushed) */
    long long compacted_from; /**< fragments before an automatic compaction; 0 = none */
    long long compacted_to;   /**< fragments after it */
};

typedef struct st_progress st_progress;

/** Create a display. Returns NULL only when out of memory. */
st_progress *st_progress_new(const struct st_progress_opts *opts);
/** Show one event (see the modes above). */
void st_progress_update(st_progress *p, const struct st_progress_counters *c);
/** End the live line: TTY clears it, plain prints the last state if not yet shown. */
void st_progress_finish(st_progress *p);
/** Print the summary (text, or one JSON object in JSON mode). Calls finish first. */
void st_progress_summary(st_progress *p, const struct st_progress_summary *s);
void st_progress_free(st_progress *p);
/** The mode in effect (AUTO resolved). */
enum st_progress_mode st_progress_mode_of(const st_progress *p);

/* Formatting, exposed for the tests. Each writes a NUL-terminated string into buf. */

/** JS x.toFixed(digits) for finite x >= 0 (ties round up). */
char *st_fmt_fixed(char *buf, size_t cap, double x, int digits);
/** ETA: "45s", "2m15s", "1h02m"; "" for 0 or less. */
char *st_fmt_eta(char *buf, size_t cap, long long seconds);
/** The progress line (no "\r", no newline). */
char *st_fmt_progress_line(char *buf, size_t cap, const struct st_progress_counters *c);
/** The ETA in whole seconds the line shows (ceil(remaining / rate)), 0 = none. */
long long st_progress_eta(const struct st_progress_counters *c);

#endif
