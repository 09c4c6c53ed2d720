// node gen2.cjs <node_modules> <dbdir> <out.jsonl>: a small LanceDB-made 2.0 table
// (V1 names in 0.13) with dictionary pages, nullable strings/doubles, two
// fragments, a bitmap deletion file and an Arrow deletion file, plus
// LanceDB's own rows as JSON lines.
const path = require('path');
const fs = require('fs');
const lancedb = require(path.join(process.argv[2], '@lancedb/lancedb'));
(async () => {
  const db = await lancedb.connect(process.argv[3]);
  const rows = [];
  for (let i = 0; i < 6000; i++)
    rows.push({ id: 'k' + i, cat: ['red', 'green', 'blue'][i % 3], note: i % 4 ? 'n' + i : null,
                x: i % 5 ? i * 0.5 : null, vector: [i / 7, -i / 3] });
  const t = await db.createTable('g', rows, { mode: 'overwrite' });
  await t.add(rows.slice(0, 300).map(r => ({ ...r, id: 'b' + r.id })));
  await t.delete("id >= 'k1' AND id < 'k9'");   // > 5000 rows of fragment 0 -> bitmap
  await t.delete("id >= 'bk1' AND id < 'bk2'"); // 111 rows of fragment 1 -> arrow
  const out = (await t.query().toArray()).map(r => {
    const o = {};
    for (const k of ['id', 'cat', 'note', 'x', 'vector'])
      o[k] = r[k] && r[k].toArray ? Array.from(r[k].toArray()) : r[k];
    return JSON.stringify(o);
  });
  fs.writeFileSync(process.argv[4], out.join('\n') + '\n');
  console.log('rows', out.length);
})().catch(e => { console.error('ERR', e.message); process.exit(1); });
