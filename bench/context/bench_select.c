/*
 * bench_select.c - throughput and peak memory of node selection + context
 * text + SHA-256 (src/supertag/embed/select.c) over a synthetic index.
 *
 * Builds a temporary tana-index.db with N named nodes (names of 20-200
 * characters, 10 % tagged with 3 field values each, 5 % system tuples, a
 * parent chain for the legacy walk), then streams every item in graph-aware
 * and legacy mode, printing items/s and the process's peak RSS. The point
 * is the memory bound: the cursor holds one chunk of 900 nodes, so peak RSS
 * must not grow with N (compare N = 100k and 1M).
 *
 * usage: bench_select [nodes] [--keep]
 */
#include "embed/select.h"

#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "bench_select: %s: %s\n", what, db ? sqlite3_errmsg(db) : st_error_message());
    exit(1);
}

static void exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(db, sql);
}

static void build(sqlite3 *db, long n)
{
    exec(db, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
             "CREATE TABLE nodes (id TEXT PRIMARY KEY, name TEXT, parent_id TEXT, node_type TEXT,"
             " created INTEGER, updated INTEGER, done_at INTEGER, raw_data TEXT);"
             "CREATE INDEX idx_nodes_parent ON nodes(parent_id);"
             "CREATE TABLE tag_applications (id INTEGER PRIMARY KEY AUTOINCREMENT,"
             " tuple_node_id TEXT NOT NULL, data_node_id TEXT NOT NULL, tag_id TEXT NOT NULL,"
             " tag_name TEXT NOT NULL);"
             "CREATE INDEX idx_tag_apps_data_node ON tag_applications(data_node_id);"
             "CREATE TABLE field_values (id INTEGER PRIMARY KEY AUTOINCREMENT, tuple_id TEXT NOT"
             " NULL, parent_id TEXT NOT NULL, field_def_id TEXT NOT NULL, field_name TEXT NOT NULL,"
             " value_node_id TEXT NOT NULL, value_text TEXT NOT NULL, value_order INTEGER DEFAULT"
             " 0, created INTEGER);"
             "CREATE INDEX idx_field_values_parent ON field_values(parent_id);"
             "CREATE TABLE supertag_fields (id INTEGER PRIMARY KEY AUTOINCREMENT, tag_id TEXT NOT"
             " NULL, tag_name TEXT NOT NULL, field_name TEXT NOT NULL, field_label_id TEXT NOT"
             " NULL, field_order INTEGER DEFAULT 0, inferred_data_type TEXT);"
             "INSERT INTO supertag_fields(tag_id, tag_name, field_name, field_label_id,"
             " inferred_data_type) VALUES ('t','project','Status','l1','options'),"
             " ('t','project','Due','l2','date'), ('t','project','Notes','l3','text');"
             "BEGIN");
    sqlite3_stmt *node, *tag, *fv;
    sqlite3_prepare_v2(db, "INSERT INTO nodes(id, name, parent_id, raw_data) VALUES (?,?,?,?)", -1,
                       &node, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO tag_applications(tuple_node_id, data_node_id, tag_id,"
                       " tag_name) VALUES ('tp', ?, 't', 'project')",
                       -1, &tag, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO field_values(tuple_id, parent_id, field_def_id, field_name,"
                       " value_node_id, value_text, value_order) VALUES ('x', ?, '', ?, 'v', ?,"
                       " 0)",
                       -1, &fv, NULL);
    static const char words[] = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do "
                                "eiusmod tempor incididunt ut labore et dolore magna aliqua ut "
                                "enim ad minim veniam quis nostrud exercitation ullamco laboris";
    char id[32], parent[32], name[256];
    srand(42);
    for (long i = 0; i < n; i++) {
        snprintf(id, sizeof(id), "n%09ld", i);
        snprintf(parent, sizeof(parent), "n%09ld", i / 10);
        int len = 20 + rand() % 180;
        int off = rand() % 40;
        snprintf(name, sizeof(name), "%ld %.*s", i, len, words + off);
        bool tuple = i % 20 == 7;
        sqlite3_bind_text(node, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(node, 2, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(node, 3, parent, -1, SQLITE_STATIC);
        sqlite3_bind_text(node, 4,
                          tuple ? "{\"props\":{\"_docType\":\"tuple\"}}" : "{\"props\":{}}", -1,
                          SQLITE_STATIC);
        if (sqlite3_step(node) != SQLITE_DONE)
            die(db, "insert node");
        sqlite3_reset(node);
        if (i % 10 == 3) {
            sqlite3_bind_text(tag, 1, id, -1, SQLITE_STATIC);
            sqlite3_step(tag);
            sqlite3_reset(tag);
            static const char *fields[][2] = {
                {"Status", "Active"}, {"Due", "2026-01-01"}, {"Notes", "a longer note text"}};
            for (int f = 0; f < 3; f++) {
                sqlite3_bind_text(fv, 1, id, -1, SQLITE_STATIC);
                sqlite3_bind_text(fv, 2, fields[f][0], -1, SQLITE_STATIC);
                sqlite3_bind_text(fv, 3, fields[f][1], -1, SQLITE_STATIC);
                sqlite3_step(fv);
                sqlite3_reset(fv);
            }
        }
    }
    sqlite3_finalize(node);
    sqlite3_finalize(tag);
    sqlite3_finalize(fv);
    exec(db, "COMMIT");
}

static void run(sqlite3 *db, bool graph, const char *label)
{
    struct st_select_opts o = ST_SELECT_OPTS_INIT;
    o.graph_aware = graph;
    st_select *c;
    double t0 = now(), c0 = cpu_s();
    if (st_select_open(db, &o, &c) < 0)
        die(NULL, "open");
    struct st_item it;
    int rc;
    long long bytes = 0;
    while ((rc = st_select_next(c, &it)) > 0)
        bytes += (long long)it.text_len;
    if (rc < 0)
        die(NULL, "next");
    struct st_select_counts k;
    st_select_counts(c, &k);
    st_select_close(c);
    double dt = now() - t0, dc = cpu_s() - c0;
    printf("%-12s items %lld  with context %lld  text %.1f MB  wall %.2f s  cpu %.2f s"
           "  %.0f items/cpu-s  peak RSS %ld MB\n",
           label, k.total, graph ? k.enriched : k.own_tag + k.with_ancestor, (double)bytes / 1e6,
           dt, dc, (double)k.total / dc, peak_rss_kb() / 1024);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    bool keep = argc > 2 && !strcmp(argv[2], "--keep");
    char dir[] = "/tmp/bench_select.XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    char path[64];
    snprintf(path, sizeof(path), "%s/tana-index.db", dir);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        die(db, "open db");
    double t0 = now();
    build(db, n);
    printf("built %ld nodes in %.1f s (peak RSS %ld MB)\n", n, now() - t0, peak_rss_kb() / 1024);
    run(db, true, "graph-aware");
    run(db, false, "legacy");
    sqlite3_close(db);
    if (!keep) {
        unlink(path);
        rmdir(dir);
    } else {
        printf("kept %s\n", path);
    }
    return 0;
}
