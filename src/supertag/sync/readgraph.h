/*
 * sync/readgraph.h - read an export into a graph on two threads.
 *
 * The calling thread reads the file, runs yajl, builds each doc's tree and
 * prints its raw_data into the spill file; a second thread validates and
 * records the docs (st_graph_add_doc_at) in file order. Docs travel in
 * batches of whole arenas (a few hundred docs, about 2 MiB each, at most
 * four batches in flight), so memory stays bounded by the batch size, never
 * the file. The result, including which error is reported for bad input,
 * is the same as st_export_read_file with st_graph_add_doc: the first
 * failure in file order wins.
 */
#ifndef SUPERTAG_SYNC_READGRAPH_H
#define SUPERTAG_SYNC_READGRAPH_H

#include "sync/export.h"
#include "sync/graph.h"

#include <signal.h>

/**
 * Read `path` into `g` (initialised, empty). `stop`, when non-NULL and set,
 * interrupts with RESONA_EINTERRUPTED. `threads` 1 reads on the calling
 * thread only; 2 (or more) uses the second thread. Fills *info.
 */
int st_sync_read_graph(const char *path, const st_export_opts *opts, st_graph *g,
                       volatile sig_atomic_t *stop, int threads, st_export_info *info);

#endif
