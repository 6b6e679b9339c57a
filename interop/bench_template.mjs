// Benchmarks: write the template record that benchmarks/dataset.py clones N times. One resource `items`
// (user-managed, no partitions, no timestamps), so a clone under another id is a valid s3db.js record.
// usage: node bench_template.mjs --connection <conn>
import { openDatabase, parseArgs, run } from './lib.mjs';

run('bench_template.mjs', async () => {
  const { args } = parseArgs('bench_template.mjs', process.argv.slice(2), { connection: undefined },
    'node bench_template.mjs --connection <conn>');
  const db = openDatabase(args.connection);
  await db.connect();
  const items = await db.createResource({
    name: 'items',
    attributes: { name: 'string|required', email: 'string', age: 'number', score: 'number', active: 'boolean',
      tags: 'array|items:string', city: 'string' },
  });
  await items.insert({ id: 'template', name: 'Ana Souza', email: 'ana@example.com', age: 34, score: 87.25,
    active: true, tags: ['gold', 'early'], city: 'Lisboa' });
  process.stdout.write(JSON.stringify({ resource: 'items', id: 'template' }) + '\n');
  await db.disconnect();
});
