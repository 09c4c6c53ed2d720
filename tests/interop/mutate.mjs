// Prove that LanceDB still works on a table after someone else (resona) wrote to it: open,
// count, scan, find given rows by id (a filter, using the BTree index when there is one) and
// by vector (flat and indexed search), then add rows, delete one, and search again.
//   node mutate.mjs GEN TABLE.lance [--expect-rows N] [--find-ids a,b,…] [--tag T]
//        [--read-only] [--dump-out FILE [--schema-out FILE]]
//   node mutate.mjs GEN --batch FILE
// --batch: one LanceDB start for many tables; FILE holds one JSON object per line with the
//   same options by name plus "table", e.g. {"table": "t.lance", "expect-rows": 5,
//   "find-ids": "a,b", "tag": "x", "dump-out": "t.jsonl", "schema-out": "t.schema.json"}.
//   Tables are processed in order; the first failed check stops with the table named.
// --find-ids: ids (e.g. the rows `resona append` wrote) that must be found, each exactly once
//   by `id = …`, and as the exact top hit (distance 0) of a search with its own vector.
// --tag: prefix of the ids of the rows LanceDB adds (default "js-<GEN>"); 3 rows are added
//   (copies of existing rows with a changed id and vector) and the first is deleted again.
// --dump-out: at the end, write every row as dump.mjs prints it (and the schema as
//   dump.mjs --schema-out does), to compare with `resona scan` without starting LanceDB again.
// Prints one JSON summary line; exits 1 on the first failed check.
import fs from "fs";
import { loadLanceDB, openTable, parseArgs, run, plainRows, flatSearch, sqlString, readJSONL,
         writeDump } from "./lib.mjs";

function check(cond, msg) { if (!cond) throw new Error("check failed: " + msg); }

function vectorColumn(schema) {
  const f = schema.fields.find((x) => x.name === "vector") ||
            schema.fields.find((x) => String(x.type).startsWith("FixedSizeList"));
  return f ? f.name : null;
}

async function findById(tbl, id, vcol) {
  const rows = plainRows(await tbl.query().where(`id = ${sqlString(id)}`).toArrow());
  check(rows.length === 1, `id ${id}: ${rows.length} rows by filter, expected 1`);
  if (!vcol || !rows[0][vcol]) return;
  for (const bypass of [true, false]) {
    const hits = await flatSearch(tbl, rows[0][vcol], { k: 3, metric: "l2", column: vcol, bypass });
    check(hits.length > 0 && hits[0].id === id && hits[0]._distance <= 1e-6,
          `id ${id}: ${bypass ? "flat" : "indexed"} search top hit ${hits[0] && hits[0].id} ` +
          `at ${hits[0] && hits[0]._distance}`);
  }
}

async function mutateOne(ldb, gen, tablePath, a) {
  const tbl = await openTable(ldb, tablePath);
  const summary = { table: tablePath.split("/").pop(), lancedb: ldb.version,
                    version_before: await tbl.version() };
  const count = await tbl.countRows();
  summary.rows_before = count;
  if (a["expect-rows"] !== undefined)
    check(count === Number(a["expect-rows"]), `countRows ${count}, expected ${a["expect-rows"]}`);
  const all = await tbl.query().toArrow();
  check(all.numRows === count, `scan returned ${all.numRows} rows, countRows ${count}`);
  const vcol = vectorColumn(all.schema);
  const find = a["find-ids"] ? a["find-ids"].split(",").filter(Boolean) : [];
  for (const id of find) await findById(tbl, id, vcol);
  summary.found = find.length;
  if (!a["read-only"]) {
    const tag = a.tag || `js-${gen}`;
    let salt = 0;   // makes each tag's vectors distinct from every other tag's
    for (const c of tag) salt = (salt * 31 + c.codePointAt(0)) % 9973;
    const src = plainRows(all, 50).filter((r) => !vcol || r[vcol]).slice(0, 3);
    check(src.length === 3, "need 3 rows with vectors to copy");
    const add = src.map((r, i) => {
      const o = { ...r, id: `${tag}-${i}` };
      if (vcol) o[vcol] = r[vcol].map((x, j) => (j === 0 ? x + 0.5 + i + salt : x));
      return o;
    });
    await tbl.add(add);
    check(await tbl.countRows() === count + 3, "count after add");
    await tbl.delete(`id = ${sqlString(`${tag}-0`)}`);
    check(await tbl.countRows() === count + 2, "count after delete");
    check((await tbl.query().toArrow()).numRows === count + 2, "scan after delete");
    await findById(tbl, `${tag}-1`, vcol);
    await findById(tbl, `${tag}-2`, vcol);
    for (const id of find) await findById(tbl, id, vcol);
    summary.added = 3;
    summary.deleted = 1;
    summary.rows_after = await tbl.countRows();
    summary.version_after = await tbl.version();
  }
  if (a["dump-out"])
    summary.dumped = writeDump(ldb, await tbl.query().toArrow(), a["dump-out"], a["schema-out"]);
  return summary;
}

run(async () => {
  const a = parseArgs(process.argv.slice(2), ["read-only"]);
  const usage = "usage: node mutate.mjs GEN TABLE.lance [--expect-rows N] [--find-ids a,b] " +
    "[--tag T] [--read-only] [--dump-out F [--schema-out F]] | node mutate.mjs GEN --batch FILE";
  if (a.batch ? a._.length !== 1 : a._.length !== 2) throw new Error(usage);
  const gen = a._[0];
  const ldb = loadLanceDB(gen);
  const jobs = a.batch ? readJSONL(a.batch) : [{ ...a, table: a._[1] }];
  for (const job of jobs) {
    let summary;
    try {
      summary = await mutateOne(ldb, gen, job.table, job);
    } catch (e) {
      throw new Error(`${job.table}: ${e.message}`);
    }
    console.log(JSON.stringify(summary));
  }
});
