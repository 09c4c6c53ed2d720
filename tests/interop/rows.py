#!/usr/bin/env python3
"""Deterministic JSON-lines rows for `resona append --jsonl` in the interop tests and benches.

    rows.py --schema basic|original [--start S] [--count N] [--dim D] [--prefix P] [--seed X]

basic     id, text (unicode, some null), category (4 values), score (float64, integers and
          fractions), vector (D floats): the types `resona append --create` infers
          (strings -> utf8, numbers -> float64, `vector` -> fixed_size_list<float32, D>).
          The first row of a batch has no nulls, so inference never sees a null first.
original  the original supertag's embeddings schema: id, text_hash, context_text, model,
          metadata (utf8), dimensions, created_at, updated_at (float64), vector (D, default 1024)

Vector components are float32 values printed with Python's repr of the exact double, so they
round-trip float32 bit for bit. Row i's values depend only on (seed, i).
"""
import hashlib
import json
import random
import struct
import sys

UNICODE = ["héllo", "日本語", "emoji 🎉", "e\u0301", "quote \" and \\", "tab\tnl\n", "עברית",
           "𝄞", "plain", "Ελληνικά"]


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def vector(rng, dim):
    return [f32(rng.uniform(-1.0, 1.0)) for _ in range(dim)]


def basic(i, rng, dim, prefix):
    return {
        "id": "%s-%d" % (prefix, i),
        "text": None if i % 7 == 3 else "%s %d" % (UNICODE[i % len(UNICODE)], i),
        "category": ["alpha", "beta", "gamma", "delta"][i % 4],
        "score": float(i) if i % 2 == 0 else i * 0.37 - 11.0,
        "vector": vector(rng, dim),
    }


def original(i, rng, dim, prefix):
    text = "context text of node %s-%d ✓" % (prefix, i)
    return {
        "id": "%s-%d" % (prefix, i),
        "text_hash": hashlib.sha256(text.encode()).hexdigest(),
        "context_text": text,
        "model": "bge-m3",
        "metadata": json.dumps({"name": "node %d" % i, "tags": ["interop"]}),
        "dimensions": float(dim),
        "created_at": 1732400000000.0 + i,
        "updated_at": 1732400000000.0 + i,
        "vector": vector(rng, dim),
    }


def main(argv):
    opts = {"schema": "basic", "start": "0", "count": "10", "dim": None, "prefix": "c",
            "seed": "1"}
    i = 0
    while i < len(argv):
        k = argv[i][2:] if argv[i].startswith("--") else None
        if k not in opts or i + 1 >= len(argv):
            sys.exit(__doc__)
        opts[k] = argv[i + 1]
        i += 2
    make = {"basic": basic, "original": original}.get(opts["schema"])
    if make is None:
        sys.exit(__doc__)
    dim = int(opts["dim"] or (1024 if opts["schema"] == "original" else 32))
    out = sys.stdout
    for n in range(int(opts["start"]), int(opts["start"]) + int(opts["count"])):
        rng = random.Random("%s:%d" % (opts["seed"], n))
        out.write(json.dumps(make(n, rng, dim, opts["prefix"]), ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
