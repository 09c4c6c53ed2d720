#!/usr/bin/env python3
"""Helpers of scan_append.sh, in one process per phase (Python starts slowly on a busy CI box).

  check21.py prep FIXDIR TMPDIR TABLES...    expected rows, search queries and answers, rows
                                             to append
  check21.py verify FIXDIR TMPDIR TABLES...  compare what resona printed (files the script
                                             wrote) with LanceDB's dump and the answers
"""
import gzip
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop"))
import compare  # noqa: E402

SEARCH = ("vec384", "vec1024", "mixed21")


def rows_of(path):
    return [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]


def add_rows(cols, t):
    """40 rows for `resona append`: nulls every 4th row, long strings (full-zip), unicode."""
    out = []
    for i in range(40):
        r = {}
        for c in cols:
            ty, name = c["type"], c["name"]
            if name == "id":
                v = "c-%s-%d ✓" % (t, i)
            elif c["nullable"] and i % 4 == 3:
                v = None
            elif ty == "utf8":
                v = ("long ünïcode %d " % i) * (40 if i % 5 == 0 else 1)
            elif ty == "int64":
                v = 9007199254740993 + i if i % 2 else -i
            elif ty in ("float32", "float64"):
                v = i * 0.25 - 3.5
            elif ty == "bool":
                v = i % 3 == 0
            elif ty.startswith("fixed_size_list"):
                d = int(ty.rsplit(",", 1)[1].rstrip(">"))
                v = [((i * 7 + j) % 13) * 0.125 for j in range(d)]
            else:
                raise SystemExit("no value for " + ty)
            r[name] = v
        out.append(r)
    return out


def prep(fix, tmp, tables):
    for t in tables:
        with gzip.open(os.path.join(fix, t + ".jsonl.gz"), "rt", encoding="utf-8") as f:
            text = f.read()
        open(os.path.join(tmp, t + ".expected.jsonl"), "w", encoding="utf-8").write(text)
        cols = json.load(open(os.path.join(fix, t + ".schema.json")))["columns"]
        with open(os.path.join(tmp, t + ".add.jsonl"), "w", encoding="utf-8") as f:
            for r in add_rows(cols, t):
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        if t in SEARCH:
            live = [r for r in rows_of(os.path.join(tmp, t + ".expected.jsonl"))
                    if r["vector"] is not None]
            q = live[len(live) // 2]["vector"]
            json.dump(q, open(os.path.join(tmp, t + ".query.json"), "w"))
            d = sorted((sum((a - b) ** 2 for a, b in zip(r["vector"], q)), r["id"]) for r in live)
            with open(os.path.join(tmp, t + ".want.jsonl"), "w", encoding="utf-8") as f:
                for dist, rid in d[:5]:
                    f.write(json.dumps({"id": rid, "_distance": dist}, ensure_ascii=False) + "\n")


def check_file21(path):
    d = open(path, "rb").read()
    cms, cmo, gbo, ngb, ncol, major, minor = struct.unpack("<QQQIIHH", d[-40:-4])
    if d[-4:] != b"LANC" or (major, minor) != (2, 1):
        return "footer %d.%d, not 2.1" % (major, minor)
    for i in range(ngb):
        pos, _ = struct.unpack("<QQ", d[gbo + 16 * i:gbo + 16 * i + 16])
        if pos % 64:
            return "global buffer %d at %d is not 64-byte aligned" % (i, pos)
    return None


def verify(fix, tmp, tables):
    bad = []
    p = lambda name: os.path.join(tmp, name)  # noqa: E731
    for t in tables:
        schema = os.path.join(fix, t + ".schema.json")
        if compare.main([p(t + ".expected.jsonl"), p(t + ".jsonl"), "--schema", schema,
                         "--label", t]):
            bad.append(t + ": scan differs from LanceDB")
        info = json.load(open(p(t + ".info")))
        if (info["data_format"] != "2.1" or info["writable_by_resona"] is not True or
                info["readable_by"] != {"resona": True, "lancedb_0_13": False,
                                        "lancedb_current": True} or
                "JS 0.13" not in info.get("note", "") or "cannot" not in info["note"]):
            bad.append(t + ": info " + json.dumps(info))
        if t in SEARCH and compare.main(["--search", p(t + ".want.jsonl"), p(t + ".got.jsonl"),
                                         "--label", t + " search"]):
            bad.append(t + ": search differs")
        new = [l.strip() for l in open(p(t + ".newfiles")) if l.strip()]
        if not new:
            bad.append(t + ": append wrote no data file")
        for f in new:
            why = check_file21(os.path.join(tmp, t + ".lance", "data", f))
            if why:
                bad.append("%s: appended file %s: %s" % (t, f, why))
        if json.load(open(p(t + ".info2")))["data_format"] != "2.1":
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
