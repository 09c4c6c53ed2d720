// Make the benchmark's 2.1 table with current LanceDB (default encodings; data format 2.1
// pinned): resona-style rows with nulls, added in batches of 10,000 rows (one fragment each).
//   node gen.mjs LANCEDB_DIR OUTDIR ROWS DIM [FORMAT]   (FORMAT default 2.1; 2.2 for LanceDB 0.39's default)
import { loadLanceDB, run } from "../../tests/interop/lib.mjs";

run(async () => {
  const [gen, outdir, rowsArg, dimArg, formatArg] = process.argv.slice(2);
  const rows = Number(rowsArg || 100000), dim = Number(dimArg || 384);
  const { lancedb, arrow } = loadLanceDB(gen);
  const f = (n, t, nullable = true) => new arrow.Field(n, t, nullable);
  const schema = new arrow.Schema([
    f("id", new arrow.Utf8(), false), f("text", new arrow.Utf8()), f("category", new arrow.Utf8()),
    f("n", new arrow.Int64()), f("score", new arrow.Float32()),
    f("vector", new arrow.FixedSizeList(dim, new arrow.Field("item", new arrow.Float32(), true)))]);
  let s = 12345;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 4294967296);
  const words = ["alpha", "beta", "gamma", "tana", "node", "vector", "search", "ölig", "日本", "note"];
  const db = await lancedb.connect(outdir);
  let tbl = null;
  for (let start = 0; start < rows; start += 10000) {
    const batch = [];
    for (let i = start; i < Math.min(rows, start + 10000); i++) {
      let text = "";
      while (text.length < 40 + (i % 160)) text += words[Math.floor(rnd() * 10)] + " ";
      batch.push({ id: `node-${i}`, text: i % 17 === 3 ? null : text, category: ["a", "b", "c"][i % 3],
        n: BigInt(i) * 7n, score: i % 9 === 1 ? null : Math.fround(rnd()),
        vector: i % 101 === 7 ? null : Array.from({ length: dim }, () => Math.fround(rnd() * 2 - 1)) });
    }
    if (!tbl) tbl = await db.createTable("bench21", batch,
      { schema, mode: "overwrite", storageOptions: { new_table_data_storage_version: formatArg || "2.1" } });
    else await tbl.add(batch);
  }
  console.log(JSON.stringify({ rows: await tbl.countRows(), version: await tbl.version() }));
});
