#!/usr/bin/env python3
"""Write the seed corpus of fuzz_v21_page.c from the 2.1 and 2.2 fixtures' real pages
(tests/lance21/fixtures, tests/lance22/fixtures).

  make_seeds.py   (writes tests/lance21/fuzz_corpus/*.bin; the format is in fuzz_v21_page.c)

One seed per distinct (layout, encoding) page, at most 40,000 bytes of page buffers each.
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIXES = [os.path.join(HERE, "fixtures"), os.path.join(HERE, "..", "lance22", "fixtures")]
OUT = os.path.join(HERE, "fuzz_corpus")
TYPES = {"string": 0, "int64": 1, "float": 2, "double": 3, "bool": 4,
         "fixed_size_list:float:8": 5, "fixed_size_list:float:384": 6,
         "fixed_size_list:float:1024": 7}


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, i


def fields(b):
    i, out = 0, []
    while i < len(b):
        k, i = varint(b, i)
        f, wt = k >> 3, k & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError(wt)
        out.append((f, v))
    return out


def get(fs, f):
    return [v for k, v in fs if k == f]


def packed(vs):
    out = []
    for v in vs:
        if isinstance(v, int):
            out.append(v)
        else:
            i = 0
            while i < len(v):
                x, i = varint(v, i)
                out.append(x)
    return out


def field_types(FIX, table):
    vdir = os.path.join(FIX, table, "_versions")
    name = sorted(os.listdir(vdir))[0]  # V2 names: the smallest is the latest version
    d = open(os.path.join(vdir, name), "rb").read()
    pos = struct.unpack("<Q", d[-16:-8])[0]
    ln = struct.unpack("<I", d[pos:pos + 4])[0]
    m = fields(d[pos + 4:pos + 4 + ln])
    out = {}
    for fb in get(m, 1):
        ff = fields(fb)
        fid = get(ff, 3)[0] if get(ff, 3) else 0
        out[fid] = get(ff, 5)[0].decode()
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    seen = set()
    n = 0
    for FIX, table in [(f, t) for f in FIXES for t in sorted(os.listdir(f))]:
        if not table.endswith(".lance"):
            continue
        types = field_types(FIX, table)
        for fn in sorted(os.listdir(os.path.join(FIX, table, "data"))):
            d = open(os.path.join(FIX, table, "data", fn), "rb").read()
            cms, cmo, gbo, ngb, ncol, major, minor = struct.unpack("<QQQIIHH", d[-40:-4])
            for c in range(ncol):
                sel = TYPES.get(types.get(c, ""))
                if sel is None:
                    continue
                p, s = struct.unpack("<QQ", d[cmo + 16 * c:cmo + 16 * c + 16])
                for page in get(fields(d[p:p + s]), 2):
                    pf = fields(page)
                    offs, sizes = packed(get(pf, 1)), packed(get(pf, 2))
                    rows = get(pf, 3)[0] if get(pf, 3) else 0
                    direct = get(fields(get(pf, 4)[0]), 2)[0]
                    anyv = get(fields(get(fields(direct), 1)[0]), 2)[0]
                    key = (sel, bytes(anyv)[:40], len(offs))
                    if key in seen or rows > 65535:
                        continue
                    bufs = [d[o:o + z] for o, z in zip(offs, sizes)]
                    if sum(len(b) for b in bufs) > 40000:
                        continue
                    seen.add(key)
                    seed = struct.pack("<BH", sel, len(anyv)) + bytes(anyv) + struct.pack("<H", rows)
                    for b in bufs[:3]:
                        seed += struct.pack("<I", len(b)) + b
                    n += 1
                    open(os.path.join(OUT, "%s-%s-c%d.bin" % (table[:-6], fn[:8], c)), "wb").write(seed)
    print("wrote", n, "seeds")


if __name__ == "__main__":
    main()
