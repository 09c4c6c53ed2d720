/*
 * fuzz_export.c - libFuzzer target for the Tana export reader and the graph
 * built from it: any input must be accepted or rejected with a message,
 * never crash, leak or read out of bounds. Inputs are fed in two chunks split
 * at a position taken from the first byte, so chunk boundaries are fuzzed
 * too. The seed corpus (corpus/) replays as the ctest fuzz_corpus_export.
 */
#include "st_error.h"
#include "sync/export.h"
#include "sync/graph.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *spill_dir(void)
{
    static char dir[64];
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "/tmp/fuzz-export.XXXXXX");
        if (!mkdtemp(dir))
            snprintf(dir, sizeof(dir), "/tmp");
    }
    return dir;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_graph g;
    if (st_graph_init(&g, spill_dir()) < 0)
        return 0;
    st_export_opts opts = ST_EXPORT_OPTS_INIT;
    opts.max_string = 4096;
    opts.max_doc = 1u << 20;
    opts.max_depth = 64;
    st_export_reader *r = NULL;
    if (st_export_reader_new("fuzz.json", &opts, st_graph_add_doc, &g, &r) == 0) {
        size_t split = size ? data[0] % (size + 1) : 0;
        int rc = st_export_reader_feed(r, data, split);
        if (rc == 0)
            rc = st_export_reader_feed(r, data + split, size - split);
        if (rc == 0)
            rc = st_export_reader_finish(r, NULL);
        if (rc == 0 && st_graph_resolve(&g) == 0) {
            jt_out buf = {0};
            for (size_t i = 0; i < g.index_count; i++) {
                const st_rec *rec = &g.recs[g.index[i]];
                st_graph_checksum(&g, rec, &buf);
                st_graph_read_raw(&g, rec, &buf);
            }
            jt_out_free(&buf);
        } else if (rc < 0 && st_error_message()[0] == '\0') {
            abort(); /* every failure must say what and where */
        }
        st_export_reader_free(r);
    }
    st_graph_free(&g);
    return 0;
}
