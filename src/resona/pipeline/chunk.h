/*
 * pipeline/chunk.h - the original's text rules: base ids, text hashes and the
 * chunking of long texts, counted in UTF-16 code units as JavaScript does.
 *
 * chunkText(text, size, overlap) of resona (supertag-behaviour.md 8.2):
 *
 *   if len(text) <= size: return [text]
 *   start = 0
 *   while start < len(text):
 *       chunks.push(text[start : min(start + size, len(text))])
 *       start += size - overlap
 *       if len(text) - start < overlap and start < len(text): break
 *
 * len and the slice bounds are UTF-16 code units. Our texts are UTF-8, so a
 * slice bound is mapped to a byte offset. A bound that falls between the two
 * halves of a surrogate pair (a code point >= U+10000) leaves a lone
 * surrogate in JavaScript, which becomes U+FFFD when the string is encoded to
 * UTF-8 for Arrow; we emit U+FFFD for that half too. Invalid UTF-8 bytes
 * count as one unit each (the original never sees them: JS strings are UTF-16).
 */
#ifndef RESONA_PIPELINE_CHUNK_H
#define RESONA_PIPELINE_CHUNK_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

/** Length of a UTF-8 text in UTF-16 code units. */
size_t resona__chunk_utf16_len(const char *text, size_t len);

/** One chunk: [start, end) in UTF-16 units. */
typedef struct resona_chunk_span {
    size_t start;
    size_t end;
} resona_chunk_span;

/**
 * The spans of the chunks of a text of `units` UTF-16 units. *out is
 * allocated (caller frees with resona__free), *count_out >= 1.
 * RESONA_EINVALID when overlap >= size or size == 0.
 */
int resona__chunk_spans(size_t units, size_t size, size_t overlap, resona_chunk_span **out,
                        size_t *count_out);

/**
 * Append to `out` the UTF-8 bytes of text[start:end) (UTF-16 units), with
 * U+FFFD for a split surrogate pair at either end.
 */
int resona__chunk_slice(const char *text, size_t len, size_t start, size_t end, resona_buf *out);

#endif
