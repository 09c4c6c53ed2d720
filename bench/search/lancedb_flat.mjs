// lancedb_flat.mjs - LanceDB's flat (exhaustive) search on the same vectors
// as bench_search, for latency comparison and to check that ids and
// distances are identical.
//
//   LANCEDB_NODE_DIR=<dir with node_modules/@lancedb/lancedb> node lancedb_flat.mjs \
//     --vectors v.f32 --queries q.f32 --rows N --dim D --nq Q --k K --metric l2 \
//     --dir <db dir> [--create] [--reps R] --out hits.json
//
// --create writes the table `bench` (columns id "r<i>", vector) in one
// createTable call (one fragment up to 1,048,576 rows). The timed search is
// tbl.vectorSearch(q).distanceType(m).limit(k).select(["id"]).withRowId(),
// one query at a time, after one warm-up query; the median over reps is
// reported. Output: {"median_ms": [...per query...], "hits": [[{row, distance}]]}.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";

const nodeDir = process.env.LANCEDB_NODE_DIR;
if (!nodeDir) {
  console.error("lancedb_flat: set LANCEDB_NODE_DIR");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(nodeDir), "package.json"));
const lancedb = require("@lancedb/lancedb");
const arrow = require("apache-arrow");

const args = {};
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i].replace(/^--/, "");
  if (a === "create") args.create = true;
  else args[a] = process.argv[++i];
}
const rows = Number(args.rows), dim = Number(args.dim), nq = Number(args.nq || 1);
const k = Number(args.k || 10), reps = Number(args.reps || 10);
const metric = args.metric || "l2";

function readF32(file, offsetRows, count) {
  const fd = fs.openSync(file, "r");
  const buf = Buffer.alloc(count * dim * 4);
  fs.readSync(fd, buf, 0, buf.length, offsetRows * dim * 4);
  fs.closeSync(fd);
  return new Float32Array(buf.buffer, buf.byteOffset, count * dim);
}

const db = await lancedb.connect(args.dir);
if (args.create) {
  const itemField = new arrow.Field("item", new arrow.Float32(), true);
  const vecType = new arrow.FixedSizeList(dim, itemField);
  const schema = new arrow.Schema([
    new arrow.Field("id", new arrow.Utf8(), true),
    new arrow.Field("vector", vecType, true),
  ]);
  const batches = [];
  const chunk = 32768;
  for (let start = 0; start < rows; start += chunk) {
    const n = Math.min(chunk, rows - start);
    const values = readF32(args.vectors, start, n);
    const ids = [];
    for (let i = 0; i < n; i++) ids.push("r" + (start + i));
    const idVec = arrow.vectorFromArray(ids, new arrow.Utf8());
    const child = arrow.makeData({ type: new arrow.Float32(), length: n * dim, data: values });
    const vec = arrow.makeData({ type: vecType, length: n, nullCount: 0, child });
    const data = arrow.makeData({
      type: new arrow.Struct(schema.fields), length: n, nullCount: 0,
      children: [idVec.data[0], vec],
    });
    batches.push(new arrow.RecordBatch(schema, data));
  }
  const t0 = performance.now();
  await db.createTable("bench", new arrow.Table(batches), { mode: "overwrite" });
  console.error(`created table: ${rows} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const tbl = await db.openTable("bench");
const queries = readF32(args.queries, 0, nq);
const out = { median_ms: [], hits: [] };
for (let q = 0; q < nq; q++) {
  const qv = queries.slice(q * dim, (q + 1) * dim);
  const run = () => tbl.vectorSearch(qv).distanceType(metric).limit(k)
    .select(["id"]).withRowId().bypassVectorIndex().toArray();
  await run();
  const times = [];
  let res;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    res = await run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  out.median_ms.push(times[Math.floor(reps / 2)]);
  out.hits.push(res.map((r) => ({ row: Number(r._rowid), id: r.id, distance: r._distance })));
}
fs.writeFileSync(args.out, JSON.stringify(out));
const med = out.median_ms.reduce((a, b) => a + b, 0) / nq;
console.log(`lancedb ${rows}x${dim} ${metric} k=${k}: mean of per-query medians ${med.toFixed(2)} ms`);
