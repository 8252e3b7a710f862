// The reference checker and generator from the operations guide, reimplemented
// from its documented behaviour (scripts/check-integrity.mjs and its generator):
// the compatibility test and the benchmark run sri-check against this.
//
//   node reference-check.mjs check <manifest> [root]
//       recompute sha384 of every entry with node:crypto and compare; one OK/ERR
//       block per entry; exit 0 clean, 1 on drift or a missing file, 2 when the
//       manifest cannot be read or parsed.
//   node reference-check.mjs generate <root> <out> <file>...
//       write {"<path relative to root>": {"sha384": "sha384-…"}} with sorted keys
//       as JSON.stringify(obj, null, 2) + "\n".
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';

// Keys are printed JSON-quoted so names with newlines stay on one line.
const q = (s) => JSON.stringify(s);
const sri = (bytes) => 'sha384-' + createHash('sha384').update(bytes).digest('base64');
const [mode, ...args] = process.argv.slice(2);

if (mode === 'check') {
  const [manifestPath, root = dirname(manifestPath)] = args;
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
  } catch (err) {
    console.error(`ERR cannot read or parse ${manifestPath}: ${err.message}`);
    process.exit(2);
  }
  let bad = 0;
  for (const [file, entry] of Object.entries(manifest)) {
    const expected = entry && (entry.sha384 || entry.algo || entry.integrity);
    let actual;
    try {
      actual = sri(readFileSync(join(root, file)));
    } catch (err) {
      console.log(`ERR ${q(file)}\n    ${err.code || err.message}`);
      bad++;
      continue;
    }
    if (actual === expected) {
      console.log(`OK  ${q(file)}`);
    } else {
      console.log(`ERR ${q(file)}\n    expected ${expected}\n    actual   ${actual}`);
      bad++;
    }
  }
  process.exit(bad ? 1 : 0);
} else if (mode === 'generate') {
  const [root, out, ...files] = args;
  const hashes = {};
  for (const file of files) {
    hashes[relative(root, file).split(sep).join('/')] = sri(readFileSync(file));
  }
  const obj = {};
  for (const key of Object.keys(hashes).sort()) obj[key] = { sha384: hashes[key] };
  writeFileSync(out, JSON.stringify(obj, null, 2) + '\n');
} else {
  console.error('usage: reference-check.mjs check <manifest> [root] | generate <root> <out> <file>...');
  process.exit(2);
}
