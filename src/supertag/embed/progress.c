/*
 * embed/progress.c - progress line, throttled plain output, JSON events and
 * the final summary of `embed generate` (see progress.h).
 */
#include "embed/progress.h"

#include "embed/text.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 512

struct st_progress {
    struct st_progress_opts opts;
    pthread_mutex_t lock;
    size_t last_width; /* characters of the line on screen (TTY) */
    bool line_open;    /* TTY: a line is on screen without newline */
    bool have_last;    /* plain: a line was printed */
    double last_print; /* plain: clock of the last print */
    bool pending;      /* plain: an event not yet printed */
    struct st_progress_counters latest;
    bool finished;
};

static double mono_now(void *payload)
{
    (void)payload;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *st_fmt_fixed(char *buf, size_t cap, double x, int digits)
{
    if (!isfinite(x) || x < 0 || digits < 0 || digits > 20) {
        snprintf(buf, cap, "%.*f", digits < 0 ? 0 : digits, x);
        return buf;
    }
    /* The exact decimal expansion (a double's fraction has at most 52 binary
     * digits for x >= 1, so 80 decimals are exact), then round half up. */
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%.*f", digits + 80, x);
    char *dot = strchr(tmp, '.');
    size_t keep = (size_t)(dot - tmp) + (digits ? (size_t)digits + 1 : 0);
    bool up = dot[digits + 1] >= '5';
    tmp[keep] = '\0';
    if (up) {
        long i = (long)keep - 1;
        for (; i >= 0; i--) {
            if (tmp[i] == '.')
                continue;
            if (tmp[i] == '9') {
                tmp[i] = '0';
            } else {
                tmp[i]++;
                break;
            }
        }
        if (i < 0) { /* carry out of the top digit: prepend 1 */
            memmove(tmp + 1, tmp, keep + 1);
            tmp[0] = '1';
        }
    }
    snprintf(buf, cap, "%s", tmp);
    return buf;
}

char *st_fmt_eta(char *buf, size_t cap, long long s)
{
    if (s <= 0)
        snprintf(buf, cap, "%s", "");
    else if (s < 60)
        snprintf(buf, cap, "%llds", s);
    else if (s < 3600)
        snprintf(buf, cap, "%lldm%llds", s / 60, s % 60);
    else
        snprintf(buf, cap, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    return buf;
}

long long st_progress_eta(const struct st_progress_counters *c)
{
    if (c->eta_seconds > 0)
        return (long long)ceil(c->eta_seconds);
    if (c->by_items || !(c->rate > 0))
        return 0;
    long long left = c->total - c->generated - c->errors - c->skipped;
    if (left <= 0)
        return 0;
    return (long long)ceil((double)left / c->rate);
}

static double percent(const struct st_progress_counters *c)
{
    if (c->total <= 0)
        return 100.0;
    long long done =
        c->by_items ? c->items_done + c->skipped : c->generated + c->skipped + c->errors;
    double p = (double)done / (double)c->total * 100.0;
    return p > 100.0 ? 100.0 : (p < 0 ? 0 : p);
}

char *st_fmt_progress_line(char *buf, size_t cap, const struct st_progress_counters *c)
{
    char pct[64], gen[32], per[32], bufn[32], err[32], rate[64], eta[32];
    st_fmt_fixed(pct, sizeof(pct), percent(c), 1);
    st_group(gen, sizeof(gen), c->generated);
    st_group(per, sizeof(per), c->persisted);
    st_str s = {0};
    st_str_printf(&s, "\xE2\x8F\xB3 %s%% | Ollama: %s | LanceDB: %s", pct, gen, per);
    if (c->buffered != 0)
        st_str_printf(&s, " | Buffer: %s", st_group(bufn, sizeof(bufn), c->buffered));
    if (c->errors != 0)
        st_str_printf(&s, " | Err: %s", st_group(err, sizeof(err), c->errors));
    if (c->rate > 0)
        st_str_printf(&s, " | %s/s", st_fmt_fixed(rate, sizeof(rate), c->rate, 1));
    else
        st_str_puts(&s, " | ...");
    st_fmt_eta(eta, sizeof(eta), st_progress_eta(c));
    if (eta[0])
        st_str_printf(&s, " | ETA: %s", eta);
    snprintf(buf, cap, "%s", s.ptr && !s.failed ? s.ptr : "");
    st_str_free(&s);
    return buf;
}

/*
 * Terminal columns of UTF-8 text, and the byte length of its longest prefix
 * that fits in max_cols. Good enough for our lines: ASCII plus the ⏳ emoji,
 * which terminals draw two columns wide (as they do U+1F300 and up).
 */
static size_t text_fit(const char *s, size_t max_cols, size_t *cols_out)
{
    size_t cols = 0, i = 0;
    while (s[i]) {
        unsigned char c = (unsigned char)s[i];
        size_t k = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        size_t w = 1;
        if (k == 3 && c == 0xE2 && (unsigned char)s[i + 1] == 0x8F)
            w = 2; /* U+23C0..U+23FF: ⏳ and friends */
        else if (k == 4)
            w = 2;
        if (cols + w > max_cols)
            break;
        cols += w;
        for (size_t j = 0; j < k && s[i]; j++)
            i++;
    }
    *cols_out = cols;
    return i;
}

/* Width of the terminal behind f, or 0 when unknown. */
static size_t term_columns(FILE *f)
{
    struct winsize ws;
    if (ioctl(fileno(f), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
}

st_progress *st_progress_new(const struct st_progress_opts *opts)
{
    st_progress *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->opts = *opts;
    if (!p->opts.out)
        p->opts.out = stdout;
    if (!p->opts.clock)
        p->opts.clock = mono_now;
    if (!(p->opts.plain_interval >= 0))
        p->opts.plain_interval = 5.0;
    if (p->opts.mode == ST_PROGRESS_AUTO)
        p->opts.mode = isatty(fileno(p->opts.out)) ? ST_PROGRESS_TTY : ST_PROGRESS_PLAIN;
    pthread_mutex_init(&p->lock, NULL);
    return p;
}

enum st_progress_mode st_progress_mode_of(const st_progress *p)
{
    return p->opts.mode;
}

static void json_event(FILE *out, const struct st_progress_counters *c)
{
    char pct[64], rate[64];
    st_fmt_fixed(pct, sizeof(pct), percent(c), 1);
    st_fmt_fixed(rate, sizeof(rate), c->rate > 0 ? c->rate : 0, 1);
    fprintf(out,
            "{\"event\":\"progress\",\"generated\":%lld,\"persisted\":%lld,\"buffered\":%lld,"
            "\"skipped\":%lld,\"errors\":%lld,\"total\":%lld,\"percent\":%s,\"rate\":%s,"
            "\"eta_seconds\":%lld}\n",
            c->generated, c->persisted, c->buffered, c->skipped, c->errors, c->total, pct, rate,
            st_progress_eta(c));
    fflush(out);
}

static void tty_draw(st_progress *p, const char *line)
{
    /* A line wider than the terminal would wrap, and "\r" would then redraw
     * only its last row (a flood of half lines): cut it to the width - 1. */
    size_t term = term_columns(p->opts.out);
    size_t w;
    size_t n = text_fit(line, term > 1 ? term - 1 : SIZE_MAX, &w);
    fputc('\r', p->opts.out);
    fwrite(line, 1, n, p->opts.out);
    for (size_t i = w; i < p->last_width; i++)
        fputc(' ', p->opts.out);
    fflush(p->opts.out);
    p->last_width = w;
    p->line_open = true;
}

void st_progress_update(st_progress *p, const struct st_progress_counters *c)
{
    char line[LINE_MAX_BYTES];
    pthread_mutex_lock(&p->lock);
    p->latest = *c;
    switch (p->opts.mode) {
    case ST_PROGRESS_TTY:
        tty_draw(p, st_fmt_progress_line(line, sizeof(line), c));
        break;
    case ST_PROGRESS_PLAIN: {
        double now = p->opts.clock(p->opts.clock_payload);
        if (!p->have_last || now - p->last_print >= p->opts.plain_interval) {
            fprintf(p->opts.out, "%s\n", st_fmt_progress_line(line, sizeof(line), c));
            fflush(p->opts.out);
            p->have_last = true;
            p->last_print = now;
            p->pending = false;
        } else {
            p->pending = true;
        }
        break;
    }
    case ST_PROGRESS_JSON:
        json_event(p->opts.out, c);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&p->lock);
}

void st_progress_finish(st_progress *p)
{
    char line[LINE_MAX_BYTES];
    pthread_mutex_lock(&p->lock);
    if (!p->finished) {
        p->finished = true;
        if (p->opts.mode == ST_PROGRESS_TTY && p->line_open) {
            /* leave the terminal clean: blank the line and return to column 0 */
            fputc('\r', p->opts.out);
            for (size_t i = 0; i < p->last_width; i++)
                fputc(' ', p->opts.out);
            fputc('\r', p->opts.out);
            fflush(p->opts.out);
            p->line_open = false;
        } else if (p->opts.mode == ST_PROGRESS_PLAIN && p->pending) {
            fprintf(p->opts.out, "%s\n", st_fmt_progress_line(line, sizeof(line), &p->latest));
            fflush(p->opts.out);
            p->pending = false;
        }
    }
    pthread_mutex_unlock(&p->lock);
}

static void json_summary(FILE *out, const struct st_progress_summary *s)
{
    st_str j = {0};
    char dur[64];
    st_fmt_fixed(dur, sizeof(dur), s->duration_s > 0 ? s->duration_s : 0, 3);
    st_str_printf(&j,
                  "{\"event\":\"summary\",\"processed\":%lld,\"skipped\":%lld,\"errors\":%lld,"
                  "\"error_samples\":[",
                  s->processed, s->skipped, s->errors);
    for (size_t i = 0; i < s->sample_count && i < 5; i++) {
        if (i)
            st_str_putc(&j, ',');
        st_str_append_json(&j, s->error_samples[i]);
    }
    st_str_printf(&j, "],\"duration_seconds\":%s,\"commits\":%lld,", dur, s->commits);
    if (s->total_rows >= 0)
        st_str_printf(&j, "\"total_rows\":%lld,", s->total_rows);
    else
        st_str_puts(&j, "\"total_rows\":null,");
    if (s->compacted_from > 0)
        st_str_printf(&j, "\"compacted\":{\"fragments_before\":%lld,\"fragments_after\":%lld},",
                      s->compacted_from, s->compacted_to);
    st_str_printf(&j, "\"interrupted\":%s}\n", s->interrupted ? "true" : "false");
    if (!j.failed)
        fputs(st_str_cstr(&j), out);
    st_str_free(&j);
    fflush(out);
}

void st_progress_summary(st_progress *p, const struct st_progress_summary *s)
{
    st_progress_finish(p);
    FILE *out = p->opts.out;
    if (p->opts.mode == ST_PROGRESS_JSON) {
        json_summary(out, s);
        return;
    }
    char a[32], dur[64];
    fputs(s->interrupted ? "\xE2\x9A\xA0\xEF\xB8\x8F  Embedding interrupted (buffer flushed)\n"
                         : "\xE2\x9C\x85 Embedding complete\n",
          out);
    fprintf(out, "   Processed: %s\n", st_group(a, sizeof(a), s->processed));
    fprintf(out, "   Skipped: %s (unchanged)\n", st_group(a, sizeof(a), s->skipped));
    if (s->errors > 0)
        fprintf(out, "   Errors: %lld\n", s->errors);
    if (s->sample_count > 0) {
        fputs("   Error samples:\n", out);
        for (size_t i = 0; i < s->sample_count && i < 5; i++)
            fprintf(out, "     - %s\n", s->error_samples[i]);
    }
    fprintf(out, "   Duration: %ss\n",
            st_fmt_fixed(dur, sizeof(dur), s->duration_s > 0 ? s->duration_s : 0, 1));
    fprintf(out, "   LanceDB commits: %s\n", st_group(a, sizeof(a), s->commits));
    if (s->compacted_from > 0)
        fprintf(out, "   Compacted: %lld fragments -> %lld\n", s->compacted_from, s->compacted_to);
    if (s->total_rows >= 0)
        fprintf(out, "   Total embeddings: %s\n", st_group(a, sizeof(a), s->total_rows));
    fflush(out);
}

void st_progress_free(st_progress *p)
{
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    free(p);
}
