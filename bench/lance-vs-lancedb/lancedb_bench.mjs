// The LanceDB side of the LanceDB-vs-resona benchmark: the same rows (formulas as in
// c_bench.c), the same measurements, one JSON line each.
//   node lancedb_bench.mjs GEN append TABLE.lance ROWS DIM BATCH
//   node lancedb_bench.mjs GEN fragments TABLE.lance DIM ROWS AT_LIST REPS
//   node lancedb_bench.mjs GEN scan TABLE.lance
// GEN is "0.13" or "current" (installed by tests/interop/setup). Tables are created with data
// format 2.0 (0.13: its default; current: storage option new_table_data_storage_version), as
// resona writes them. Batches are built as Arrow tables before the clock starts; add() is
// timed, including LanceDB's own conversion of the Arrow data.
import fs from "fs";
import path from "path";
import { fileURLToPath } from "url";

const here = path.dirname(fileURLToPath(import.meta.url));
const { loadLanceDB, splitTable } = await import(path.join(here, "../../tests/interop/lib.mjs"));

const LOREM =
  "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor " +
  "incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud " +
  "exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure";
const M64 = (1n << 64n) - 1n;

function splitmix64(x) {
  x = (x + 0x9e3779b97f4a7c15n) & M64;
  x = ((x ^ (x >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  x = ((x ^ (x >> 27n)) * 0x94d049bb133111ebn) & M64;
  return x ^ (x >> 31n);
}

function component(i, j) {
  let u = (Math.imul(i >>> 0, 1315423911) + Math.imul(j, 2654435761 | 0)) >>> 0;
  u = (u ^ (u >>> 15)) >>> 0;
  u = Math.imul(u, 2246822519 | 0) >>> 0;
  u = (u ^ (u >>> 13)) >>> 0;
  return (u / 4294967296) * 2 - 1;
}

function rowStrings(i) {
  let hash = "";
  for (let k = 0; k < 4; k++)
    hash += splitmix64(BigInt(i) * 4n + BigInt(k)).toString(16).padStart(16, "0");
  return [
    `node-${String(i).padStart(8, "0")}`, hash,
    `Context of node ${i}: ${LOREM.slice(0, 100 + (i % 100))}`, "bge-m3",
    `{"name":"node ${i}","tags":["bench"]}`,
  ];
}

const STR = ["id", "text_hash", "context_text", "model", "metadata"];
const F64 = ["dimensions", "created_at", "updated_at"];

function schemaOf(arrow, dim) {
  return new arrow.Schema([
    ...STR.map((n) => new arrow.Field(n, new arrow.Utf8(), true)),
    ...F64.map((n) => new arrow.Field(n, new arrow.Float64(), true)),
    new arrow.Field("vector", new arrow.FixedSizeList(dim,
      new arrow.Field("item", new arrow.Float32(), true)), true),
  ]);
}

// An Arrow table of rows first..first+rows-1, and its payload bytes.
function buildBatch(arrow, schema, first, rows, dim) {
  const enc = new TextEncoder();
  const strs = STR.map(() => []);
  let payload = 0;
  for (let r = 0; r < rows; r++) {
    const s = rowStrings(first + r);
    s.forEach((x, c) => { strs[c].push(x); payload += enc.encode(x).length; });
  }
  const vec = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++)
    for (let j = 0; j < dim; j++) vec[r * dim + j] = component(first + r, j);
  payload += rows * (3 * 8 + 4 * dim);
  const cols = {};
  STR.forEach((n, c) => { cols[n] = arrow.vectorFromArray(strs[c], new arrow.Utf8()); });
  F64.forEach((n, c) => {
    const a = new Float64Array(rows);
    for (let r = 0; r < rows; r++) a[r] = c === 0 ? dim : 1732400000000 + first + r;
    cols[n] = arrow.makeVector(a);
  });
  const vtype = schema.fields[schema.fields.length - 1].type;
  const child = arrow.makeData({ type: new arrow.Float32(), length: rows * dim, data: vec });
  cols.vector = arrow.makeVector(arrow.makeData({ type: vtype, length: rows, child }));
  const table = new arrow.Table(cols);
  return { table, payload };
}

async function createEmpty(ldb, tablePath, dim) {
  const { dir, name } = splitTable(tablePath);
  fs.mkdirSync(dir, { recursive: true });
  const db = await ldb.lancedb.connect(dir);
  const opts = ldb.gen === "0.13" ? {} : { storageOptions: { new_table_data_storage_version: "2.0" } };
  return await db.createEmptyTable(name, schemaOf(ldb.arrow, dim), opts);
}

const now = () => Number(process.hrtime.bigint()) / 1e9;

async function append(ldb, tablePath, rows, dim, batch) {
  const tbl = await createEmpty(ldb, tablePath, dim);
  const schema = schemaOf(ldb.arrow, dim);
  const batches = [];
  let payload = 0;
  for (let first = 0; first < rows; first += batch) {
    const b = buildBatch(ldb.arrow, schema, first, Math.min(batch, rows - first), dim);
    batches.push(b.table);
    payload += b.payload;
  }
  let worst = 0;
  const t0 = now();
  for (const b of batches) {
    const s = now();
    await tbl.add(b);
    worst = Math.max(worst, now() - s);
  }
  const secs = now() - t0;
  return { side: `lancedb-${ldb.version}`, what: "append", rows, dim, batch,
           commits: batches.length, payload_bytes: payload, seconds: +secs.toFixed(4),
           mb_per_s: +(payload / 1e6 / secs).toFixed(1), slowest_commit_s: +worst.toFixed(4) };
}

async function fragments(ldb, tablePath, dim, rows, atList, reps) {
  const tbl = await createEmpty(ldb, tablePath, dim);
  const { table } = buildBatch(ldb.arrow, schemaOf(ldb.arrow, dim), 0, rows, dim);
  let frags = 0;
  const points = [];
  for (const target of atList.split(",").map(Number)) {
    for (; frags < target; frags++) await tbl.add(table);
    const times = [];
    for (let r = 0; r < reps; r++) {
      const s = now();
      await tbl.add(table);
      times.push(now() - s);
      frags++;
    }
    times.sort((x, y) => x - y);
    points.push({ fragments: target, median_ms: +(1e3 * times[reps >> 1]).toFixed(2),
                  min_ms: +(1e3 * times[0]).toFixed(2), max_ms: +(1e3 * times[reps - 1]).toFixed(2) });
  }
  return { side: `lancedb-${ldb.version}`, what: "fragments", rows_per_append: rows, dim, points };
}

async function scan(ldb, tablePath) {
  const { dir, name } = splitTable(tablePath);
  const db = await ldb.lancedb.connect(dir);
  const tbl = await db.openTable(name);
  const t0 = now();
  let rows = 0, payload = 0, sum = 0;
  for await (const batch of tbl.query()) {
    rows += batch.numRows;
    for (const f of batch.schema.fields) {
      const col = batch.getChild(f.name);
      for (const d of col.data) {
        if (d.valueOffsets) payload += d.valueOffsets[d.length] - d.valueOffsets[0];
        else if (d.children.length) {
          const v = d.children[0].values;
          payload += d.length * d.type.listSize * 4;
          for (let k = 0; k < d.length * d.type.listSize; k++) sum += v[d.children[0].offset + k];
        } else payload += d.length * 8;
      }
    }
  }
  const secs = now() - t0;
  return { side: `lancedb-${ldb.version}`, what: "scan", rows, payload_bytes: payload,
           seconds: +secs.toFixed(4), mb_per_s: +(payload / 1e6 / secs).toFixed(1),
           checksum: +sum.toPrecision(6) };
}

const [gen, cmd, ...args] = process.argv.slice(2);
try {
  const ldb = loadLanceDB(gen || "");
  let out;
  if (cmd === "append" && args.length === 4)
    out = await append(ldb, args[0], Number(args[1]), Number(args[2]), Number(args[3]));
  else if (cmd === "fragments" && args.length === 5)
    out = await fragments(ldb, args[0], Number(args[1]), Number(args[2]), args[3], Number(args[4]));
  else if (cmd === "scan" && args.length === 1) out = await scan(ldb, args[0]);
  else throw new Error("usage: node lancedb_bench.mjs GEN append TABLE ROWS DIM BATCH | " +
                       "fragments TABLE DIM ROWS AT_LIST REPS | scan TABLE");
  console.log(JSON.stringify(out));
} catch (e) {
  console.error(`lancedb_bench.mjs: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
}
