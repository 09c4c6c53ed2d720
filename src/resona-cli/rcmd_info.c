/*
 * rcmd_info.c - `resona info TABLE`: one JSON object describing the table.
 */
#include "rcli.h"

#include <stdio.h>
#include <string.h>

static const char info_help[] =
    "usage: resona info TABLE\n"
    "\n"
    "Print one JSON object describing the Lance table directory TABLE:\n"
    "  {\"path\":..., \"version\":N, \"rows\":N, \"deleted_rows\":N, \"fragments\":N,\n"
    "   \"versions\":N, \"bytes\":N, \"data_format\":\"2.0\", \"manifest_naming\":\"v1\"|\"v2\",\n"
    "   \"reader_flags\":N, \"writer_flags\":N,\n"
    "   \"schema\":[{\"name\":..., \"type\":\"utf8|float64|float32|int64|bool|vector|other\",\n"
    "              \"logical_type\":..., \"nullable\":true|false, \"id\":N[, \"dim\":N]}...],\n"
    "   \"indices\":[\"id_idx\", ...],\n"
    "   \"readable_by\":{\"resona\":bool, \"lancedb_0_13\":bool, \"lancedb_current\":bool},\n"
    "   \"writable_by_resona\":bool[, \"note\":...]}\n"
    "rows excludes deleted rows; bytes counts every file under TABLE. A data format 2.1\n"
    "or 2.2 table gets a note: the original supertag's LanceDB (JS 0.13) cannot open it.\n";

int rcmd_info(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(info_help, stdout);
            return 0;
        }
        if (argv[i][0] == '-' || path) {
            rcli_error("info: unexpected argument '%s'", argv[i]);
            return 2;
        }
        path = argv[i];
    }
    if (!path) {
        fputs(info_help, stderr);
        return 2;
    }
    resona_table *t = NULL;
    if (resona_table_open(path, NULL, &t) < 0)
        return rcli_fail();
    resona_table_stats st;
    if (resona_table_stats_get(t, &st) < 0) {
        resona_table_free(t);
        return rcli_fail();
    }
    FILE *o = stdout;
    fputs("{\"path\":", o);
    rcli_json_string(o, path, strlen(path));
    fprintf(o,
            ",\"version\":%llu,\"rows\":%llu,\"deleted_rows\":%llu,\"fragments\":%llu,"
            "\"versions\":%llu,\"bytes\":%llu,\"data_format\":",
            (unsigned long long)st.version, (unsigned long long)st.rows,
            (unsigned long long)st.deleted_rows, (unsigned long long)st.fragments,
            (unsigned long long)st.versions, (unsigned long long)st.bytes);
    rcli_json_string(o, st.data_format, strlen(st.data_format));
    fprintf(o,
            ",\"manifest_naming\":\"%s\",\"reader_flags\":%llu,\"writer_flags\":%llu,\"schema\":[",
            st.naming == RESONA_NAMING_V1 ? "v1" : "v2", (unsigned long long)st.reader_flags,
            (unsigned long long)st.writer_flags);
    const resona_schema *s = resona_table_schema(t);
    for (size_t i = 0; i < s->count; i++) {
        const resona_field *f = &s->fields[i];
        fputs(i ? ",{\"name\":" : "{\"name\":", o);
        rcli_json_string(o, f->name, strlen(f->name));
        fprintf(o, ",\"type\":\"%s\",\"logical_type\":", resona_type_name(f->type));
        rcli_json_string(o, f->logical_type, strlen(f->logical_type));
        fprintf(o, ",\"nullable\":%s,\"id\":%d", f->nullable ? "true" : "false", (int)f->id);
        if (f->type == RESONA_TYPE_VECTOR)
            fprintf(o, ",\"dim\":%u", f->dim);
        fputc('}', o);
    }
    fputs("],\"indices\":[", o);
    for (size_t i = 0; i < st.index_count; i++) {
        if (i)
            fputc(',', o);
        rcli_json_string(o, st.index_names[i], strlen(st.index_names[i]));
    }
    int is20 = !strcmp(st.data_format, "2.0");
    int is21 = !strcmp(st.data_format, "2.1");
    int is22 = !strcmp(st.data_format, "2.2");
    fprintf(o,
            "],\"readable_by\":{\"resona\":%s,\"lancedb_0_13\":%s,\"lancedb_current\":%s},"
            "\"writable_by_resona\":%s",
            is20 || is21 || is22 ? "true" : "false",
            is20 && st.reader_flags < 16 ? "true" : "false",
            (is20 || is21 || is22) && st.reader_flags < 64 ? "true" : "false",
            (is20 || is21 || is22) && (st.writer_flags & ~(uint64_t)9) == 0 ? "true" : "false");
    if (is21)
        fputs(",\"note\":\"data format 2.1: the original supertag's LanceDB (JS 0.13) cannot "
              "open this table; current LanceDB and resona read and append to it\"",
              o);
    if (is22)
        fputs(",\"note\":\"data format 2.2: the original supertag's LanceDB (JS 0.13) cannot "
              "open this table; current LanceDB (0.39) and resona read and append to it\"",
              o);
    fputs("}\n", o);
    resona_table_free(t);
    return 0;
}
