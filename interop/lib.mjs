// Shared by seed.mjs and snapshot.mjs: argument parsing and opening a database the way that works
// against a local S3 (moto_server).
import S3db from 's3db.js/lite';

// s3db.js 21.6.2 hands its task pool `retryableErrors: []`, which means "retry every error": each 404
// (HEAD s3db.json of a new database, HEAD of a partition reference not written yet, ...) is retried
// 3 times with 1 s, 2 s and 4 s back-off, so a fresh connect() alone takes ~14 s. Retrying only transient
// errors changes nothing in what is stored.
const TRANSIENT_ERRORS = [
  'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ECONNREFUSED', 'EAI_AGAIN', 'NetworkingError', 'TimeoutError',
  'RequestTimeout', 'SlowDown', 'ServiceUnavailable', 'InternalError',
];

export function openDatabase(connectionString) {
  return new S3db({
    connectionString,
    logLevel: 'error',
    executorPool: { retryableErrors: TRANSIENT_ERRORS },
    // The default (recker) HTTP handler opens a per-host circuit breaker after a few 404s, after which
    // every call fails with "Circuit breaker OPEN"; the plain Node handler has no such breaker.
    clientOptions: { httpClientOptions: { useReckerHandler: false } },
  });
}

// Parse `--name value` pairs. `spec` maps each allowed name to its default (undefined = required).
export function parseArgs(script, argv, spec, usageLine) {
  const fail = (message) => {
    process.stderr.write(`${script}: ${message}\nusage: ${usageLine}\n`);
    process.exit(2);
  };
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const name = flag.startsWith('--') ? flag.slice(2) : null;
    if (name === null || !(name in spec)) fail(`unknown argument ${flag}`);
    if (argv[i + 1] === undefined) fail(`${flag} needs a value`);
    args[name] = argv[i + 1];
  }
  for (const [name, fallback] of Object.entries(spec)) {
    if (args[name] === undefined) {
      if (fallback === undefined) fail(`--${name} is required`);
      args[name] = fallback;
    }
  }
  return { args, fail };
}

// Run `main`, turning any error into a message on stderr and exit code 1.
export function run(script, main) {
  main().catch((err) => {
    process.stderr.write(`${script}: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
