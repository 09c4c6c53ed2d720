#!/usr/bin/env python3
"""Helpers of scan_search.sh (data format 2.2 fixtures), one process per phase.

  check22.py prep FIXDIR TMPDIR TABLES...    expected rows; per table with vectors a query
                                             (a stored vector, first component + 0.25) and
                                             the exact top-10 for l2, cosine and dot; 40
                                             rows to append (check21.py's)
  check22.py verify FIXDIR TMPDIR TABLES...  compare what resona printed with LanceDB's dump
                                             and with those answers; check `resona info`

Distances follow LanceDB's definitions (lance-format.md 10.4): l2 = squared L2, cosine =
1 - cos, dot = 1 - x.y, computed here in double precision from the float32 values LanceDB
dumped (compare.py --search allows 1e-5 relative: resona sums float32 differently).
"""
import gzip
import json
import math
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import compare  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lance21"))
import check21  # noqa: E402

METRICS = ("l2", "cosine", "dot")


def rows_of(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


def dist(m, a, b):
    if m == "l2":
        return sum((x - y) ** 2 for x, y in zip(a, b))
    dot = sum(x * y for x, y in zip(a, b))
    if m == "dot":
        return 1.0 - dot
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return 1.0 - dot / (na * nb)


def prep(fix, tmp, tables):
    for t in tables:
        with gzip.open(os.path.join(fix, t + ".jsonl.gz"), "rt", encoding="utf-8") as f:
            text = f.read()
        exp = os.path.join(tmp, t + ".expected.jsonl")
        open(exp, "w", encoding="utf-8").write(text)
        cols = json.load(open(os.path.join(fix, t + ".schema.json")))["columns"]
        with open(os.path.join(tmp, t + ".add.jsonl"), "w", encoding="utf-8") as f:
            for r in check21.add_rows(cols, t):
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        live = [r for r in rows_of(exp) if r.get("vector") is not None]
        if not live:
            continue
        q = list(live[len(live) // 3]["vector"])
        q[0] += 0.25
        json.dump(q, open(os.path.join(tmp, t + ".query.json"), "w"))
        for m in METRICS:
            d = sorted((dist(m, r["vector"], q), r["id"]) for r in live)
            with open(os.path.join(tmp, "%s.%s.want.jsonl" % (t, m)), "w", encoding="utf-8") as f:
                for dv, rid in d[:10]:
                    f.write(json.dumps({"id": rid, "_distance": dv}, ensure_ascii=False) + "\n")


def verify(fix, tmp, tables):
    bad = []
    p = lambda name: os.path.join(tmp, name)  # noqa: E731
    for t in tables:
        schema = os.path.join(fix, t + ".schema.json")
        if compare.main([p(t + ".expected.jsonl"), p(t + ".jsonl"), "--schema", schema,
                         "--label", t]):
            bad.append(t + ": scan differs from LanceDB")
        info = json.load(open(p(t + ".info")))
        if (info["data_format"] != "2.2" or info["writable_by_resona"] is not True or
                info["readable_by"] != {"resona": True, "lancedb_0_13": False,
                                        "lancedb_current": True} or
                "2.2" not in info.get("note", "")):
            bad.append(t + ": info " + json.dumps(info))
        for m in METRICS:
            want = p("%s.%s.want.jsonl" % (t, m))
            if os.path.exists(want) and compare.main(
                    ["--search", want, p("%s.%s.got.jsonl" % (t, m)), "--label",
                     "%s search %s" % (t, m)]):
                bad.append("%s: %s search differs" % (t, m))
        new = [l.strip() for l in open(p(t + ".newfiles")) if l.strip()]
        if not new:
            bad.append(t + ": append wrote no data file")
        for f in new:
            d = open(os.path.join(tmp, t + ".lance", "data", f), "rb").read()[-40:]
            if d[36:] != b"LANC" or d[32:36] != b"\x02\x00\x02\x00":
                bad.append("%s: appended file %s is not format 2.2" % (t, f))
        if json.load(open(p(t + ".info2")))["data_format"] != "2.2":
            bad.append(t + ": the append changed the table's data format")
        with open(p(t + ".want-all.jsonl"), "w", encoding="utf-8") as f:
            f.write(open(p(t + ".expected.jsonl"), encoding="utf-8").read())
            f.write(open(p(t + ".add.jsonl"), encoding="utf-8").read())
        if compare.main([p(t + ".want-all.jsonl"), p(t + ".all.jsonl"), "--schema", schema,
                         "--label", t + " after append"]):
            bad.append(t + ": rows after append differ")
    for b in bad:
        print("FAIL:", b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    mode, fix, tmp, tables = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    sys.exit(prep(fix, tmp, tables) if mode == "prep" else verify(fix, tmp, tables))
