/*
 * cmd_embed_generate.c - `supertag embed generate`: options, messages and
 * the flow of the original (reference §5), feeding the selected items to
 * the libresona pipeline with the progress display of embed/progress.h.
 *
 * Flow per workspace: resolve it (workspace.h) -> configuration block ->
 * index check -> selection count (-v: the content-filtering block) ->
 * "Processing N nodes" -> counts pass (enriched/plain or legacy kinds) ->
 * the run, which streams items straight from the SQLite cursor (never all
 * texts in memory) -> summary.
 *
 * Departures from the original, on purpose (reference §15): the "stop"
 * errors exit 1, not 0; usage errors exit 2; --lance-batch-size is honoured;
 * --limit and --min-length must be integers.
 */
#include "cli.h"
#include "cmd_embed.h"
#include "embed/context.h"
#include "embed/progress.h"
#include "embed/run.h"
#include "embed/select.h"
#include "embed/text.h"
#include "workspace.h"

#include <resona/common.h>

#include <sqlite3.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_MODEL "bge-m3"
#define DEFAULT_ENDPOINT "http://localhost:11434"
#define DEFAULT_LANCE_BATCH 5000
#define DEFAULT_COMPACT_AFTER 64 /* fragments; see auto_compact() in embed/run.c */
#define MAX_ENDPOINTS 16

struct gen_opts {
    const char *workspace;
    bool all_workspaces;
    bool force_all;
    struct st_select_opts sel;
    const char *preview_id;
    int verbose;
    long lance_batch_size;
    long compact_after; /**< compact when the table has more fragments; 0 = never */
    const char *endpoints[MAX_ENDPOINTS];
    size_t endpoint_count;
    const char *model;
    long batch_size; /* 0 = the embedder's default */
    long parallel;   /* 0 = the embedder's default */
    bool json;
    bool dry_run;
};

static void usage(FILE *out)
{
    fputs(
        "usage: supertag embed generate [options]\n"
        "\n"
        "Select the workspace's meaningful nodes, build their context text and embed the new\n"
        "or changed ones into the workspace's Lance table (unchanged texts are skipped).\n"
        "\n"
        "workspace:\n"
        "  -w, --workspace <alias>    workspace (default: the default workspace)\n"
        "      --all-workspaces       every workspace of config.json, in turn\n"
        "selection:\n"
        "  -a, --all                  re-embed everything (rows are replaced, never duplicated)\n"
        "  -l, --limit <n>            at most n nodes (0 = no limit)\n"
        "  -t, --tag <tag>            only nodes with this supertag (exact name)\n"
        "      --min-length <n>       minimum name length, entities exempt (default 15)\n"
        "      --include-all          no content filter at all\n"
        "      --include-timestamps   include names starting with 1970-01-01\n"
        "      --include-system       include system docTypes (tuples, metanodes, ...)\n"
        "      --include-transcripts  include transcripts and transcript lines\n"
        "context text:\n"
        "      --graph-aware          \"[Type: #tag] [Field: value] name\" (default)\n"
        "      --no-graph-aware       legacy \"Tag: ancestor | name\" text\n"
        "      --include-fields       legacy mode: append \"[Field]: value\" lines\n"
        "      --enrichment-preview <id>  show the graph-aware text of one node and exit\n"
        "embedding and storage:\n"
        "      --model <name>         embedding model (default: config.json, else bge-m3)\n"
        "      --endpoint <url>       Ollama server; repeat for several (default: config.json,\n"
        "                             else http://localhost:11434)\n"
        "      --batch-size <n>       texts per embedding request\n"
        "      --parallel <n>         requests in flight per server\n"
        "      --lance-batch-size <n> rows per Lance commit (default 5000; 1,000-10,000 advised)\n"
        "      --compact-after <n>    compact the table after the run when it has more than n\n"
        "                             fragments (default 64; 0 = never)\n"
        "      --dry-run              select and build the texts, embed nothing\n"
        "output:\n"
        "      --json                 JSON lines: progress events and a summary\n"
        "  -v, --verbose              more detail\n"
        "  -h, --help                 this help\n",
        out);
}

/* Option value: "--opt=value", "--opt value", "-x value" or "-xvalue". */
static const char *take_value(int argc, char **argv, int *i, const char *arg, size_t namelen,
                              const char *option)
{
    if (arg[namelen] == '=')
        return arg + namelen + 1;
    if (arg[1] != '-' && arg[namelen] != '\0')
        return arg + namelen;
    if (*i + 1 >= argc) {
        cli_error("option %s needs a value (see 'supertag embed generate --help')", option);
        return NULL;
    }
    return argv[++*i];
}

/* Does arg name this option (exactly, or with "=value" / attached short value)? */
static bool is_opt(const char *arg, const char *name, bool takes_value)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return false;
    if (arg[n] == '\0')
        return true;
    if (!takes_value)
        return false;
    if (arg[n] == '=' && name[1] == '-')
        return true;
    return name[1] != '-' && n == 2; /* -l10 */
}

/* Parse the command line into *o. Returns -1 on success, else the exit code. */
static int parse(int argc, char **argv, struct gen_opts *o)
{
    struct st_select_opts init = ST_SELECT_OPTS_INIT;
    memset(o, 0, sizeof(*o));
    o->sel = init;
    o->lance_batch_size = DEFAULT_LANCE_BATCH;
    o->compact_after = DEFAULT_COMPACT_AFTER;
    int graph = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
#define VALUE(name)                                                                                \
    (is_opt(a, name, true) && (v = take_value(argc, argv, &i, a, strlen(name), name), true))
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return EXIT_OK;
        } else if (VALUE("-w") || VALUE("--workspace")) {
            if (!v)
                return EXIT_USAGE;
            o->workspace = v;
        } else if (!strcmp(a, "--all-workspaces")) {
            o->all_workspaces = true;
        } else if (!strcmp(a, "-a") || !strcmp(a, "--all")) {
            o->force_all = true;
        } else if (VALUE("-l") || VALUE("--limit")) {
            long n;
            if (!v || (n = cli_parse_long("--limit", v, 0, 1000000000L)) < 0)
                return EXIT_USAGE;
            o->sel.limit = n;
        } else if (VALUE("-t") || VALUE("--tag")) {
            if (!v)
                return EXIT_USAGE;
            o->sel.tag = v;
        } else if (VALUE("--min-length")) {
            long n;
            if (!v || (n = cli_parse_long("--min-length", v, 0, 1000000L)) < 0)
                return EXIT_USAGE;
            o->sel.min_length = n;
        } else if (!strcmp(a, "--include-all")) {
            o->sel.include_all = true;
        } else if (!strcmp(a, "--include-timestamps")) {
            o->sel.include_timestamps = true;
        } else if (!strcmp(a, "--include-system")) {
            o->sel.include_system = true;
        } else if (!strcmp(a, "--include-transcripts")) {
            o->sel.include_transcripts = true;
        } else if (!strcmp(a, "--include-fields")) {
            o->sel.include_fields = true;
        } else if (!strcmp(a, "--graph-aware")) {
            graph = 1;
        } else if (!strcmp(a, "--no-graph-aware")) {
            graph = 0;
        } else if (VALUE("--enrichment-preview")) {
            if (!v || !*v) {
                if (v)
                    cli_error("--enrichment-preview needs a node id");
                return EXIT_USAGE;
            }
            o->preview_id = v;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose++;
        } else if (VALUE("--lance-batch-size")) {
            long n;
            if (!v || (n = cli_parse_long("--lance-batch-size", v, 1, 100000000L)) < 0)
                return EXIT_USAGE;
            o->lance_batch_size = n;
        } else if (VALUE("--compact-after")) {
            long n;
            if (!v || (n = cli_parse_long("--compact-after", v, 0, 1000000000L)) < 0)
                return EXIT_USAGE;
            o->compact_after = n;
        } else if (VALUE("--endpoint")) {
            if (!v)
                return EXIT_USAGE;
            if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) {
                cli_error(
                    "invalid value for --endpoint: '%s' (expected an http:// or https:// URL)", v);
                return EXIT_USAGE;
            }
            if (o->endpoint_count == MAX_ENDPOINTS) {
                cli_error("too many --endpoint options (at most %d)", MAX_ENDPOINTS);
                return EXIT_USAGE;
            }
            o->endpoints[o->endpoint_count++] = v;
        } else if (VALUE("--model")) {
            if (!v || !*v) {
                if (v)
                    cli_error("--model needs a model name");
                return EXIT_USAGE;
            }
            o->model = v;
        } else if (VALUE("--batch-size")) {
            long n;
            if (!v || (n = cli_parse_long("--batch-size", v, 1, 10000L)) < 0)
                return EXIT_USAGE;
            o->batch_size = n;
        } else if (VALUE("--parallel")) {
            long n;
            if (!v || (n = cli_parse_long("--parallel", v, 1, 64L)) < 0)
                return EXIT_USAGE;
            o->parallel = n;
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--dry-run")) {
            o->dry_run = true;
        } else {
            cli_error("unknown option '%s' for embed generate (see 'supertag embed generate "
                      "--help')",
                      a);
            return EXIT_USAGE;
        }
#undef VALUE
    }
    o->sel.graph_aware = graph != 0;
    if (o->lance_batch_size < 1000 || o->lance_batch_size > 10000)
        cli_warn("--lance-batch-size %ld is outside the advised 1,000-10,000 (small values make "
                 "many small commits, large ones use more memory)",
                 o->lance_batch_size);
    if (o->sel.include_fields && o->sel.graph_aware)
        cli_warn("--include-fields applies to the legacy text only (--no-graph-aware); ignored");
    if (o->all_workspaces && o->workspace)
        cli_warn("--all-workspaces given: -w %s is ignored", o->workspace);
    if (o->preview_id && o->all_workspaces) {
        cli_error("--enrichment-preview shows one node of one workspace: drop --all-workspaces");
        return EXIT_USAGE;
    }
    return -1;
}

/* Known models' dimensions (the original's table); others are learned. */
static const char *model_dimensions(const char *model)
{
    static const struct {
        const char *name, *dim;
    } known[] = {{"nomic-embed-text", "768"},
                 {"mxbai-embed-large", "1024"},
                 {"all-minilm", "384"},
                 {"bge-m3", "1024"},
                 {"snowflake-arctic-embed", "1024"}};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (!strcmp(known[i].name, model))
            return known[i].dim;
    return "auto-detect";
}

/* Settings shared by every workspace of the run. */
struct run_ctx {
    const struct gen_opts *o;
    const st_paths *paths;
    const char *model;
    const char *endpoints[MAX_ENDPOINTS];
    size_t endpoint_count;
    struct st_enrich_config enrich;
    FILE *out; /* human messages: stdout, or stderr-free silence with --json */
};

static void say(const struct run_ctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(const struct run_ctx *c, const char *fmt, ...)
{
    if (!c->out)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->out, fmt, ap);
    va_end(ap);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int open_index(const char *path, sqlite3 **db)
{
    *db = NULL;
    if (sqlite3_open_v2(path, db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        cli_error("cannot open %s: %s", path, *db ? sqlite3_errmsg(*db) : "out of memory");
        sqlite3_close(*db);
        *db = NULL;
        return EXIT_RUNTIME;
    }
    sqlite3_busy_timeout(*db, 5000);
    return EXIT_OK;
}

static int preview(const struct run_ctx *c, const st_workspace *ws)
{
    FILE *out = stdout;
    if (!file_exists(ws->db_path)) {
        fprintf(out, "❌ Database not found: %s\n", ws->db_path);
        return EXIT_RUNTIME;
    }
    sqlite3 *db;
    if (open_index(ws->db_path, &db) != EXIT_OK)
        return EXIT_RUNTIME;
    struct st_preview p;
    int rc = st_select_preview(db, &c->enrich, c->o->preview_id, &p);
    sqlite3_close(db);
    if (rc < 0) {
        cli_error("%s", st_error_message());
        return EXIT_RUNTIME;
    }
    if (!p.found) {
        fprintf(out, "❌ Node not found: %s\n", c->o->preview_id);
        st_preview_free(&p);
        return EXIT_RUNTIME;
    }
    fprintf(out, "📋 Enrichment Preview [%s]\n\n", ws->alias);
    fprintf(out, "   Node ID:        %s\n", c->o->preview_id);
    fprintf(out, "   Original name:  %s\n", p.name);
    fprintf(out, "   Supertags:      %s\n", p.tags.len ? st_str_cstr(&p.tags) : "(none)");
    fprintf(out, "   Fields:         %s\n", p.fields.len ? st_str_cstr(&p.fields) : "(none)");
    fprintf(out, "   Enriched:       %s\n\n", p.enriched ? "yes" : "no (no supertag)");
    fprintf(out, "   Enriched text (raw):\n   %s\n\n", st_str_cstr(&p.raw));
    if (p.raw.len != p.text.len || memcmp(st_str_cstr(&p.raw), st_str_cstr(&p.text), p.raw.len))
        fprintf(out, "   Enriched text (truncated):\n   %s\n\n", st_str_cstr(&p.text));
    size_t units = st_utf16_len(st_str_cstr(&p.text), p.text.len);
    fprintf(out, "   Est. tokens:    %zu/512\n", (units + 3) / 4);
    st_preview_free(&p);
    return EXIT_OK;
}

/* The -v "Content Filtering" block (reference §5.2 step 7). */
static void filtering_block(const struct run_ctx *c, sqlite3 *db, long long selected)
{
    const struct st_select_opts *s = &c->o->sel;
    long long named = 0;
    char a[32], b[32];
    if (st_select_named_count(db, &named) < 0)
        named = -1;
    say(c, "📋 Content Filtering:\n");
    say(c, "   Total named nodes: %s\n", st_group(a, sizeof(a), named));
    say(c, "   After filtering: %s\n", st_group(b, sizeof(b), selected));
    say(c, "   Filters applied:\n");
    if (!s->include_all) {
        say(c, "     - Min length: %ld chars\n", s->min_length);
        if (!s->include_timestamps)
            say(c, "     - Excluding timestamp artifacts\n");
        if (!s->include_system)
            say(c, "     - Excluding system docTypes\n");
        say(c, s->include_transcripts ? "     - Including transcript content\n"
                                      : "     - Excluding transcripts\n");
    } else {
        say(c, "     - None (include-all mode)\n");
    }
    if (s->tag)
        say(c, "     - Tag filter: %s\n", s->tag);
    say(c, "\n");
}

/* Select and build every item; --dry-run output, or the input of the run. */
static int build_items(const struct run_ctx *c, sqlite3 *db, struct st_select_counts *counts)
{
    st_select *cur = NULL;
    if (st_select_open(db, &c->o->sel, &cur) < 0) {
        cli_error("%s", st_error_message());
        return EXIT_RUNTIME;
    }
    struct st_item it;
    int rc;
    st_str line = {0};
    while ((rc = st_select_next(cur, &it)) > 0) {
        if (c->o->json && c->o->dry_run) {
            st_str_clear(&line);
            st_str_puts(&line, "{\"event\":\"item\",\"id\":");
            st_str_append_json(&line, it.id);
            st_str_puts(&line, ",\"text_hash\":\"");
            st_str_puts(&line, it.text_hash);
            st_str_puts(&line, "\",\"context_text\":");
            st_str_append_json(&line, it.text);
            st_str_puts(&line, ",\"metadata\":");
            st_str_append_json(&line, it.metadata);
            st_str_puts(&line, "}\n");
            if (!line.failed)
                fputs(line.ptr, stdout);
        }
    }
    st_str_free(&line);
    st_select_counts(cur, counts);
    st_select_close(cur);
    if (rc < 0) {
        cli_error("%s", st_error_message());
        return EXIT_RUNTIME;
    }
    return EXIT_OK;
}

static int generate_one(const struct run_ctx *c, const st_workspace *ws)
{
    const struct gen_opts *o = c->o;
    char a[32], b[32];
    if (o->verbose) {
        say(c, "   Workspace: %s\n", ws->alias);
        say(c, "   Database: %s\n\n", ws->db_path);
    }
    say(c, "📊 Embedding Configuration\n");
    say(c, "   Model: %s\n", c->model);
    say(c, "   Dimensions: %s\n", model_dimensions(c->model));
    for (size_t i = 0; i < c->endpoint_count; i++)
        say(c, "   Endpoint: %s\n", c->endpoints[i]);
    say(c, "   Storage: LanceDB (via resona)\n");
    say(c, "   LanceDB batch size: %s\n\n", st_group(a, sizeof(a), o->lance_batch_size));

    struct st_run_opts ro = {NULL,
                             c->endpoints,
                             c->endpoint_count,
                             c->model,
                             (size_t)o->batch_size,
                             (unsigned)o->parallel,
                             (size_t)o->lance_batch_size,
                             o->force_all,
                             !o->sel.tag && o->sel.limit <= 0,
                             NULL,
                             0,
                             NULL,
                             (uint64_t)o->compact_after};
    if (!o->dry_run) {
        /* the original's Ollama pre-check (reference 5.2 step 3), with its messages */
        enum st_preflight pf = st_run_preflight(&ro);
        if (pf != ST_PREFLIGHT_OK) {
            if (pf == ST_PREFLIGHT_NO_MODEL)
                say(c,
                    "❌ Model \"%s\" not found in Ollama\n\nInstall the model with:\n"
                    "  ollama pull %s\n",
                    c->model, c->model);
            else if (pf == ST_PREFLIGHT_NO_SERVER)
                say(c, "❌ Cannot connect to Ollama\n\nMake sure Ollama is running:\n"
                       "  ollama serve\n");
            cli_error("%s", st_error_message());
            return EXIT_RUNTIME;
        }
    }

    if (!file_exists(ws->db_path)) {
        say(c, "❌ Database not found: %s\n\nRun 'supertag sync' first to index the workspace.\n",
            ws->db_path);
        if (!c->out)
            cli_error("database not found: %s (run 'supertag sync' first)", ws->db_path);
        return EXIT_RUNTIME;
    }
    sqlite3 *db;
    if (open_index(ws->db_path, &db) != EXIT_OK)
        return EXIT_RUNTIME;

    int ret = EXIT_RUNTIME;
    long long selected = 0;
    if (st_select_count(db, &o->sel, &selected) < 0) {
        cli_error("%s", st_error_message());
        goto done;
    }
    if (selected == 0) {
        say(c, "No nodes found to embed\n");
        ret = EXIT_OK;
        goto done;
    }
    if (o->verbose)
        filtering_block(c, db, selected);
    say(c, "📊 Processing %s nodes...\n\n", st_group(a, sizeof(a), selected));

    /* Counts pass: cheap classification, so the messages come before the run. */
    struct st_select_opts counts_opts = o->sel;
    counts_opts.counts_only = true;
    counts_opts.enrich = &c->enrich;
    struct run_ctx quiet = *c;
    struct gen_opts oq = *o;
    oq.sel = counts_opts;
    oq.dry_run = false;
    quiet.o = &oq;
    struct st_select_counts counts;
    if ((ret = build_items(&quiet, db, &counts)) != EXIT_OK)
        goto done;
    ret = EXIT_RUNTIME;
    if (o->sel.graph_aware) {
        say(c, "   Graph-aware enrichment: enabled\n");
        say(c, "   Enriched (with tags): %s\n", st_group(a, sizeof(a), counts.enriched));
        say(c, "   Plain text (no tags): %s\n\n", st_group(b, sizeof(b), counts.plain));
    } else {
        say(c, "   Contextualizing nodes...\n");
        say(c, "   With ancestor context: %s\n", st_group(a, sizeof(a), counts.with_ancestor));
        say(c, "   With own tag: %s\n", st_group(a, sizeof(a), counts.own_tag));
        say(c, "   No context: %s\n", st_group(a, sizeof(a), counts.no_context));
        if (o->sel.include_fields)
            say(c, "   Field enrichment: enabled\n");
        say(c, "\n");
    }

    if (o->dry_run) {
        struct gen_opts od = *o;
        od.sel.enrich = &c->enrich;
        struct run_ctx dc = *c;
        dc.o = &od;
        if ((ret = build_items(&dc, db, &counts)) != EXIT_OK)
            goto done;
        say(c, "✅ Dry run: %s texts built, nothing embedded\n",
            st_group(a, sizeof(a), counts.total));
        if (o->json)
            printf("{\"event\":\"summary\",\"dry_run\":true,\"selected\":%lld,\"enriched\":%lld,"
                   "\"plain\":%lld}\n",
                   counts.total, counts.enriched, counts.plain);
        ret = EXIT_OK;
        goto done;
    }

    /* The run: items stream from the cursor into the pipeline. */
    char *table_path = NULL;
    size_t tlen = strlen(ws->lance_path) + sizeof("/" ST_LANCE_TABLE_NAME ".lance");
    st_progress *pr = NULL;
    struct st_progress_opts po = ST_PROGRESS_OPTS_INIT;
    po.mode = o->json ? ST_PROGRESS_JSON : cli_verbosity < 0 ? ST_PROGRESS_QUIET : ST_PROGRESS_AUTO;
    if (!(table_path = malloc(tlen)) || !(pr = st_progress_new(&po))) {
        free(table_path);
        cli_error("out of memory");
        goto done;
    }
    snprintf(table_path, tlen, "%s/%s.lance", ws->lance_path, ST_LANCE_TABLE_NAME);
    struct st_select_opts run_sel = o->sel;
    run_sel.enrich = &c->enrich;
    ro.table_path = table_path;
    ro.sel = &run_sel;
    ro.total = selected;
    ro.progress = pr;
    say(c, "   Starting embedding process...\n");
    if (c->out)
        fflush(c->out);
    struct st_progress_summary sum;
    int rc = st_run(db, &ro, &sum);
    st_progress_summary(pr, &sum);
    st_progress_free(pr);
    st_run_summary_free(&sum);
    free(table_path);
    if (rc == RESONA_EINTERRUPTED) {
        ret = EXIT_INTERRUPTED;
    } else if (rc < 0) {
        cli_error("%s", st_error_message());
        ret = EXIT_RUNTIME;
    } else {
        ret = EXIT_OK;
    }
done:
    sqlite3_close(db);
    return ret;
}

int embed_generate(int argc, char **argv)
{
    struct gen_opts o;
    int rc = parse(argc, argv, &o);
    if (rc >= 0)
        return rc;
    cli_verbosity += o.verbose;
    cli_install_log();

    int ret = EXIT_RUNTIME;
    st_paths paths;
    st_config *cfg = NULL;
    char *warn = NULL;
    char *enrich_path = NULL;
    struct run_ctx c;
    memset(&c, 0, sizeof(c));
    c.o = &o;
    c.out = o.json ? NULL : stdout;
    st_enrich_config_defaults(&c.enrich);
    if (st_paths_get(&paths) < 0) {
        cli_error("%s", st_error_message());
        return EXIT_RUNTIME;
    }
    c.paths = &paths;
    if (st_config_load(paths.config_file, &cfg) < 0) {
        cli_error("%s", st_error_message());
        goto done;
    }
    static const char *const model_key[] = {"embeddings", "model", NULL};
    static const char *const endpoint_key[] = {"embeddings", "endpoint", NULL};
    c.model = o.model ? o.model : st_config_get_string(cfg, model_key);
    if (!c.model || !*c.model)
        c.model = DEFAULT_MODEL;
    for (size_t i = 0; i < o.endpoint_count; i++)
        c.endpoints[c.endpoint_count++] = o.endpoints[i];
    if (c.endpoint_count == 0) {
        const char *e = st_config_get_string(cfg, endpoint_key);
        c.endpoints[c.endpoint_count++] = e && *e ? e : DEFAULT_ENDPOINT;
    }

    /* embed-enrichment.json (graph-aware text) */
    size_t plen = strlen(paths.config_dir) + sizeof("/embed-enrichment.json");
    enrich_path = malloc(plen);
    if (!enrich_path) {
        cli_error("out of memory");
        goto done;
    }
    snprintf(enrich_path, plen, "%s/embed-enrichment.json", paths.config_dir);
    if (st_enrich_config_load(enrich_path, &c.enrich, &warn) < 0) {
        cli_error("%s", st_error_message());
        goto done;
    }
    if (warn)
        fprintf(stderr, "%s\n", warn);
    o.sel.enrich = &c.enrich;

    if (o.all_workspaces) {
        size_t n = st_config_workspace_count(cfg);
        if (n == 0) {
            say(&c, "❌ No workspaces configured\n"
                    "Add workspaces with: supertag workspace add <id> --alias <name>\n");
            if (!c.out)
                cli_error("no workspaces configured");
            goto done;
        }
        size_t ok = 0, failed = 0;
        for (size_t i = 0; i < n; i++) {
            const char *alias = st_config_workspace_alias(cfg, i);
            say(&c, "\n━━━ Workspace: %s ━━━\n", alias);
            st_workspace ws;
            if (st_workspace_resolve(&paths, alias, &ws) < 0) {
                cli_error("%s", st_error_message());
                failed++;
                continue;
            }
            if (generate_one(&c, &ws) == EXIT_OK)
                ok++;
            else
                failed++;
            st_workspace_free(&ws);
        }
        say(&c, "\n✅ All workspaces processed (%zu succeeded, %zu failed)\n", ok, failed);
        ret = failed ? EXIT_RUNTIME : EXIT_OK;
        goto done;
    }

    st_workspace ws;
    if (st_workspace_resolve(&paths, o.workspace, &ws) < 0) {
        cli_error("%s", st_error_message());
        goto done;
    }
    ret = o.preview_id ? preview(&c, &ws) : generate_one(&c, &ws);
    st_workspace_free(&ws);
done:
    free(warn);
    free(enrich_path);
    st_enrich_config_free(&c.enrich);
    st_config_free(cfg);
    st_paths_free(&paths);
    return ret;
}
