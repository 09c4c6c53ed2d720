/*
 * lance/v21_decode.h - decoders of Lance file format 2.1 and 2.2 pages
 * (lance-format.md section 7, docs/lance-2.2.md): mini-block chunks,
 * full-zip records, all-null and (2.2) constant pages, and the compressions
 * inside them (flat, variable, FastLanes bit-packing, RLE, FSST,
 * dictionaries, fixed-size lists, constants, and (2.2) LZ4/zstd "general"
 * compression, v22_general.c).
 *
 * The decoders work on memory only (v21_decode.c, v21_bitpack.c,
 * v21_fsst.c), so that the libFuzzer target can drive them directly; the
 * file I/O (which chunk to read, caching the last decoded chunk, reading
 * full-zip records through the repetition index) is in v21_read.c. Every
 * length and count read from input is checked before use; errors are
 * RESONA_ECORRUPT (or RESONA_EUNSUPPORTED for valid encodings resona does not
 * implement) naming the file, column, page and the file offset of the chunk.
 */
#ifndef RESONA_LANCE_V21_DECODE_H
#define RESONA_LANCE_V21_DECODE_H

#include "lance/reader.h"

#include "encodings_v2_1.pb-c.h"

#include <stddef.h>
#include <stdint.h>

/** A parsed FSST symbol table (up to 255 symbols of up to 8 bytes). */
typedef struct v21_fsst {
    int raw; /* decoder switch off: data stored uncompressed */
    unsigned nsym;
    uint8_t len[256];
    uint8_t sym[256][8];
} v21_fsst;

/** Where a decode happens, for error messages. */
typedef struct v21_where {
    const char *path;
    uint32_t col;
    size_t page;
    uint64_t off; /* file offset of the chunk / record range being decoded */
} v21_where;

enum { V21_MINIBLOCK = 1, V21_FULLZIP, V21_ALLNULL, V22_CONSTANT };

#define V22_MAX_INLINE 32 /* ConstantLayout.inline_value is at most 32 bytes */

/** A planned 2.1 page: its layout and whatever was loaded lazily. */
typedef struct v21_page {
    int layout;   /* V21_* */
    uint32_t col; /* for messages */
    size_t pageno;
    uint8_t *scratch; /* raw bytes of the chunk being decoded */
    size_t scratch_cap;
    L21__PageLayout *pl; /* owned */
    resona_type type;
    uint32_t dim;
    size_t width; /* bytes per value of fixed-width types (bool: 1) */
    /* mini-block */
    const L21__MiniBlockLayout *mb;
    size_t nbuf; /* value buffers per chunk */
    int large;   /* has_large_chunk: u32 metadata words and sizes */
    int has_fsst;
    v21_fsst fsst; /* value_compression fsst (mini-block or full-zip) */
    /* dictionary (page buffer 2), loaded on first use */
    int has_dict;
    uint64_t dict_count;
    uint64_t *dict_off; /* utf8: dict_count + 1 offsets into dict_data */
    uint8_t *dict_data; /* utf8: bytes; fixed: dict_count * width values */
    size_t dict_len;
    /* chunk table, loaded on first use */
    size_t nchunks;
    uint64_t *chunk_pos; /* nchunks + 1 byte offsets inside page buffer 1 */
    uint64_t *chunk_row; /* nchunks + 1 first values */
    int chunks_loaded;
    /* last decoded chunk */
    lance_colbuf cache;
    size_t cached; /* chunk index + 1, 0 = none */
    /* full-zip */
    const L21__FullZipLayout *fz;
    unsigned ctl_bytes; /* control word bytes: 0, 1, 2 or 4 */
    unsigned off_bytes; /* variable width: length bytes; 0 for fixed */
    size_t value_bytes; /* fixed width: record value bytes (after the control word) */
    size_t value_skip;  /* of which an item validity bitmap first (vectors) */
    unsigned bits_def;
    int32_t general; /* full-zip: per-value general compression scheme (2.2), 0 none */
    /* mini-block: chunk buffer 0 after general decompression (2.2) */
    uint8_t *gbuf;
    size_t gbuf_cap;
    /* constant (2.2): one inline value for every non-null row; null rows from the
       definition levels of page buffer 1 (loaded on first use into a null bitmap) */
    uint8_t inl[V22_MAX_INLINE];
    int value_buf;  /* utf8: the value is in page buffer 0 (then levels in buffer 2) */
    uint8_t *cstr;  /* utf8: the value's bytes, loaded by resona__v21_plan */
    size_t cstr_len;
    int has_levels;
    const L21__CompressiveEncoding *const_def; /* NULL: raw u16 levels */
    uint8_t *const_null;                       /* bit i set: row i is null */
} v21_page;

/**
 * Parse a PageLayout (the Any value of a 2.1 page) for a column of `type`
 * and check it against what resona implements. On success *out is owned by
 * the caller (resona__v21_page_free).
 */
int resona__v21_page_plan(const v21_where *w, const uint8_t *enc, size_t len, resona_type type,
                          uint32_t dim, uint64_t rows, size_t nbuf, v21_page **out);
void resona__v21_page_free(v21_page *p);

/**
 * Parse the value buffer of a 2.2 constant utf8 page: u32 buffer count (2),
 * u32 length of each buffer, then the buffers: offsets [0, n] (i32 or i64)
 * and the n bytes of the value. On success p->cstr holds a copy.
 */
int resona__v22_const_string(const v21_where *w, v21_page *p, const uint8_t *buf, size_t len);

/** Decode the dictionary buffer (page buffer 2) of a mini-block page. */
int resona__v21_dict_load(const v21_where *w, v21_page *p, const uint8_t *buf, size_t len);

/** Parse the chunk metadata words (page buffer 0) against the chunk bytes. */
int resona__v21_chunks_load(const v21_where *w, v21_page *p, const uint8_t *meta, size_t len,
                            uint64_t data_len, uint64_t rows);

/**
 * Decode one mini-block chunk holding `count` values into p->cache (rows
 * 0..count). `chunk` is exactly the chunk's bytes.
 */
int resona__v21_chunk_decode(const v21_where *w, v21_page *p, const uint8_t *chunk, size_t len,
                             size_t count);

/**
 * Decode `n` full-zip records (exactly `len` bytes) into dst rows [at, at+n).
 */
int resona__v21_fullzip_decode(const v21_where *w, const v21_page *p, const uint8_t *data,
                               size_t len, size_t n, lance_colbuf *dst, size_t at);

/* ---- v21_read.c (file I/O) ---- */

/** Plan a 2.1 page of column `col` (page index `pageno`) from its PageLayout bytes. */
int resona__v21_plan(lance_file *f, uint32_t col, size_t pageno, lance_page *p, const uint8_t *enc,
                     size_t len, resona_type type, uint32_t dim);

/** Read rows [a, a+n) of a planned 2.1 page into dst rows [at, at+n). */
int resona__v21_read(lance_file *f, lance_page *p, uint64_t a, size_t n, lance_colbuf *dst,
                     size_t at);

/* ---- v22_general.c ---- */

/** RESONA_EUNSUPPORTED (message set) unless `scheme` is 1 (LZ4) or 2 (zstd). */
int resona__v22_general_check(const v21_where *w, int32_t scheme);

/**
 * Decompress one general-compressed buffer (LZ4: u32 size + block; zstd: u64
 * size + frame, or a bare frame) and append the bytes to *buf (capacity *cap,
 * length *used), at most `max` bytes. RESONA_ECORRUPT on any inconsistency.
 */
int resona__v22_general_decompress(const v21_where *w, int32_t scheme, const uint8_t *in,
                                   size_t len, size_t max, uint8_t **buf, size_t *cap,
                                   size_t *used);

/**
 * Decode `n` definition levels (u16) of one buffer; raw u16 when ce is NULL.
 * `out` must have room for n + 1024 levels (a bit-packed block is whole).
 */
int resona__v21_levels_decode(const v21_where *w, const L21__CompressiveEncoding *ce,
                              const uint8_t *b, size_t len, size_t n, uint16_t *out);

/* ---- v21_bitpack.c ---- */

/**
 * FastLanes unpack of 1024 values of `t` bits (8/16/32/64) packed at width
 * `w` (0..t); `packed` must hold 1024*w/t words of t bits (little-endian).
 */
void resona__v21_fl_unpack(const uint8_t *packed, unsigned t, unsigned w, uint64_t out[1024]);

/* ---- v21_fsst.c ---- */

/** Parse an FSST symbol table. Returns 0 or RESONA_ECORRUPT (message set). */
int resona__v21_fsst_parse(const v21_where *w, const uint8_t *tab, size_t len, v21_fsst *out);

/**
 * Decode `len` FSST bytes, appending to *buf (capacity *cap, length *used).
 * Fails with RESONA_ECORRUPT on an escape at the end or an unknown code.
 */
int resona__v21_fsst_decode(const v21_where *w, const v21_fsst *t, const uint8_t *in, size_t len,
                            uint8_t **buf, size_t *cap, size_t *used);

#endif
