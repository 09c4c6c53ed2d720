/*
 * embed/reply.h - streaming parser for embedding replies.
 *
 * Replies are fed chunk by chunk as libcurl receives them (no whole-body
 * buffer) into a yajl callback parser. Each number inside a vector is
 * converted in place (fparse.h) and stored straight into one float buffer of
 * expected * dim floats, allocated once per reply: no allocation per number
 * or per vector. The reply is checked as it streams: vector count equal to
 * the number of inputs, every vector of the expected dimension, every value
 * finite. A dimension of 0 means "learn it from the first vector".
 *
 * Shapes (only the fields we use):
 *
 *   kind        body
 *   OLLAMA      {"embeddings":[[f,...],...], ...}             /api/embed
 *   LEGACY      {"embedding":[f,...]}                         /api/embeddings
 *   OPENAI      {"data":[{"embedding":[f,...],"index":i},...], ...}  /v1/embeddings
 *
 * OpenAI items may come in any order; they are put in "index" order at the
 * end (every index 0..n-1 exactly once, else the reply is malformed).
 */
#ifndef RESONA_EMBED_REPLY_H
#define RESONA_EMBED_REPLY_H

#include <stddef.h>
#include <stdint.h>

typedef enum resona__reply_kind {
    RESONA__REPLY_OLLAMA = 0,
    RESONA__REPLY_LEGACY = 1,
    RESONA__REPLY_OPENAI = 2
} resona__reply_kind;

/** Why a reply was rejected (RESONA__REPLY_OK when it was not). */
typedef enum resona__reply_error {
    RESONA__REPLY_OK = 0,
    RESONA__REPLY_MALFORMED = 1, /**< not JSON, or not the expected shape */
    RESONA__REPLY_COUNT = 2,     /**< number of vectors != number of inputs */
    RESONA__REPLY_DIM = 3,       /**< a vector of the wrong length */
    RESONA__REPLY_NONFINITE = 4, /**< NaN or infinity */
    RESONA__REPLY_NOMEM = 5
} resona__reply_error;

/** Hard cap on a learned dimension (no model is this wide). */
#define RESONA__REPLY_MAX_DIM 65536u

typedef struct resona__reply {
    resona__reply_kind kind;
    size_t expected;   /**< vectors expected */
    uint32_t dim;      /**< expected width, or learned from the first vector */
    float *vecs;       /**< expected * dim floats once dim is known */
    size_t cap;        /**< floats allocated */
    size_t nvec;       /**< vectors completed */
    size_t cur;        /**< floats in the vector being read */
    uint32_t *order;   /**< OPENAI: "index" of each item, in arrival order */
    int64_t item_index;
    /* parser state */
    void *yajl;
    int depth;
    int key1;          /**< the current key at the root object */
    int key3;          /**< OPENAI: the current key inside a data item */
    int in_list, in_vec, seen_list;
    resona__reply_error err;
    char msg[160];     /**< why, when err != OK */
} resona__reply;

/** Prepare p for one reply of `expected` vectors of width dim (0 = learn). */
int resona__reply_init(resona__reply *p, resona__reply_kind kind, size_t expected, uint32_t dim);
/** Feed the next chunk. Returns 0, or -1 once the reply is rejected (see err, msg). */
int resona__reply_feed(resona__reply *p, const char *data, size_t len);
/** End of body: final checks. Returns 0 or -1. */
int resona__reply_finish(resona__reply *p);
/** Take the vectors (caller frees with resona__free); p keeps none. */
float *resona__reply_take(resona__reply *p);
/** Free everything p holds (the vectors too, unless taken). */
void resona__reply_free(resona__reply *p);

/**
 * The message of an error body: {"error":"m"} or {"error":{"message":"m"}};
 * else the body itself (trimmed). Copies at most cap-1 bytes into out.
 */
void resona__reply_error_message(const char *body, size_t len, char *out, size_t cap);

#endif
