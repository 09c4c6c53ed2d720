#!/usr/bin/env python3
"""Compare rows (or search results) printed by LanceDB and by `resona`, value by value.

Rows:   compare.py A.jsonl B.jsonl [--schema S.json] [--key id] [--ordered] [--label L]
Search: compare.py --search A.jsonl B.jsonl [--key id] [--rtol R] [--atol T] [--label L]

A and B are JSON lines, one object per row (dump.mjs and `resona scan`; or search.mjs and
`resona search`). Prints one summary line ending in `mismatches=N` and exits 1 when N > 0.

Rows are matched by the key column (default `id`; rows with equal keys in file order), or
position by position with --ordered. Every column of either side is compared:
  * float32 columns (from --schema, as written by `dump.mjs --schema-out`) and every number
    inside an array (vectors are float32) must be the same float32 after rounding each side's
    decimal text to float32: bit-exact storage, whatever digits each side prints;
  * float64 columns and other numbers must be the same double;
  * int64 columns must be integers with the same value (no float spelling);
  * strings must be equal code point for code point; null only equals null.
Search results must list the same keys in the same order, with distances equal within
R * |d| + T (default R 1e-5, T 1e-6: the two sides sum in different orders); keys whose
distances tie within that tolerance may appear in either order.
"""
import array
import json
import math
import struct
import sys


def usage(msg=None):
    if msg:
        sys.stderr.write("compare.py: %s\n" % msg)
    sys.stderr.write(__doc__)
    sys.exit(2)


def load(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as e:
                sys.stderr.write("compare.py: %s:%d: not JSON (%s): %.200s\n" % (path, n, e, line))
                sys.exit(2)
    return rows


def f32(x):
    """The float32 bit pattern a JSON number denotes, or None if it is not a float32."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    try:
        return struct.unpack("<I", struct.pack("<f", float(x)))[0]
    except (OverflowError, struct.error):
        return None


def same_f64(a, b):
    if isinstance(a, bool) or isinstance(b, bool):
        return False
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return False
    fa, fb = float(a), float(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    return fa == fb and math.copysign(1, fa) == math.copysign(1, fb)


def same(a, b, typ):
    """Whether two JSON values are the same stored value of a column of type typ."""
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list)) or len(a) != len(b):
            return False
        try:  # fast path: both all numbers within float32 range, rounded by the C cast
            if (max(map(abs, a), default=0) < 3.4e38 and max(map(abs, b), default=0) < 3.4e38
                    and array.array("f", a).tobytes() == array.array("f", b).tobytes()):
                return True
        except (TypeError, OverflowError):
            pass
        for x, y in zip(a, b):
            if x is None or y is None:
                if not (x is None and y is None):
                    return False
            elif f32(x) is None or f32(x) != f32(y):
                return False
        return True
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if typ in ("int64", "int32", "int16", "int8", "uint64", "uint32", "uint16", "uint8"):
        return isinstance(a, int) and isinstance(b, int) and a == b
    if typ == "float32":
        return f32(a) is not None and f32(a) == f32(b)
    return same_f64(a, b)


def short(v):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= 120 else s[:117] + "..."


def compare_rows(a_rows, b_rows, types, key, ordered, show):
    bad = 0
    if ordered:
        pairs = list(zip(a_rows, b_rows))
    else:
        by_key = {}
        for r in b_rows:
            by_key.setdefault(json.dumps(r.get(key)), []).append(r)
        pairs = []
        for r in a_rows:
            k = json.dumps(r.get(key))
            lst = by_key.get(k)
            if lst:
                pairs.append((r, lst.pop(0)))
            else:
                bad += 1
                if bad <= show:
                    print("MISSING in B: %s=%s" % (key, k))
        for k, lst in by_key.items():
            for _ in lst:
                bad += 1
                if bad <= show:
                    print("EXTRA in B: %s=%s" % (key, k))
    if ordered and len(a_rows) != len(b_rows):
        bad += abs(len(a_rows) - len(b_rows))
        print("ROW COUNT differs: A=%d B=%d" % (len(a_rows), len(b_rows)))
    for ra, rb in pairs:
        for col in list(ra.keys()) + [c for c in rb.keys() if c not in ra]:
            if col not in ra or col not in rb:
                bad += 1
                if bad <= show:
                    print("COLUMN %s only in %s (row %s=%s)"
                          % (col, "A" if col in ra else "B", key, short(ra.get(key))))
                continue
            if not same(ra[col], rb[col], types.get(col)):
                bad += 1
                if bad <= show:
                    print("MISMATCH %s=%s column %s: A=%s B=%s"
                          % (key, short(ra.get(key)), col, short(ra[col]), short(rb[col])))
    return bad


def compare_search(a_rows, b_rows, key, rtol, atol, show):
    bad = 0
    if len(a_rows) != len(b_rows):
        bad += 1
        print("RESULT COUNT differs: A=%d B=%d" % (len(a_rows), len(b_rows)))

    def close(x, y):
        return abs(x - y) <= rtol * max(abs(x), abs(y)) + atol

    for i, (ra, rb) in enumerate(zip(a_rows, b_rows)):
        da, db = ra.get("_distance"), rb.get("_distance")
        if not isinstance(da, (int, float)) or not isinstance(db, (int, float)):
            bad += 1
            print("RANK %d: missing _distance (A=%s B=%s)" % (i, short(da), short(db)))
            continue
        if not close(float(da), float(db)):
            bad += 1
            if bad <= show:
                print("RANK %d: distance A=%r B=%r (%s A=%s B=%s)"
                      % (i, da, db, key, short(ra.get(key)), short(rb.get(key))))
            continue
        if ra.get(key) != rb.get(key):
            # A tie: the other side's key must sit at a rank with an equal distance.
            tied = [r.get(key) for r in a_rows if close(float(r["_distance"]), float(db))]
            if rb.get(key) not in tied and not (i == len(a_rows) - 1):
                bad += 1
                if bad <= show:
                    print("RANK %d: %s A=%s B=%s (distance %r)"
                          % (i, key, short(ra.get(key)), short(rb.get(key)), da))
    return bad


def main(argv):
    opts = {"key": "id", "rtol": "1e-5", "atol": "1e-6", "label": None, "schema": None,
            "show": "10"}
    flags = {"search": False, "ordered": False}
    files = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and a[2:] in flags:
            flags[a[2:]] = True
        elif a.startswith("--") and a[2:] in opts:
            if i + 1 >= len(argv):
                usage("option %s needs a value" % a)
            opts[a[2:]] = argv[i + 1]
            i += 1
        elif a.startswith("--"):
            usage("unknown option %s" % a)
        else:
            files.append(a)
        i += 1
    if len(files) != 2:
        usage()
    a_rows, b_rows = load(files[0]), load(files[1])
    label = opts["label"] or "%s vs %s" % (files[0], files[1])
    show = int(opts["show"])
    if flags["search"]:
        bad = compare_search(a_rows, b_rows, opts["key"], float(opts["rtol"]),
                             float(opts["atol"]), show)
        print("%s: results A=%d B=%d mismatches=%d" % (label, len(a_rows), len(b_rows), bad))
    else:
        types = {}
        if opts["schema"]:
            with open(opts["schema"], encoding="utf-8") as f:
                types = {c["name"]: c["type"] for c in json.load(f)["columns"]}
        bad = compare_rows(a_rows, b_rows, types, opts["key"], flags["ordered"], show)
        print("%s: rows A=%d B=%d mismatches=%d" % (label, len(a_rows), len(b_rows), bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
