#!/usr/bin/env node
// Runs the end-to-end tests: installs playwright-core from package-lock.json
// when node_modules is missing or older than the lock, checks what the tests
// need, then `node --test` on tests/*.test.mjs (two files at a time by default:
// each starts a server and a browser; E2E_CONCURRENCY sets how many).
//
// Needs REFTRACK (the reftrack binary) and REFTRACK_WEB_ROOT (the built web page);
// screenshots go to E2E_ARTIFACTS.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, accessSync, rmSync, constants } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const fail = (message) => {
  console.error(`e2e: ${message}`);
  process.exit(1);
};

// npm ci when node_modules is missing or older than package-lock.json (the one script
// the web build and the OpenAPI lint use too).
const npmCi = spawnSync(path.join(here, '..', '..', 'scripts', 'npm-ci-if-stale.sh'), [here], { stdio: 'inherit' });
if (npmCi.status !== 0) fail('npm ci failed');

for (const name of ['REFTRACK', 'REFTRACK_WEB_ROOT']) {
  if (!process.env[name]) fail(`set ${name}`);
}
try {
  accessSync(process.env.REFTRACK, constants.X_OK);
} catch {
  fail(`REFTRACK=${process.env.REFTRACK} is not an executable`);
}
if (!existsSync(path.join(process.env.REFTRACK_WEB_ROOT, 'index.html'))) {
  fail(`REFTRACK_WEB_ROOT=${process.env.REFTRACK_WEB_ROOT} has no index.html: build the web page (web/) first`);
}
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(chromium)) fail(`no browser at ${chromium}: apt-get install chromium (scripts/install-deps.sh does)`);

// A failure's screenshot is of this run only.
const artifacts = process.env.E2E_ARTIFACTS;
if (artifacts && existsSync(artifacts)) {
  for (const f of readdirSync(artifacts)) if (/^failure-.*\.png$/.test(f)) rmSync(path.join(artifacts, f));
}

const testDir = path.join(here, 'tests');
const only = process.argv.slice(2);
const files = readdirSync(testDir)
  .filter((f) => f.endsWith('.test.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
  .map((f) => path.join(testDir, f));
if (files.length === 0) fail('no test file matched');

const run = spawnSync(process.execPath, [
  '--test', '--test-reporter=spec', `--test-concurrency=${process.env.E2E_CONCURRENCY || 2}`, ...files,
], { cwd: here, stdio: 'inherit' });
process.exit(run.status ?? 1);
