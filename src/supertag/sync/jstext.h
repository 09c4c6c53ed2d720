/*
 * sync/jstext.h - the few JavaScript string functions the original applies
 * to names, over UTF-8: String.prototype.trim's whitespace, the field-name
 * normaliser and the field-type heuristic (supertag-behaviour.md 4.7).
 */
#ifndef SUPERTAG_SYNC_JSTEXT_H
#define SUPERTAG_SYNC_JSTEXT_H

#include "sync/jtree.h"

#include <stddef.h>

/** True if s is empty or only JavaScript whitespace / line terminators (s.trim() === ""). */
int st_js_blank(const char *s, size_t len);

/**
 * normalizeName(): lower-case, keep only [a-z0-9] (spaces, dashes, underscores
 * and everything else removed). Appends to out.
 */
int st_js_normalize_name(const char *s, size_t len, jt_out *out);

/** inferDataType(name): "date", "url", "text", "number", "reference" or "checkbox". */
const char *st_js_infer_type(const char *s, size_t len);

#endif
