/*
 * cmd_search.c - `supertag search <query> --semantic`: the original's
 * semantic search, on libresona's exact search.
 *
 * Flow (supertag-behaviour.md 13.2): resolve the workspace; embed the query
 * (with --type-hint: "[Type: #<hint>] <query>") with the configured model;
 * search the workspace's embeddings table for c = max(limit x 3, 50)
 * candidates (x 3 again with --tag), chunk rows collapsed to their node id;
 * enrich each from the SQLite index (name, tags, nearest tagged ancestor);
 * drop missing nodes and names with [[...]] references; de-duplicate by
 * normalised name + tags; filter by tag and --min-score; print the first
 * --limit in one of the formats table|json|jsonl|csv|ids|minimal.
 * With -s/--show each result's node contents are added (search_show.c; the
 * table prints them as blocks, -d/--depth N expands children N levels);
 * --select projects the rows (docs/search.md has the original's rules and
 * where we differ).
 *
 * Similarity is the original's: 1 - _distance, with LanceDB's default metric
 * (squared L2), so scores and --min-score thresholds mean what they meant
 * (15.7 explains what that number is for unit vectors: 2·cos − 1).
 *
 * Differences from the original, on purpose: the candidates are k distinct
 * node ids over the whole table (the original collapsed only the top 5k
 * rows, so many chunks of one node could crowd others out); the search is
 * exact even where the original had built an IVF_PQ index.
 * --show --json/--jsonl really carry the contents (the original builds them
 * and then drops them); jsonl stays one object per line with --select; minimal
 * is always an array; --select names are checked (the original yields null
 * for a typo) and also pick the csv/table columns (the original ignores it
 * there).
 * Not implemented (refused with a usage error, never silently ignored): the
 * full-text search (without --semantic).
 */
#include "cli.h"
#include "commands.h"
#include "search_show.h"
#include "st_error.h"
#include "workspace.h"

#include <resona/embed.h>
#include <resona/search.h>
#include <resona/table.h>

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#define DEFAULT_MODEL "bge-m3"
#define DEFAULT_ENDPOINT "http://localhost:11434"
#define ANCESTOR_MAX_DEPTH 50
/* --depth bound: the original has none (its MCP tool allows 3); this keeps a
 * cyclic children graph from printing for ever. */
#define MAX_DEPTH 100

enum format { FMT_TABLE, FMT_JSON, FMT_JSONL, FMT_CSV, FMT_IDS, FMT_MINIMAL };

typedef struct hit {
    char *id;
    char *name;
    char **tags;
    size_t tag_count;
    double similarity;
    char *ancestor; /* name of the nearest tagged ancestor (depth > 0), or NULL */
    char **ancestor_tags;
    size_t ancestor_tag_count;
    char *key; /* dedupe key */
} hit;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: supertag search <query> --semantic [options]\n\n"
            "Semantic search over the workspace's embeddings (exact nearest neighbours).\n\n"
            "  -l, --limit N          results to show (default 20)\n"
            "      --min-score S      minimum similarity: a fraction (0.5) or a percentage (75)\n"
            "  -t, --tag TAG          only results tagged TAG (case-insensitive)\n"
            "      --type-hint TAG    embed the query as \"[Type: #TAG] <query>\"\n"
            "  -s, --show             each result's contents: name, tags, created, fields,\n"
            "                         children (table: a block per result; json/jsonl: a\n"
            "                         \"contents\" object); ignored by csv, ids and minimal\n"
            "  -d, --depth N          with --show, expand children N levels (0-100, default 0)\n"
            "      --select FIELDS    comma-separated fields: id, name, tags, similarity,\n"
            "                         ancestor, and with --show contents[.<path>] (json, jsonl,\n"
            "                         minimal: projected objects; csv, table: the columns)\n"
            "  -a, --ancestor         find each result's nearest tagged ancestor (the default)\n"
            "      --no-ancestor      do not: the ancestor column and context line stay empty\n"
            "      --raw              accepted for the original's command lines; like the\n"
            "                         original, it changes nothing in semantic search\n"
            "  -w, --workspace ALIAS  workspace (default: config defaultWorkspace, else main)\n"
            "      --format F         table | json | jsonl | csv | ids | minimal\n"
            "      --json             same as --format json\n"
            "      --pretty           table;  --no-pretty: json\n"
            "      --no-header        csv without its header line\n"
            "      --verbose          query time (table: in the output; other formats: stderr)\n");
}

/* ---- small string helpers ------------------------------------------------- */

static char *xstrdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p) {
        cli_error("out of memory");
        exit(EXIT_RUNTIME);
    }
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        cli_error("out of memory");
        exit(EXIT_RUNTIME);
    }
    return p;
}

/* Length in UTF-16 code units (what JavaScript's .length counts). */
static size_t js_length(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) == 0x80)
            continue;
        n += *p >= 0xF0 ? 2 : 1;
    }
    return n;
}

/* The prefix of s of at most `units` UTF-16 code units (JS .slice(0, units)). Caller frees. */
static char *js_slice(const char *s, size_t units)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t len = *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 1;
        size_t w = *p >= 0xF0 ? 2 : 1;
        if (n + w > units)
            break;
        n += w;
        for (size_t i = 0; i < len && *p; i++)
            p++;
    }
    char *out = xcalloc((size_t)(p - (const unsigned char *)s) + 1, 1);
    memcpy(out, s, (size_t)(p - (const unsigned char *)s));
    return out;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

/* ---- SQLite enrichment ------------------------------------------------------- */

typedef struct db_stmts {
    sqlite3 *db;
    sqlite3_stmt *node;
    sqlite3_stmt *tags;
} db_stmts;

/* Tags of a node, in SQLite's order. */
static char **node_tags(db_stmts *d, const char *id, size_t *count)
{
    char **tags = NULL;
    size_t n = 0, cap = 0;
    sqlite3_reset(d->tags);
    sqlite3_bind_text(d->tags, 1, id, -1, SQLITE_TRANSIENT);
    while (sqlite3_step(d->tags) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(d->tags, 0);
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            tags = realloc(tags, cap * sizeof(char *));
            if (!tags) {
                cli_error("out of memory");
                exit(EXIT_RUNTIME);
            }
        }
        tags[n++] = xstrdup(t);
    }
    *count = n;
    return tags;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/*
 * The nearest tagged node on the parent chain (7.2 walk): depth 0 is the node
 * itself. Sets h->ancestor only for depth > 0.
 */
static void find_ancestor(db_stmts *d, hit *h)
{
    char *seen[ANCESTOR_MAX_DEPTH + 1];
    size_t nseen = 0;
    char *cur = xstrdup(h->id);
    for (int depth = 0; depth <= ANCESTOR_MAX_DEPTH && cur; depth++) {
        for (size_t i = 0; i < nseen; i++) {
            if (strcmp(seen[i], cur) == 0) {
                free(cur);
                cur = NULL;
                break;
            }
        }
        if (!cur)
            break;
        sqlite3_reset(d->node);
        sqlite3_bind_text(d->node, 1, cur, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(d->node) != SQLITE_ROW) {
            free(cur);
            cur = NULL;
            break;
        }
        const char *name = (const char *)sqlite3_column_text(d->node, 1);
        const char *parent = (const char *)sqlite3_column_text(d->node, 2);
        char *name_copy = xstrdup(name);
        char *parent_copy = parent ? xstrdup(parent) : NULL;
        size_t ntags;
        char **tags = node_tags(d, cur, &ntags);
        if (ntags > 0) {
            if (depth > 0) {
                h->ancestor = name_copy;
                h->ancestor_tags = tags;
                h->ancestor_tag_count = ntags;
            } else {
                free(name_copy);
                free_strings(tags, ntags);
            }
            free(parent_copy);
            seen[nseen++] = cur;
            cur = NULL;
            break;
        }
        free(name_copy);
        free_strings(tags, ntags);
        seen[nseen++] = cur;
        cur = parent_copy;
    }
    free(cur);
    for (size_t i = 0; i < nseen; i++)
        free(seen[i]);
}

/* The de-duplication key: normalised name + "|" + sorted tags joined by ",". */
static char *dedupe_key(const hit *h)
{
    const char *p = h->name;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '-')
        p++;
    while (isspace((unsigned char)*p))
        p++;
    size_t len = strlen(p);
    char *norm = xcalloc(len + 1, 1);
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if ((p[i] == '[' && p[i + 1] == '[') || (p[i] == ']' && p[i + 1] == ']')) {
            i++;
            continue;
        }
        norm[n++] = (char)tolower((unsigned char)p[i]);
    }
    norm[n] = '\0';
    size_t start = 0;
    while (isspace((unsigned char)norm[start]))
        start++;
    while (n > start && isspace((unsigned char)norm[n - 1]))
        norm[--n] = '\0';
    size_t total = n - start + 2;
    for (size_t i = 0; i < h->tag_count; i++)
        total += strlen(h->tags[i]) + 1;
    char *key = xcalloc(total, 1);
    strcpy(key, norm + start);
    strcat(key, "|");
    for (size_t i = 0; i < h->tag_count; i++) {
        if (i)
            strcat(key, ",");
        strcat(key, h->tags[i]);
    }
    free(norm);
    return key;
}

static void hit_free(hit *h)
{
    free(h->id);
    free(h->name);
    free_strings(h->tags, h->tag_count);
    free(h->ancestor);
    free_strings(h->ancestor_tags, h->ancestor_tag_count);
    free(h->key);
}

/* Stable sort by similarity, descending (insertion sort: n is small). */
static void sort_by_similarity(hit *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        hit x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1].similarity < x.similarity) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* ---- output ----------------------------------------------------------------- */

static char *joined_tags(char **tags, size_t n, const char *prefix, const char *sep)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++)
        total += strlen(tags[i]) + strlen(prefix) + strlen(sep);
    char *s = xcalloc(total, 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(s, sep);
        strcat(s, prefix);
        strcat(s, tags[i]);
    }
    return s;
}

static void pad(FILE *out, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fputc(' ', out);
}

/* What the output needs besides the hits. */
typedef struct out_opts {
    enum format fmt;
    int header, verbose, show;
    int depth;
    double ms;
    const st_select *select; /* NULL or count 0: no projection */
    st_show *contents;       /* with --show */
} out_opts;

/* The table's columns: #, Similarity, Name, ID, Tags, Ancestor. */
enum { NCOL = 6 };
static const char *const col_headers[NCOL] = {"#", "Similarity", "Name", "ID", "Tags", "Ancestor"};
static const int col_right[NCOL] = {1, 1, 0, 0, 0, 0};

/* The column of a --select field (already checked by st_select_parse). */
static size_t field_column(const char *field)
{
    static const char *const names[NCOL] = {"", "similarity", "name", "id", "tags", "ancestor"};
    for (size_t c = 1; c < NCOL; c++)
        if (strcasecmp(field, names[c]) == 0)
            return c;
    return 0;
}

/* "<ancestor name> #t1 #t2", or NULL without an ancestor. Caller frees. */
static char *ancestor_label(const hit *h)
{
    if (!h->ancestor)
        return NULL;
    char *at = joined_tags(h->ancestor_tags, h->ancestor_tag_count, "#", " ");
    size_t len = strlen(h->ancestor) + strlen(at) + 2;
    char *a = xcalloc(len, 1);
    snprintf(a, len, "%s %s", h->ancestor, at);
    free(at);
    return a;
}

static void print_table(const hit *v, size_t n, const out_opts *o)
{
    size_t cols[NCOL], ncols = 0;
    cols[ncols++] = 0;
    if (o->select && o->select->count) {
        for (size_t i = 0; i < o->select->count && ncols < NCOL; i++) {
            size_t c = field_column(o->select->paths[i]);
            int dup = 0;
            for (size_t k = 0; k < ncols; k++)
                dup |= cols[k] == c;
            if (!dup)
                cols[ncols++] = c;
        }
    } else {
        for (size_t c = 1; c < NCOL; c++)
            cols[ncols++] = c;
    }
    char **cells = xcalloc(n * NCOL, sizeof(char *));
    size_t width[NCOL];
    for (size_t c = 0; c < NCOL; c++)
        width[c] = js_length(col_headers[c]);
    for (size_t i = 0; i < n; i++) {
        char buf[64];
        snprintf(buf, sizeof(buf), "%zu", i + 1);
        cells[i * NCOL + 0] = xstrdup(buf);
        snprintf(buf, sizeof(buf), "%.1f%%", v[i].similarity * 100.0);
        cells[i * NCOL + 1] = xstrdup(buf);
        cells[i * NCOL + 2] = js_slice(v[i].name, 40);
        cells[i * NCOL + 3] = xstrdup(v[i].id);
        char *tags =
            v[i].tag_count ? joined_tags(v[i].tags, v[i].tag_count, "#", " ") : xstrdup("");
        cells[i * NCOL + 4] = js_slice(tags, 30);
        free(tags);
        char *a = ancestor_label(&v[i]);
        cells[i * NCOL + 5] = a ? js_slice(a, 40) : xstrdup("");
        free(a);
        for (size_t c = 0; c < NCOL; c++) {
            size_t w = js_length(cells[i * NCOL + c]);
            if (w > width[c])
                width[c] = w;
        }
    }
    if (o->verbose)
        printf("Results (%zu) in %.0fms\n\n", n, o->ms);
    else
        printf("Results (%zu)\n\n", n);
    fputs("  ", stdout);
    for (size_t k = 0; k < ncols; k++) {
        size_t c = cols[k];
        size_t w = js_length(col_headers[c]);
        if (k)
            fputs("  ", stdout);
        if (col_right[c])
            pad(stdout, width[c] - w);
        fputs(col_headers[c], stdout);
        if (!col_right[c])
            pad(stdout, width[c] - w);
    }
    fputs("\n  ", stdout);
    for (size_t k = 0; k < ncols; k++) {
        if (k)
            fputs("──", stdout);
        for (size_t i = 0; i < width[cols[k]]; i++)
            fputs("─", stdout);
    }
    fputc('\n', stdout);
    for (size_t i = 0; i < n; i++) {
        fputs("  ", stdout);
        for (size_t k = 0; k < ncols; k++) {
            size_t c = cols[k];
            const char *cell = cells[i * NCOL + c];
            size_t w = js_length(cell);
            if (k)
                fputs("  ", stdout);
            if (col_right[c])
                pad(stdout, width[c] - w);
            fputs(cell, stdout);
            if (!col_right[c])
                pad(stdout, width[c] - w);
        }
        fputc('\n', stdout);
    }
    if (o->verbose)
        printf("\nQuery time: %.1fms\n", o->ms);
    printf("\n💡 Tip: Use --show for full node content\n");
    for (size_t i = 0; i < n * NCOL; i++)
        free(cells[i]);
    free(cells);
}

/*
 * The table with --show: "Results (n):", an empty line, then per result its
 * banner, its context (nearest tagged ancestor) and its contents, and an
 * empty line. No tip.
 */
static int print_show_table(const hit *v, size_t n, const out_opts *o)
{
    printf("Results (%zu):\n\n", n);
    for (size_t i = 0; i < n; i++) {
        printf("━━━ Result %zu ━━━  %.1f%% similar\n", i + 1, v[i].similarity * 100.0);
        char *a = ancestor_label(&v[i]);
        if (a)
            printf("📂 Context: %s\n", a);
        free(a);
        if (st_show_print(o->contents, stdout, v[i].id, o->depth) < 0)
            return -1;
        fputc('\n', stdout);
    }
    return 0;
}

/* The row object of the json/jsonl formats (+ contents with --show). */
static int hit_json(const hit *h, const out_opts *o, st_jv **out)
{
    char sim[32];
    snprintf(sim, sizeof(sim), "%.3f", h->similarity);
    char *tags = joined_tags(h->tags, h->tag_count, "", ", ");
    st_jv *r = st_jv_obj();
    st_jv_set(r, "id", st_jv_str(h->id));
    st_jv_set(r, "name", st_jv_str(h->name));
    st_jv_set(r, "tags", st_jv_str(tags));
    st_jv_set(r, "similarity", st_jv_str(sim));
    st_jv_set(r, "ancestor", st_jv_str(h->ancestor ? h->ancestor : ""));
    free(tags);
    if (o->show) {
        st_jv *c = NULL;
        if (st_show_json(o->contents, h->id, o->depth, &c) < 0) {
            st_jv_free(r);
            return -1;
        }
        if (c)
            st_jv_set(r, "contents", c);
    }
    *out = r;
    return 0;
}

/* One output row: minimal's {id, name, tags}, a --select projection, or the full row. */
static int row_json(const hit *h, const out_opts *o, st_jv **out)
{
    st_jv *full = NULL;
    if (hit_json(h, o, &full) < 0)
        return -1;
    if (o->select && o->select->count) {
        *out = st_select_apply(o->select, full);
        st_jv_free(full);
    } else if (o->fmt == FMT_MINIMAL) {
        st_jv *m = st_jv_obj();
        st_jv_set(m, "id", st_jv_clone(st_jv_get(full, "id")));
        st_jv_set(m, "name", st_jv_clone(st_jv_get(full, "name")));
        st_jv_set(m, "tags", st_jv_clone(st_jv_get(full, "tags")));
        st_jv_free(full);
        *out = m;
    } else {
        *out = full;
    }
    return 0;
}

/* The csv value of a column field. Caller frees. */
static char *csv_value(const hit *h, const char *field)
{
    char sim[32];
    switch (field_column(field)) {
    case 1:
        snprintf(sim, sizeof(sim), "%.3f", h->similarity);
        return xstrdup(sim);
    case 2:
        return xstrdup(h->name);
    case 3:
        return xstrdup(h->id);
    case 4:
        return joined_tags(h->tags, h->tag_count, "", ", ");
    default:
        return xstrdup(h->ancestor ? h->ancestor : "");
    }
}

static int print_results(const hit *v, size_t n, const out_opts *o)
{
    static const char *const csv_default[] = {"id", "name", "tags", "similarity", "ancestor"};
    int projected = o->select && o->select->count;
    if (n == 0) {
        if (o->fmt == FMT_TABLE)
            printf("No results found\n");
        else if (o->fmt == FMT_JSON || o->fmt == FMT_JSONL || o->fmt == FMT_MINIMAL)
            printf("[]\n");
        return 0;
    }
    switch (o->fmt) {
    case FMT_TABLE:
        if (o->show)
            return print_show_table(v, n, o);
        print_table(v, n, o);
        return 0;
    case FMT_JSON:
    case FMT_MINIMAL:
    case FMT_JSONL: {
        st_jv *all = st_jv_arr();
        for (size_t i = 0; i < n; i++) {
            st_jv *r = NULL;
            if (row_json(&v[i], o, &r) < 0) {
                st_jv_free(all);
                return -1;
            }
            if (o->fmt == FMT_JSONL) {
                st_jv_write(stdout, r, 0);
                fputc('\n', stdout);
                st_jv_free(r);
            } else {
                st_jv_push(all, r);
            }
        }
        if (o->fmt != FMT_JSONL) {
            /* the original prints a --select projection with JSON.stringify(x, null, 2) */
            st_jv_write(stdout, all, projected ? 2 : 0);
            fputc('\n', stdout);
        }
        st_jv_free(all);
        break;
    }
    case FMT_CSV: {
        size_t ncol = projected ? o->select->count : 5;
        char *const *names = projected ? o->select->paths : (char *const *)csv_default;
        if (o->header) {
            for (size_t c = 0; c < ncol; c++) {
                if (c)
                    fputc(',', stdout);
                csv_field(stdout, names[c]);
            }
            fputc('\n', stdout);
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t c = 0; c < ncol; c++) {
                char *val = csv_value(&v[i], names[c]);
                if (c)
                    fputc(',', stdout);
                csv_field(stdout, val);
                free(val);
            }
            fputc('\n', stdout);
        }
        break;
    }
    case FMT_IDS:
        for (size_t i = 0; i < n; i++)
            printf("%s\n", v[i].id);
        break;
    }
    /* as in the original, not after a --select projection of the JSON formats */
    if (o->verbose && !(projected && o->fmt != FMT_CSV && o->fmt != FMT_IDS))
        fprintf(stderr, "# Query time: %.1fms, Results: %zu\n", o->ms, n);
    return 0;
}

/* ---- options -------------------------------------------------------------- */

static int parse_format(const char *s, enum format *out)
{
    static const struct {
        const char *name;
        enum format f;
    } names[] = {{"table", FMT_TABLE}, {"json", FMT_JSON}, {"jsonl", FMT_JSONL},
                 {"csv", FMT_CSV},     {"ids", FMT_IDS},   {"minimal", FMT_MINIMAL}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].f;
            return 0;
        }
    }
    return -1;
}

/* --min-score: "75" (no '.', > 1) is a percentage; clamp to [0, 1]. -1 on error. */
static double parse_min_score(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return -1;
    if (v > 1 && !strchr(s, '.'))
        v /= 100.0;
    if (v < 0)
        v = 0;
    if (v > 1)
        v = 1;
    return v;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- the command ------------------------------------------------------------ */

typedef struct search_args {
    char *query;
    int semantic;
    long limit;
    double min_score;
    const char *tag;
    const char *type_hint;
    const char *workspace;
    int format_set;
    enum format format;
    int json, pretty, no_pretty, header, verbose;
    int show;
    long depth;
    const char *select;
    int no_ancestor;
} search_args;

static int parse_args(int argc, char **argv, search_args *a)
{
    size_t qlen = 0;
    a->limit = 20;
    a->header = 1;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(s, "-l") || !strcmp(s, "--limit") || !strcmp(s, "--min-score") ||
                    !strcmp(s, "-t") || !strcmp(s, "--tag") || !strcmp(s, "--type-hint") ||
                    !strcmp(s, "-w") || !strcmp(s, "--workspace") || !strcmp(s, "--format") ||
                    !strcmp(s, "-d") || !strcmp(s, "--depth") || !strcmp(s, "--select");
        if (takes && !val) {
            cli_error("option '%s' needs a value", s);
            return EXIT_USAGE;
        }
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) {
            usage(stdout);
            return -1;
        } else if (!strcmp(s, "--semantic")) {
            a->semantic = 1;
        } else if (!strcmp(s, "-l") || !strcmp(s, "--limit")) {
            a->limit = cli_parse_long(s, argv[++i], 1, 100000);
            if (a->limit < 0)
                return EXIT_USAGE;
        } else if (!strcmp(s, "--min-score")) {
            a->min_score = parse_min_score(argv[++i]);
            if (a->min_score < 0) {
                cli_error("--min-score: not a number: '%s'", argv[i]);
                return EXIT_USAGE;
            }
        } else if (!strcmp(s, "-t") || !strcmp(s, "--tag")) {
            a->tag = argv[++i];
        } else if (!strcmp(s, "--type-hint")) {
            a->type_hint = argv[++i];
        } else if (!strcmp(s, "-w") || !strcmp(s, "--workspace")) {
            a->workspace = argv[++i];
        } else if (!strcmp(s, "--format")) {
            if (parse_format(argv[++i], &a->format) < 0) {
                cli_error("--format: expected table, json, jsonl, csv, ids or minimal, not '%s'",
                          argv[i]);
                return EXIT_USAGE;
            }
            a->format_set = 1;
        } else if (!strcmp(s, "--json")) {
            a->json = 1;
        } else if (!strcmp(s, "--pretty")) {
            a->pretty = 1;
        } else if (!strcmp(s, "--no-pretty")) {
            a->no_pretty = 1;
        } else if (!strcmp(s, "--no-header")) {
            a->header = 0;
        } else if (!strcmp(s, "--verbose")) {
            a->verbose = 1;
        } else if (!strcmp(s, "-s") || !strcmp(s, "--show")) {
            a->show = 1;
        } else if (!strcmp(s, "-d") || !strcmp(s, "--depth")) {
            a->depth = cli_parse_long(s, argv[++i], 0, MAX_DEPTH);
            if (a->depth < 0)
                return EXIT_USAGE;
        } else if (!strcmp(s, "--select")) {
            a->select = argv[++i];
        } else if (!strcmp(s, "-a") || !strcmp(s, "--ancestor")) {
            a->no_ancestor = 0;
        } else if (!strcmp(s, "--no-ancestor")) {
            a->no_ancestor = 1;
        } else if (!strcmp(s, "--raw")) {
            /* the original's --raw drops enrichment in full-text search only */
        } else if (s[0] == '-' && s[1] != '\0') {
            cli_error("unknown option '%s' (see 'supertag search --help')", s);
            return EXIT_USAGE;
        } else {
            size_t n = strlen(s);
            char *q = realloc(a->query, qlen + n + 2);
            if (!q) {
                cli_error("out of memory");
                return EXIT_RUNTIME;
            }
            a->query = q;
            if (qlen)
                a->query[qlen++] = ' ';
            memcpy(a->query + qlen, s, n + 1);
            qlen += n;
        }
    }
    if (!a->format_set) {
        const char *env = getenv("SUPERTAG_FORMAT");
        if (a->json)
            a->format = FMT_JSON;
        else if (a->pretty)
            a->format = FMT_TABLE;
        else if (a->no_pretty)
            a->format = FMT_JSON;
        else if (env && parse_format(env, &a->format) == 0)
            ;
        else
            a->format = FMT_TABLE;
    }
    return 0;
}

/* Embed the query text with the configured model and endpoint. */
static int embed_query(const char *config_file, const char *text, float **vec, uint32_t *dim)
{
    st_config *cfg = NULL;
    if (st_config_load(config_file, &cfg) < 0) {
        cli_error("%s", st_error_message());
        return EXIT_RUNTIME;
    }
    const char *model_keys[] = {"embeddings", "model", NULL};
    const char *endpoint_keys[] = {"embeddings", "endpoint", NULL};
    const char *model = st_config_get_string(cfg, model_keys);
    const char *endpoint = st_config_get_string(cfg, endpoint_keys);
    resona_embedder_options o = RESONA_EMBEDDER_OPTIONS_INIT;
    const char *urls[1] = {endpoint ? endpoint : DEFAULT_ENDPOINT};
    o.endpoints = urls;
    o.endpoint_count = 1;
    o.model = model ? model : DEFAULT_MODEL;
    /* one short interactive request: fail within seconds, not after minutes of backoff */
    o.max_retries = 2;
    o.retry_total_ms = 5000;
    o.backoff_max_ms = 1000;
    resona_embedder *e = NULL;
    int rc = resona_embedder_new(&o, &e);
    if (rc == 0) {
        const char *texts[1] = {text};
        rc = resona_embedder_embed(e, texts, 1, vec, dim);
    }
    resona_embedder_free(e);
    st_config_free(cfg);
    if (rc < 0)
        return cli_fail_lib("embedding the query");
    return 0;
}

int cmd_search(int argc, char **argv)
{
    search_args a;
    memset(&a, 0, sizeof(a));
    st_paths paths;
    st_workspace ws;
    memset(&paths, 0, sizeof(paths));
    memset(&ws, 0, sizeof(ws));
    float *qvec = NULL;
    resona_table *table = NULL;
    resona_search_results *res = NULL;
    db_stmts d;
    memset(&d, 0, sizeof(d));
    hit *hits = NULL;
    size_t nhits = 0;
    char *table_path = NULL;
    st_select sel;
    memset(&sel, 0, sizeof(sel));
    st_show contents;
    memset(&contents, 0, sizeof(contents));
    int rc = parse_args(argc, argv, &a);
    if (rc != 0) {
        rc = rc < 0 ? EXIT_OK : rc;
        goto done;
    }
    if (a.select) {
        if (a.show && a.format == FMT_TABLE) {
            cli_error("--select does not apply to the --show table output (use --format json)");
            rc = EXIT_USAGE;
            goto done;
        }
        enum st_select_target target =
            a.format == FMT_TABLE || a.format == FMT_CSV ? ST_SELECT_COLUMNS : ST_SELECT_JSON;
        if (st_select_parse(a.select, a.show, target, &sel) < 0) {
            rc = EXIT_USAGE;
            goto done;
        }
    }
    if (!a.semantic) {
        cli_error("only semantic search is implemented: add --semantic");
        rc = EXIT_USAGE;
        goto done;
    }
    if (!a.query || !*a.query) {
        fprintf(stderr, "❌ Query is required for semantic search\n"
                        "   Use: supertag search <query> --semantic\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (st_paths_get(&paths) < 0 || st_workspace_resolve(&paths, a.workspace, &ws) < 0) {
        cli_error("%s", st_error_message());
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (!is_file(ws.db_path)) {
        fprintf(stderr, "❌ Database not found: %s\n", ws.db_path);
        if (a.workspace)
            fprintf(stderr, "   Run 'supertag sync index --workspace %s' first\n", ws.alias);
        else
            fprintf(stderr, "   Run 'supertag sync index' first\n");
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (!is_dir(ws.lance_path)) {
        fprintf(stderr,
                "❌ No embeddings found for workspace \"%s\".\n\n"
                "Run 'supertag embed generate' first to create embeddings.\n",
                ws.alias);
        rc = EXIT_RUNTIME;
        goto done;
    }
    if (a.format == FMT_TABLE)
        printf("🔍 Searching: \"%s\" [%s]\n\n", a.query, ws.alias);
    fflush(stdout);

    double t0 = now_ms();
    char *text = a.query;
    char *hinted = NULL;
    if (a.type_hint) {
        size_t len = strlen(a.type_hint) + strlen(a.query) + 16;
        hinted = xcalloc(len, 1);
        snprintf(hinted, len, "[Type: #%s] %s", a.type_hint, a.query);
        text = hinted;
    }
    uint32_t dim = 0;
    rc = embed_query(paths.config_file, text, &qvec, &dim);
    free(hinted);
    if (rc != 0)
        goto done;

    size_t tlen = strlen(ws.lance_path) + strlen(ws.lance_table) + 16;
    table_path = xcalloc(tlen, 1);
    snprintf(table_path, tlen, "%s/%s.lance", ws.lance_path, ws.lance_table);
    if (resona_table_open(table_path, NULL, &table) < 0) {
        rc = cli_fail_lib("opening the embeddings table");
        goto done;
    }
    size_t c = (size_t)a.limit * 3 > 50 ? (size_t)a.limit * 3 : 50;
    if (a.tag)
        c *= 3;
    resona_search_options so = RESONA_SEARCH_OPTIONS_INIT;
    so.metric = RESONA_METRIC_L2;
    so.k = c;
    so.collapse_chunks = 1;
    if (resona_search_table(table, NULL, "id", qvec, 1, dim, &so, &res) < 0) {
        rc = cli_fail_lib("search");
        goto done;
    }

    if (sqlite3_open_v2(ws.db_path, &d.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d.db, "SELECT id, name, parent_id FROM nodes WHERE id = ?", -1, &d.node,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(d.db,
                           "SELECT DISTINCT tag_name as name FROM tag_applications "
                           "WHERE data_node_id = ?",
                           -1, &d.tags, NULL) != SQLITE_OK) {
        cli_error("%s: %s", ws.db_path, d.db ? sqlite3_errmsg(d.db) : "cannot open");
        rc = EXIT_RUNTIME;
        goto done;
    }
    size_t n = 0;
    const resona_search_hit *sh = resona_search_results_hits(res, 0, &n);
    hits = xcalloc(n, sizeof(hit));
    for (size_t i = 0; i < n; i++) {
        size_t bl = resona_search_base_id_len(sh[i].key ? sh[i].key : "");
        char *id = xcalloc(bl + 1, 1);
        memcpy(id, sh[i].key ? sh[i].key : "", bl);
        sqlite3_reset(d.node);
        sqlite3_bind_text(d.node, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(d.node) != SQLITE_ROW) {
            free(id); /* not in the index (any more): dropped */
            continue;
        }
        const char *name = (const char *)sqlite3_column_text(d.node, 1);
        if (name && strstr(name, "[[") && strstr(name, "]]")) {
            free(id);
            continue;
        }
        hit *h = &hits[nhits];
        h->id = id;
        h->name = xstrdup(name);
        h->similarity = 1.0 - (double)sh[i].distance;
        h->tags = node_tags(&d, id, &h->tag_count);
        if (h->tag_count > 1)
            qsort(h->tags, h->tag_count, sizeof(char *), cmp_str);
        h->key = dedupe_key(h);
        int dup = 0;
        for (size_t j = 0; j < nhits && !dup; j++)
            dup = strcmp(hits[j].key, h->key) == 0;
        if (dup) {
            hit_free(h);
            memset(h, 0, sizeof(*h));
            continue;
        }
        nhits++;
    }
    sort_by_similarity(hits, nhits);
    size_t kept = 0;
    for (size_t i = 0; i < nhits; i++) {
        int keep = 1;
        if (a.tag) {
            keep = 0;
            for (size_t t = 0; t < hits[i].tag_count && !keep; t++)
                keep = strcasecmp(hits[i].tags[t], a.tag) == 0;
        }
        if (keep && a.min_score > 0 && hits[i].similarity < a.min_score)
            keep = 0;
        if (keep && kept < (size_t)a.limit) {
            hit tmp = hits[kept];
            hits[kept] = hits[i];
            hits[i] = tmp;
            kept++;
        }
    }
    for (size_t i = 0; i < kept && !a.no_ancestor; i++)
        find_ancestor(&d, &hits[i]);
    out_opts o;
    memset(&o, 0, sizeof(o));
    o.fmt = a.format;
    o.header = a.header;
    o.verbose = a.verbose;
    /* contents are read where they are printed: not for csv and ids, nor for
     * minimal unless --select picks them */
    o.show = a.show && a.format != FMT_CSV && a.format != FMT_IDS &&
             (a.format != FMT_MINIMAL || sel.count > 0);
    o.depth = (int)a.depth;
    o.select = &sel;
    o.contents = &contents;
    if (o.show && st_show_open(&contents, d.db) < 0) {
        rc = EXIT_RUNTIME;
        goto done;
    }
    o.ms = now_ms() - t0;
    if (print_results(hits, kept, &o) < 0) {
        fflush(stdout);
        rc = EXIT_RUNTIME;
        goto done;
    }
    rc = fflush(stdout) == 0 ? EXIT_OK : EXIT_RUNTIME;

done:
    for (size_t i = 0; i < nhits; i++)
        hit_free(&hits[i]);
    free(hits);
    sqlite3_finalize(d.node);
    sqlite3_finalize(d.tags);
    st_show_close(&contents);
    st_select_free(&sel);
    sqlite3_close(d.db);
    resona_search_results_free(res);
    resona_table_free(table);
    resona_embedder_vectors_free(qvec);
    free(table_path);
    st_workspace_free(&ws);
    st_paths_free(&paths);
    free(a.query);
    return rc;
}
