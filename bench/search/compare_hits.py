#!/usr/bin/env python3
"""compare_hits.py C_HITS.json LANCEDB_OUT.json - are the top-k identical?

Exit 0 when, for every query, the row ids are equal in order and every
distance is bit-identical as float32 (LanceDB's _distance is Float32; the JS
side prints it as a double, which is exact for a float32)."""
import json
import struct
import sys


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


c = json.load(open(sys.argv[1]))
l = json.load(open(sys.argv[2]))["hits"]
bad = 0
ulps = 0
for q, (ch, lh) in enumerate(zip(c, l)):
    if [h["row"] for h in ch] != [h["row"] for h in lh]:
        print(f"query {q}: rows differ\n  c:       {[h['row'] for h in ch]}\n  lancedb: {[h['row'] for h in lh]}")
        bad += 1
        continue
    for a, b in zip(ch, lh):
        if f32(a["distance"]) != f32(b["distance"]):
            ia = struct.unpack("<i", struct.pack("<f", a["distance"]))[0]
            ib = struct.unpack("<i", struct.pack("<f", b["distance"]))[0]
            ulps = max(ulps, abs(ia - ib))
            print(f"query {q} row {a['row']}: distance {a['distance']!r} vs {b['distance']!r} ({abs(ia-ib)} ulp)")
            bad += 1
print(f"{len(c)} queries compared: {'IDENTICAL' if bad == 0 else f'{bad} differences, max {ulps} ulp'}")
sys.exit(1 if bad else 0)
