// Write a deterministic sample database with the real s3db.js 21.6.2.
//
//   node seed.mjs --connection <s3db connection string> --profile demo --records N [--seed S]
//
// Progress goes to stderr; stdout gets exactly one line of JSON: {"resources": {"<name>": <count>}}.
// Content depends only on --records and --seed (ids are fixed: u-00001, o-00001, a-00001, e-00001);
// the only wall-clock values are the createdAt/updatedAt fields that s3db.js adds to `users`.
import { openDatabase, parseArgs, run } from './lib.mjs';

const BATCH = 200;
const USAGE = 'node seed.mjs --connection <conn> --profile demo --records N [--seed S]';

// mulberry32: tiny, fast, and identical on every Node version.
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    bool: (p = 0.5) => next() < p,
    // A decimal with `places` digits after the point, built from an integer so it prints exactly.
    decimal: (lo, hi, places = 2) => {
      const scale = 10 ** places;
      return Math.round((lo + next() * (hi - lo)) * scale) / scale;
    },
  };
}

const pad = (n) => String(n).padStart(5, '0');

const COUNTRIES = ['BR', 'US', 'DE', 'JP', 'FR', 'IN', 'PT', 'CN'];
const FIRST = ['Ana', 'Bruno', 'Chiara', 'Dmitri', 'Eun-ji', 'Filipe', 'Greta', 'Hiro', 'Inês', 'José',
  'Kavya', 'Lúcia', 'Mateus', 'Noémie', 'Olu', 'Priya', 'Quentin', 'Renée', 'Søren', 'Tomás'];
const LAST = ['Silva', 'Smith', 'Müller', 'Tanaka', 'Dubois', 'Sharma', 'Costa', 'Wang', 'Østergaard',
  "O'Brien", 'García', 'Nakamura'];
const TAGS = ['vip', 'beta', 'newsletter', 'mobile', 'desktop', 'trial', 'partner', 'staff'];
const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'];
const SKUS = ['SKU-A1', 'SKU-B2', 'SKU-C3', 'SKU-D4', 'SKU-E5', 'SKU-F6', 'SKU-G7'];
const CITIES = ['São Paulo', 'Zürich', '東京', 'Kraków', 'Reykjavík', 'Lisboa', 'New York', '北京'];
const LANGS = ['pt', 'en', 'ja', 'zh', 'de'];
const WORDS = ['backup', 'restore', 'bucket', 'metadata', 'partition', 'überprüfung', 'café', 'naïve',
  'データベース', '备份', '복원', 'объект', 'ñandú', '🚀', '📦', '✅', '🐘', 'S3', 'JSON', 'résumé'];
const EVENT_TYPES = ['login', 'logout', 'purchase', 'refund', 'page_view', 'error'];

function sentence(rng, words) {
  const out = [];
  for (let i = 0; i < words; i += 1) out.push(rng.pick(WORDS));
  return out.join(' ');
}

// Text of roughly `bytes` UTF-8 bytes (emoji and CJK take 3-4 bytes each, so count bytes, not chars).
function textOfBytes(rng, bytes) {
  const parts = [];
  let size = 0;
  while (size < bytes) {
    const s = `${sentence(rng, rng.int(6, 14))}. `;
    parts.push(s);
    size += Buffer.byteLength(s, 'utf8');
  }
  return parts.join('').trimEnd();
}

const PROFILES = {
  demo: {
    resources: [
      {
        config: {
          name: 'users',
          timestamps: true,
          attributes: {
            name: 'string|required',
            email: 'string|required',
            country: 'string|required',
            age: 'number|integer',
            active: 'boolean',
            score: 'number',
            tags: 'array|items:string',
          },
          partitions: { byCountry: { fields: { country: 'string' } } },
        },
        count: (n) => n,
        make: (rng, i) => {
          const first = rng.pick(FIRST);
          const last = rng.pick(LAST);
          return {
            id: `u-${pad(i)}`,
            name: `${first} ${last}`,
            email: `user${i}@example.com`,
            country: rng.pick(COUNTRIES),
            age: rng.int(18, 90),
            active: rng.bool(0.8),
            score: rng.decimal(-50, 1000, 3),
            tags: Array.from({ length: rng.int(0, 3) }, () => rng.pick(TAGS)),
          };
        },
      },
      {
        config: {
          name: 'orders',
          attributes: {
            userId: 'string|required',
            status: 'string|required',
            total: 'number',
            discount: 'number',
            balance: 'number',
            quantity: 'number|integer',
            paid: 'boolean',
            gift: 'boolean',
            items: 'array|items:string',
            shipping: {
              city: 'string',
              zip: 'string',
              express: 'boolean',
              weightKg: 'number',
            },
          },
          partitions: { byStatus: { fields: { status: 'string' } } },
        },
        count: (n) => n,
        make: (rng, i, n) => {
          const status = rng.pick(STATUSES);
          return {
            id: `o-${pad(i)}`,
            userId: `u-${pad(rng.int(1, Math.max(1, n)))}`,
            status,
            total: rng.decimal(0, 5000, 2),
            discount: -rng.decimal(0, 50, 2),
            balance: rng.int(-100000, 100000),
            quantity: rng.int(1, 12),
            paid: status !== 'pending' && status !== 'cancelled',
            gift: rng.bool(0.1),
            items: Array.from({ length: rng.int(1, 4) }, () => rng.pick(SKUS)),
            shipping: {
              city: rng.pick(CITIES),
              zip: String(rng.int(10000, 99999)),
              express: rng.bool(0.3),
              weightKg: rng.decimal(0.1, 40, 1),
            },
          };
        },
      },
      {
        config: {
          name: 'articles',
          behavior: 'body-overflow',
          attributes: {
            title: 'string|required',
            lang: 'string',
            body: 'string',
            words: 'number|integer',
            published: 'boolean',
          },
        },
        count: (n) => n,
        make: (rng, i) => {
          // One article in three is far over the 2 KB metadata limit (3-12 KB), the rest fit.
          const big = i % 3 === 0;
          const body = textOfBytes(rng, big ? rng.int(3000, 12000) : rng.int(40, 600));
          return {
            id: `a-${pad(i)}`,
            title: `${sentence(rng, rng.int(2, 5))} #${i}`,
            lang: rng.pick(LANGS),
            body,
            words: body.split(' ').length,
            published: rng.bool(0.7),
          };
        },
      },
      {
        config: {
          name: 'events',
          behavior: 'body-only',
          attributes: {
            type: 'string|required',
            seq: 'number|integer',
            at: 'string',
            payload: {
              userId: 'string',
              amount: 'number',
              note: 'string',
            },
          },
        },
        count: (n) => Math.floor(n / 4),
        make: (rng, i, n) => ({
          id: `e-${pad(i)}`,
          type: rng.pick(EVENT_TYPES),
          seq: i,
          // A fixed instant plus a deterministic offset: no wall clock in the data.
          at: new Date(Date.UTC(2024, 0, 1) + i * 60_000 + rng.int(0, 59_999)).toISOString(),
          payload: {
            userId: `u-${pad(rng.int(1, Math.max(1, n)))}`,
            amount: rng.decimal(-500, 500, 2),
            note: sentence(rng, rng.int(1, 8)),
          },
        }),
      },
    ],
  },
};

async function main() {
  const { args, fail } = parseArgs('seed.mjs', process.argv.slice(2),
    { connection: undefined, profile: 'demo', records: '100', seed: '1' }, USAGE);
  const records = Number(args.records);
  const seed = Number(args.seed);
  if (!Number.isInteger(records) || records < 0) fail('--records must be a non-negative integer');
  if (!Number.isInteger(seed)) fail('--seed must be an integer');
  const profile = PROFILES[args.profile];
  if (!profile) fail(`unknown profile ${args.profile} (known: ${Object.keys(PROFILES).join(', ')})`);

  const db = openDatabase(args.connection);
  await db.connect();

  const summary = { resources: {} };
  const failures = [];
  try {
    for (const spec of profile.resources) {
      const name = spec.config.name;
      // Synchronous partition references: when insertMany resolves, the references exist too
      // (with the default async path a reference can be written after this process moved on).
      const resource = await db.createResource({ ...spec.config, asyncPartitions: false });
      resource.on('error', (err, obj) => failures.push(`${name} ${obj?.id ?? '?'}: ${err?.message ?? err}`));
      resource.on('partitionIndexError', (ev) => failures.push(`${name} ${ev?.id}: partition reference: ${ev?.message}`));
      resource.on('partitionIndexWarning', (ev) => failures.push(`${name} ${ev?.id}: partition reference ${ev?.operation} failed`));

      // One PRNG stream per resource, so adding a resource never changes another one's data.
      const rng = prng((seed * 1_000_003 + name.split('').reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)) >>> 0);
      const total = spec.count(records);
      const started = Date.now();
      let written = 0;
      for (let start = 1; start <= total; start += BATCH) {
        const batch = [];
        for (let i = start; i < Math.min(start + BATCH, total + 1); i += 1) batch.push(spec.make(rng, i, records));
        const inserted = await resource.insertMany(batch);
        written += inserted.length;
        if (inserted.length !== batch.length) {
          throw new Error(`${name}: insertMany wrote ${inserted.length} of ${batch.length} records: ${failures.slice(0, 3).join('; ')}`);
        }
        process.stderr.write(`seed: ${name} ${written}/${total}\n`);
      }
      if (failures.length > 0) throw new Error(`${name}: ${failures.length} failures: ${failures.slice(0, 3).join('; ')}`);
      const secs = (Date.now() - started) / 1000;
      process.stderr.write(`seed: ${name} done: ${written} records in ${secs.toFixed(1)} s\n`);
      summary.resources[name] = written;
    }
  } finally {
    await db.disconnect();
  }
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

run('seed.mjs', main);
