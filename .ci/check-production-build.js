#!/usr/bin/env node
// The production build holds the product only (run by .ci/production-install on the image's build):
//   - no file of a dev tool in dist/: nothing of the Twilio double, tools/ or test/;
//   - the server's entry point loads no dev code when it starts: dist/src/main.js is started with
//     a configuration it refuses (it exits at once, before anything is loaded on demand), and the
//     modules it had loaded by then, its static imports, must hold nothing under dist/src/dev/
//     (the demo organization, imported dynamically and only where it may seed).
// Usage: node .ci/check-production-build.js [DIST]   (default: ./dist). Exit 1 names each problem.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const dist = path.resolve(process.argv[2] || 'dist');
const problems = [];

const files = fs.readdirSync(dist, { recursive: true }).map((file) => file.split(path.sep).join('/'));
for (const file of files) {
  if (/twilio-double|(^|\/)(tools|test)\//.test(file)) problems.push(`dist/${file} is dev code`);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'production-build-'));
const hook = path.join(dir, 'loaded-modules.js');
const list = path.join(dir, 'loaded.json');
fs.writeFileSync(
  hook,
  `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, JSON.stringify(Object.keys(require.cache))));\n`,
);
const main = path.join(dist, 'src', 'main.js');
const run = spawnSync(process.execPath, ['-r', hook, main], {
  env: { PATH: process.env.PATH, NODE_ENV: 'production', PORT: 'not-a-port' },
  encoding: 'utf8',
  timeout: 30_000,
});
const refusal = /Invalid configuration: PORT/.test(run.stderr);
const loaded = fs.existsSync(list) ? JSON.parse(fs.readFileSync(list, 'utf8')) : [];
fs.rmSync(dir, { recursive: true, force: true });
const ours = loaded
  .filter((file) => file.startsWith(dist + path.sep))
  .map((file) => path.relative(dist, file).split(path.sep).join('/'));
if (run.status !== 1 || !refusal || !ours.includes('src/bootstrap.js')) {
  problems.push(
    `could not probe ${main}: exit ${run.status}, stderr ${JSON.stringify(run.stderr.slice(0, 300))}`,
  );
}
for (const file of ours) {
  if (file.startsWith('src/dev/') || /twilio-double/.test(file)) {
    problems.push(`dist/src/main.js loads dist/${file} at start (a static import of dev code)`);
  }
}

if (problems.length) {
  for (const problem of problems) console.error(`production build: ${problem}`);
  process.exit(1);
}
console.log(
  `production build: ${files.length} entries, none of a dev tool; main.js loads ${ours.length} files at start, no dev code`,
);
