// Embedding tables as the original tools make them, in a LanceDB generation's DEFAULT data
// format (LanceDB 0.39: 2.2), with the shapes that make LanceDB pick its less common page
// encodings: many rows, strings from 0 bytes to tens of KB, nulls, low-cardinality columns,
// constant columns, sequential numbers, duplicated texts.
//   node gen_embed.mjs GEN OUTDIR [--rows N] [--dim D] [--adds K] [--format F] [--dump]
// --format 2.0|2.1|2.2 asks for that data format (storage option
// new_table_data_storage_version) instead of LanceDB's default (benchmarks compare formats).
// OUTDIR (emptied first) gets two tables, <kind>.append.jsonl (3 more rows of each, for
// `resona append`) and tables.json (same shape as gen.mjs writes):
//   embeddings.lance  supertag's schema (lance-format.md / supertag-behaviour.md 9): id,
//                     text_hash, context_text, model, dimensions f64, metadata, created_at,
//                     updated_at, vector FixedSizeList<float32>[D] (all nullable)
//   resona.lance      resona's: id, nodeId, text, contentHash, model (utf8), vector[D]
// Each is written in K add() calls of N/K rows (default N 6000, D 64, K 2). --dump writes
// OUTDIR/<kind>.lancedb.jsonl and <kind>.schema.json (dump.mjs's form).
// Deterministic: a seeded PRNG, fixed timestamps.
import fs from "fs";
import path from "path";
import { loadLanceDB, parseArgs, run, writeDump } from "./lib.mjs";

function prng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ["meeting", "notes", "project", "Tana", "idea", "résumé", "日本語", "todo",
  "🎉", "review", "draft", "quarterly", "supertag", "embedding", "vector", "search"];

function text(rand, i) {
  // lengths: mostly short, some medium, a few very long (up to ~40 KB), some empty
  const r = rand();
  let n = r < 0.05 ? 0 : r < 0.7 ? 1 + Math.floor(rand() * 12) : r < 0.97 ?
    20 + Math.floor(rand() * 200) : 2000 + Math.floor(rand() * 6000);
  const w = [];
  for (let k = 0; k < n; k++) w.push(WORDS[Math.floor(rand() * WORDS.length)]);
  return `#${i} ` + w.join(" ");
}

function hex(rand) {
  let s = "";
  for (let k = 0; k < 64; k++) s += "0123456789abcdef"[Math.floor(rand() * 16)];
  return s;
}

function vector(rand, dim) {
  const v = new Array(dim);
  for (let j = 0; j < dim; j++) v[j] = Math.fround(rand() * 2 - 1);
  return v;
}

function rowsOf(kind, start, count, dim) {
  const rand = prng(start * 7919 + (kind === "resona" ? 1 : 2));
  const rows = [];
  for (let i = start; i < start + count; i++) {
    const t = i % 17 === 3 ? null : i % 29 === 0 ? "duplicate text" : text(rand, i);
    const vec = i % 97 === 41 ? null : vector(rand, dim);
    if (kind === "embeddings")
      rows.push({
        id: i % 5 === 0 ? `node${i}#${i % 3}` : `node${i}`,
        text_hash: i % 23 === 7 ? null : hex(rand),
        context_text: t,
        model: i % 41 === 0 ? null : i % 2 ? "bge-m3" : "nomic-embed-text",
        dimensions: dim,
        metadata: i % 3 ? JSON.stringify({ tags: ["a", "b"], n: i }) : "",
        created_at: 1700000000000 + i * 13,
        updated_at: 1700000000000 + i * 13,
        vector: vec,
      });
    else
      rows.push({
        id: `r${i}`,
        nodeId: i % 31 === 2 ? null : `n${Math.floor(i / 2)}`,
        text: t,
        contentHash: hex(rand),
        model: "bge-m3",
        vector: vec,
      });
  }
  return rows;
}

run(async () => {
  const a = parseArgs(process.argv.slice(2), ["dump"]);
  if (a._.length !== 2) throw new Error("usage: node gen_embed.mjs GEN OUTDIR [--rows N] [--dim D] [--adds K] [--dump]");
  const [gen, outdir] = a._;
  const N = Number(a.rows || 6000), D = Number(a.dim || 64), K = Number(a.adds || 2);
  const ldb = loadLanceDB(gen);
  const { lancedb, arrow } = ldb;
  const f = (name, type) => new arrow.Field(name, type, true);
  const vec = new arrow.FixedSizeList(D, new arrow.Field("item", new arrow.Float32(), true));
  const U = () => new arrow.Utf8();
  const schemas = {
    embeddings: new arrow.Schema([f("id", U()), f("text_hash", U()), f("context_text", U()),
      f("model", U()), f("dimensions", new arrow.Float64()), f("metadata", U()),
      f("created_at", new arrow.Float64()), f("updated_at", new arrow.Float64()), f("vector", vec)]),
    resona: new arrow.Schema([f("id", U()), f("nodeId", U()), f("text", U()),
      f("contentHash", U()), f("model", U()), f("vector", vec)]),
  };
  fs.rmSync(outdir, { recursive: true, force: true });
  fs.mkdirSync(outdir, { recursive: true });
  const db = await lancedb.connect(outdir);
  const out = [];
  for (const kind of Object.keys(schemas)) {
    let tbl = null;
    const per = Math.ceil(N / K);
    for (let s = 0; s < N; s += per) {
      const rows = rowsOf(kind, s, Math.min(per, N - s), D);
      const opts = { schema: schemas[kind] };
      if (a.format) opts.storageOptions = { new_table_data_storage_version: a.format };
      if (!tbl) tbl = await db.createTable(kind, rows, opts);
      else await tbl.add(rows);
    }
    if (a.dump) {
      const data = await tbl.query().toArrow();
      writeDump(ldb, data, path.join(outdir, `${kind}.lancedb.jsonl`),
                path.join(outdir, `${kind}.schema.json`));
    }
    fs.writeFileSync(path.join(outdir, `${kind}.append.jsonl`),
                     rowsOf(kind, N, 3, D).map((r) => JSON.stringify(r)).join("\n") + "\n");
    out.push({ kind, table: `${kind}.lance`, rows: await tbl.countRows(),
               vector: { column: "vector", dim: D }, append: `${kind}.append.jsonl` });
    console.log(`${gen} default ${kind}: ${N} rows in ${K} adds, ${D}-d`);
  }
  fs.writeFileSync(path.join(outdir, "tables.json"), JSON.stringify(out, null, 1) + "\n");
});
