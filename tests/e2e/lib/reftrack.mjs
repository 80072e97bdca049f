// The real reftrack: its CLI (to seed and to check the database) and its server
// (`reftrack serve` on a free port), each test file on a database of its own.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`set ${name} (see tests/e2e/README.md)`);
  return value;
}

export const REFTRACK = required('REFTRACK');
export const WEB_ROOT = required('REFTRACK_WEB_ROOT');
if (!existsSync(path.join(WEB_ROOT, 'index.html'))) {
  throw new Error(`REFTRACK_WEB_ROOT=${WEB_ROOT} has no index.html: build the web page first`);
}

// Every reftrack this runner starts runs under `setpriv --pdeathsig KILL`, which the
// kernel turns into SIGKILL for it when the test file's process ends, however it ends:
// a crashed or killed test file leaves no server behind. (util-linux's setpriv;
// without it, the children are started plainly.)
const SETPRIV = '/usr/bin/setpriv';
function dieWithUs(command, args) {
  return existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}

/** A fresh folder with an empty database path in it; removed by `remove()`. */
export class Workspace {
  constructor(prefix) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), `reftrack-e2e-${prefix}-`));
    this.db = path.join(this.dir, 'reftrack.db');
  }

  /** Writes `text` to a file in the workspace and returns its path. */
  file(name, text) {
    const file = path.join(this.dir, name);
    writeFileSync(file, text);
    return file;
  }

  remove() {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Runs `reftrack --db DB ARGS...`; throws with its stderr when it exits non-zero,
   * unless `allowFailure`. Returns {status, stdout, stderr}.
   */
  cli(args, { input, allowFailure = false } = {}) {
    const r = spawnSync(...dieWithUs(REFTRACK, ['--db', this.db, ...args]), { input, encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw r.error;
    if (r.status !== 0 && !allowFailure) {
      throw new Error(`reftrack ${args.join(' ')} exited ${r.status}:\n${r.stderr}${r.stdout}`);
    }
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** `reftrack --db DB --json ARGS...`, its one JSON object. */
  json(args, options) {
    const { stdout } = this.cli(['--json', ...args], options);
    try {
      return JSON.parse(stdout);
    } catch {
      throw new Error(`reftrack --json ${args.join(' ')} printed no JSON object:\n${stdout}`);
    }
  }

  /** `referral show` of one referral by id, as JSON. */
  show(id) {
    return this.json(['referral', 'show', `id:${id}`]);
  }

  /** The message of a command that must fail (its stderr without the "reftrack: " prefix). */
  refusal(args) {
    const r = this.cli(args, { allowFailure: true });
    if (r.status === 0) throw new Error(`reftrack ${args.join(' ')} succeeded; a refusal was expected`);
    return r.stderr.trim().replace(/^reftrack:\s*/, '');
  }
}

/** `reftrack serve` on 127.0.0.1 with a port of its choosing, serving WEB_ROOT. */
export class Server {
  constructor(workspace) {
    this.workspace = workspace;
    this.output = '';
  }

  async start() {
    const ws = this.workspace;
    this.process = spawn(...dieWithUs(REFTRACK, [
      '--db', ws.db, 'serve', '--listen', '127.0.0.1:0', '--web-root', WEB_ROOT,
      '--access-log', path.join(ws.dir, 'access.log'),
    ]), { stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(path.join(ws.dir, 'server.log'));
    this.exited = once(this.process, 'exit');
    this.process.stderr.on('data', (chunk) => { this.output += chunk; log.write(chunk); });
    const listening = new Promise((resolve, reject) => {
      this.process.stdout.on('data', (chunk) => {
        this.output += chunk;
        log.write(chunk);
        const m = /reftrack: listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(this.output);
        if (m) resolve(m[1]);
      });
      this.exited.then(([code, signal]) =>
        reject(new Error(`reftrack serve ended (${code ?? signal}) before listening:\n${this.output}`)));
      setTimeout(() => reject(new Error(`reftrack serve did not listen within 30 s:\n${this.output}`)), 30_000).unref();
    });
    this.url = await listening;
    return this.url;
  }

  /** SIGTERM, then the exit status: 0 and "reftrack: stopped" when it ended gracefully. */
  async stop() {
    if (!this.process || this.process.exitCode !== null || this.process.signalCode !== null) {
      return this.process ? { code: this.process.exitCode, signal: this.process.signalCode } : undefined;
    }
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 15_000);
    const [code, signal] = await this.exited;
    clearTimeout(timer);
    return { code, signal };
  }
}
