// Create the reference tables the interop tests read with `resona`, with a real LanceDB:
//   node gen.mjs GEN FORMAT OUTDIR [--only a,b] [--dump]
// GEN "0.13": LanceDB 0.13.0 as the original supertag uses it (its default data format 2.0,
//   V1 manifest names `N.manifest`, a BTree index on `id` in every table). FORMAT must be 2.0.
// GEN "current": the pinned current LanceDB (V2 manifest names), FORMAT "2.0" or "2.1" (set
//   with the storage option new_table_data_storage_version) or "default" (no option: LanceDB
//   0.37 writes 2.1, 0.39 writes 2.2). Tables of 2.1 and later get vectors with nulls.
// OUTDIR (emptied first) gets one table per kind, OUTDIR/<kind>.lance, plus for each kind a
// file <kind>.append.jsonl of rows matching its schema (for `resona append`), and
// OUTDIR/tables.json describing all of them (kind, rows, vector column and dim, indices).
// --dump: also write each table's rows as dump.mjs prints them, OUTDIR/<kind>.lancedb.jsonl,
// and its schema, OUTDIR/<kind>.schema.json (saves a LanceDB start per table).
//
// Kinds:
//   mixed     nullable / low-cardinality / long / unicode strings, int64 (beyond 2^53),
//             float32 and float64 extremes, bool, an 8-d vector; 3 fragments
//   vec384, vec768, vec1024   vectors of those dims, 2 fragments
//   deletes   6,320 rows in 3 fragments; deletions of 5,500 rows in one fragment (roaring
//             bitmap file), 100 rows (Arrow file, zstd buffers) and 1 row (Arrow file, raw)
//   optimized six appends and a delete, then optimize() (compaction, pruning). (LanceDB cuts
//             a column into several pages only past megabytes per column: one page each here;
//             the original's table in tests/fixtures and tests/lance cover bigger files.)
//   indexed   BTree index on id and IVF_PQ index on the vector, then one unindexed append
// All values are deterministic (a seeded PRNG); sizes are small so that the three
// generations together take seconds.
import fs from "fs";
import path from "path";
import { loadLanceDB, parseArgs, run, typeName, writeDump } from "./lib.mjs";

function prng(seedText) {
  let h = 2166136261;
  for (const c of seedText) h = Math.imul(h ^ c.codePointAt(0), 16777619) >>> 0;
  let s = h || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const UNICODE = [
  "héllo wörld", "日本語のテキスト", "emoji 🎉🚀 and a ZWJ family 👩‍👩‍👧", "combining e\u0301 vs é",
  "quote \" backslash \\ slash /", "newline\nand\ttab", "controls \u0001\u001f\u007f",
  "RTL עברית العربية", "", " leading and trailing ", "astral 𝄞 𐍈", "nul \u0000 inside",
  "Ελληνικά Кириллица", "ascii only",
];
const CATEGORIES = ["alpha", "beta", "gamma", "delta"];

function longText(i, len) {
  const unit = `long-${i}-ßø✓-`;
  let s = "";
  while (s.length < len) s += unit;
  return s.slice(0, len);
}

function vectorOf(rand, dim, scale = 1) {
  const v = new Array(dim);
  for (let j = 0; j < dim; j++) v[j] = Math.fround((rand() * 2 - 1) * scale);
  return v;
}

// ---- row makers: each returns plain objects (int64 as BigInt) ----

function mixedRows(kind, start, count, withNullVectors) {
  const rand = prng(`${kind}:${start}`);
  const rows = [];
  for (let i = start; i < start + count; i++) {
    let n = BigInt(i) * 1000003n - 5000000n;
    if (i === 0) n = 9007199254740993n;
    if (i === 1) n = -9223372036854775808n;
    if (i === 2) n = 9223372036854775807n;
    let f32 = Math.fround((rand() * 2 - 1) * 10 ** ((i % 20) - 10));
    if (i === 3) f32 = 3.4028234663852886e38;
    if (i === 4) f32 = 1.401298464324817e-45;
    if (i === 6) f32 = Math.fround(0.1);
    let f64 = (rand() * 2 - 1) * 10 ** ((i % 40) - 20);
    if (i === 0) f64 = 5e-324;
    if (i === 2) f64 = 1.7976931348623157e308;
    if (i === 4) f64 = 0.1;
    rows.push({
      id: `${kind}-${i}`,
      text: i % 3 === 1 ? null : `${UNICODE[i % UNICODE.length]} #${i}`,
      category: i % 11 === 0 ? null : CATEGORIES[i % 4],
      long_text: i % 5 === 0 ? longText(i, 300 + ((i * 997) % 20000)) : i % 5 === 1 ? null : `s${i}`,
      n: i % 7 === 3 ? null : n,
      f32: i % 6 === 5 ? null : f32,
      f64: i % 8 === 7 ? null : f64,
      flag: i % 9 === 4 ? null : i % 2 === 0,
      vector: withNullVectors && i % 10 === 9 ? null : vectorOf(rand, 8, 1 + (i % 3)),
    });
  }
  return rows;
}

function vecRows(kind, dim, start, count, withNullVectors) {
  const rand = prng(`${kind}:${start}`);
  const rows = [];
  for (let i = start; i < start + count; i++)
    rows.push({ id: `${kind}-${i}`,
                vector: withNullVectors && i % 13 === 5 ? null : vectorOf(rand, dim) });
  return rows;
}

function smallRows(kind, start, count, dim, withText) {
  const rand = prng(`${kind}:${start}`);
  const rows = [];
  for (let i = start; i < start + count; i++) {
    const r = { id: `${kind}-${i}` };
    if (withText) r.text = i % 4 === 2 ? null : `${UNICODE[i % UNICODE.length]} ${i}`;
    r.n = BigInt(i);
    r.vector = vectorOf(rand, dim);
    rows.push(r);
  }
  return rows;
}

// ---- schemas ----

function schemas(arrow) {
  const f = (name, type, nullable = true) => new arrow.Field(name, type, nullable);
  const vec = (dim) => new arrow.FixedSizeList(dim, new arrow.Field("item", new arrow.Float32(), true));
  return {
    mixed: new arrow.Schema([
      f("id", new arrow.Utf8(), false), f("text", new arrow.Utf8()), f("category", new arrow.Utf8()),
      f("long_text", new arrow.Utf8()), f("n", new arrow.Int64()), f("f32", new arrow.Float32()),
      f("f64", new arrow.Float64()), f("flag", new arrow.Bool()), f("vector", vec(8)),
    ]),
    vec: (dim) => new arrow.Schema([f("id", new arrow.Utf8(), false), f("vector", vec(dim))]),
    small: (dim, withText) => new arrow.Schema([
      f("id", new arrow.Utf8(), false),
      ...(withText ? [f("text", new arrow.Utf8())] : []),
      f("n", new arrow.Int64(), false), f("vector", vec(dim)),
    ]),
  };
}

// Rows for `resona append`, as JSON text (int64 as exact integer literals).
function jsonl(rows) {
  return rows.map((r) => JSON.stringify(r, (k, v) => (typeof v === "bigint" ? `@@${v}@@` : v))
    .replace(/"@@(-?\d+)@@"/g, "$1")).join("\n") + "\n";
}

function appendRows(kind, schemaFields, dim) {
  // Five rows per table, the C side's additions: ids c-<kind>-<i>, unicode, nulls in every
  // nullable non-vector column of one row, int64 beyond 2^53, float32-exact vectors.
  const rand = prng(`append:${kind}`);
  const rows = [];
  for (let i = 0; i < 5; i++) {
    const r = {};
    for (const f of schemaFields) {
      const t = f.type;
      if (f.name === "id") r.id = `c-${kind}-${i}`;
      else if (f.name === "vector") r.vector = vectorOf(rand, dim, 2);
      else if (i === 4 && f.nullable) r[f.name] = null;
      else if (t === "utf8") r[f.name] = f.name === "long_text" ? longText(900 + i, 5000) :
        `C ✓ ${["ünïcödé", "日本", "😀", "plain", "x"][i]} ${i}`;
      else if (t === "int64") r[f.name] = i === 0 ? 9007199254740993n : BigInt(-i * 77);
      else if (t === "float32") r[f.name] = Math.fround(i * 0.3 - 0.7);
      else if (t === "float64") r[f.name] = i * 0.1 + 1e-9;
      else if (t === "bool") r[f.name] = i % 2 === 1;
      else throw new Error(`no append value for ${f.name}: ${t}`);
    }
    rows.push(r);
  }
  return rows;
}

// The data format the latest manifest records: Manifest field 15 (DataStorageFormat) is
// {1: "lance", 2: "<major>.<minor>"}; found by its bytes rather than by a protobuf parser.
function manifestDataFormat(tableDir) {
  const names = fs.readdirSync(path.join(tableDir, "_versions")).filter((n) => n.endsWith(".manifest"));
  const version = (n) => {
    const stem = BigInt(n.slice(0, -".manifest".length));
    return n.length === 29 ? 18446744073709551615n - stem : stem;   // V2 names count down
  };
  names.sort((x, y) => (version(x) < version(y) ? -1 : 1));
  const buf = fs.readFileSync(path.join(tableDir, "_versions", names[names.length - 1]));
  const m = /\x0a\x05lance\x12\x03(\d\.\d)/.exec(buf.toString("latin1"));
  return m ? m[1] : "unknown";
}

run(async () => {
  const a = parseArgs(process.argv.slice(2), ["dump"]);
  if (a._.length !== 3) throw new Error("usage: node gen.mjs 0.13|current 2.0|2.1 OUTDIR [--only a,b]");
  const [gen, format, outdir] = a._;
  if (gen === "0.13" && format !== "2.0") throw new Error("LanceDB 0.13 writes only 2.0 here");
  if (!["2.0", "2.1", "default"].includes(format)) throw new Error(`unknown format ${format}`);
  const only = a.only ? new Set(a.only.split(",")) : null;
  const ldb = loadLanceDB(gen);
  const { lancedb, arrow } = ldb;
  const S = schemas(arrow);
  const nulls = format !== "2.0";
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.mkdirSync(outdir, { recursive: true });
  const db = await lancedb.connect(outdir);
  // How each generation is asked for the data format (0.13: its default, "stable" = 2.0).
  const createOpts = gen === "0.13" || format === "default" ? {} :
    { storageOptions: { new_table_data_storage_version: format } };
  const described = [];

  async function make(kind, schema, batches, after, dim) {
    if (only && !only.has(kind)) return;
    const t0 = Date.now();
    const tbl = await db.createTable(kind, batches[0], { schema, ...createOpts });
    if (gen === "0.13") await tbl.createIndex("id", { config: lancedb.Index.btree() });
    for (const b of batches.slice(1)) await tbl.add(b);
    const info = { indices: gen === "0.13" ? ["id_idx"] : [] };
    if (after) await after(tbl, info);
    const fields = schema.fields.map((f) => ({ name: f.name, type: typeName(ldb, f.type),
                                               nullable: f.nullable }));
    const dataFormat = manifestDataFormat(path.join(outdir, `${kind}.lance`));
    if (format !== "default" && dataFormat !== format)
      throw new Error(`${kind}: asked LanceDB ${ldb.version} for format ${format}, got ${dataFormat}`);
    const add = appendRows(kind, fields, dim);
    if (a.dump)
      writeDump(ldb, await tbl.query().toArrow(), path.join(outdir, `${kind}.lancedb.jsonl`),
                path.join(outdir, `${kind}.schema.json`));
    fs.writeFileSync(path.join(outdir, `${kind}.append.jsonl`), jsonl(add));
    described.push({
      kind, table: `${kind}.lance`, gen, lancedb: ldb.version, format: dataFormat,
      rows: await tbl.countRows(), version: await tbl.version(),
      vector: { column: "vector", dim }, append: `${kind}.append.jsonl`,
      append_ids: add.map((r) => r.id), append_rows: add.length,
      indices: info.indices, columns: fields, ms: Date.now() - t0,
      // Which LanceDB generations can use the table: 0.13 reads no 2.1+ files, and panics on
      // index files current LanceDB writes ("v2 format has no concept of row groups").
      readers: dataFormat === "2.0" && (gen === "0.13" || info.indices.length === 0) ?
        ["0.13", "current"] : ["current"],
    });
  }

  await make("mixed", S.mixed, [mixedRows("mixed", 0, 50, nulls), mixedRows("mixed", 50, 50, nulls),
                                mixedRows("mixed", 100, 50, nulls)], null, 8);
  for (const dim of [384, 768, 1024])
    await make(`vec${dim}`, S.vec(dim), [vecRows(`vec${dim}`, dim, 0, 30, nulls),
                                         vecRows(`vec${dim}`, dim, 30, 30, nulls)], null, dim);
  await make("deletes", S.small(8, false),
    [smallRows("deletes", 0, 6000, 8, false), smallRows("deletes", 6000, 300, 8, false),
     smallRows("deletes", 6300, 20, 8, false)],
    async (tbl) => {
      await tbl.delete("n < 5500");                 // fragment 0: 5,500 rows -> bitmap
      await tbl.delete("n >= 6000 AND n < 6100");   // fragment 1: 100 rows -> Arrow, zstd
      await tbl.delete("n = 6310");                 // fragment 2: 1 row -> Arrow, raw
    }, 8);
  await make("optimized", S.small(16, true),
    [0, 1, 2, 3, 4, 5].map((b) => smallRows("optimized", b * 40, 40, 16, true)),
    async (tbl) => {
      await tbl.delete("n % 8 = 3");
      await tbl.optimize({ cleanupOlderThan: new Date(Date.now() + 1000) });
    }, 16);
  await make("indexed", S.small(16, true),
    [smallRows("indexed", 0, 300, 16, true), smallRows("indexed", 300, 300, 16, true)],
    async (tbl, info) => {
      if (gen !== "0.13") await tbl.createIndex("id", { config: lancedb.Index.btree() });
      await tbl.createIndex("vector", { config: lancedb.Index.ivfPq({
        numPartitions: 2, numSubVectors: 4, distanceType: "l2" }) });
      info.indices = ["id_idx", "vector_idx"];
      await tbl.add(smallRows("indexed", 600, 20, 16, true));
    }, 16);

  fs.writeFileSync(path.join(outdir, "tables.json"), JSON.stringify(described, null, 1) + "\n");
  for (const d of described)
    console.log(`${gen} ${format} ${d.kind}: ${d.rows} rows, version ${d.version}, ${d.ms} ms`);
});
