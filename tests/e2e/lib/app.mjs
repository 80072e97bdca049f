// One test file's world: a workspace with a seeded database, the server on it,
// and Debian's Chromium driven by playwright-core. Pages are signed in through
// the sign-in form, as a person would.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { Workspace, Server } from './reftrack.mjs';
import { seed, USER } from './seed.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = process.env.E2E_ARTIFACTS || path.join(os.tmpdir(), 'reftrack-e2e-artifacts');
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

/** Polls `read()` until `check(value)` holds; fails with the last value after `timeout` ms. */
export async function eventually(read, check, { timeout = 10_000, what = 'the condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await read();
      if (check(last)) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeout} ms; last value: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the locator's trimmed text is `expected` (numbers are compared as their String). */
export async function expectText(locator, expected, options = {}) {
  const want = String(expected);
  return eventually(async () => (await locator.textContent({ timeout: 2_000 }))?.trim(), (t) => t === want,
    { what: `the text of ${locator} to be ${JSON.stringify(want)}`, ...options });
}

/** Waits until the locator's text contains `part`. */
export async function expectContains(locator, part, options = {}) {
  return eventually(async () => (await locator.innerText({ timeout: 2_000 })).trim(), (t) => t.includes(part),
    { what: `the text of ${locator} to contain ${JSON.stringify(part)}`, ...options });
}

/** Waits until the locator matches `n` elements. */
export async function expectCount(locator, n, options = {}) {
  return eventually(() => locator.count(), (c) => c === n, { what: `${locator} to match ${n} elements`, ...options });
}

export class App {
  constructor(name) {
    this.name = name;
  }

  /** Seeds a fresh database, starts the server and the browser. */
  async start() {
    this.ws = new Workspace(this.name);
    this.ids = seed(this.ws);
    this.server = new Server(this.ws);
    this.url = await this.server.start();
    this.browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    mkdirSync(ARTIFACTS, { recursive: true });
    return this;
  }

  /**
   * Stops the browser and the server (SIGTERM); returns the server's exit
   * ({code, signal}) so the file can assert it ended gracefully. Keeps the workspace
   * when KEEP_E2E_WORKSPACE is set.
   */
  async stop() {
    await this.browser?.close().catch(() => {});
    const exit = await this.server?.stop();
    if (this.ws && !process.env.KEEP_E2E_WORKSPACE) this.ws.remove();
    return exit;
  }

  /**
   * A fresh browser context and page at `viewport`. `problems` collects what the
   * page must never do: uncaught errors and Content-Security-Policy violations.
   */
  async newPage(viewport = DESKTOP, { session = true } = {}) {
    const storageState = session ? this.signedInState : undefined;
    const context = await this.browser.newContext({
      baseURL: this.url, viewport, locale: 'en-US', timezoneId: 'UTC', acceptDownloads: true, storageState,
    });
    context.signedIn = Boolean(storageState);
    context.setDefaultTimeout(10_000);
    const page = await context.newPage();
    page.problems = [];
    page.on('pageerror', (err) => page.problems.push(`uncaught: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) {
        page.problems.push(`console: ${msg.text()}`);
      }
    });
    return { context, page };
  }

  /**
   * Opens `path` signed in: the first time in this file through the sign-in form
   * (whose session cookie is then kept for the next pages, as a browser keeps it).
   */
  async signIn(page, { path: start = '/' } = {}) {
    await page.goto(start);
    if (!page.context().signedIn) {
      await page.getByLabel('Email', { exact: true }).fill(USER.email);
      await page.getByLabel('Password', { exact: true }).fill(USER.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
      page.context().signedIn = true;
      this.signedInState ??= await page.context().storageState();
    }
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  /** A full-page PNG under $E2E_ARTIFACTS. */
  async shot(page, name) {
    const file = path.join(ARTIFACTS, `${name}.png`);
    // From the top: a sticky header scrolled along would cover the page's heading.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: file, fullPage: true });
    return file;
  }

  /**
   * Runs `fn({context, page})` in a fresh context (with the file's session cookie
   * once one page signed in, unless `session: false`); on failure saves
   * `failure-<file>-<label>.png`; always closes the context, then fails on any
   * page error or CSP violation.
   */
  async withPage(label, fn, { viewport = DESKTOP, session = true } = {}) {
    const { context, page } = await this.newPage(viewport, { session });
    try {
      await fn({ context, page });
    } catch (err) {
      await this.shot(page, `failure-${this.name}-${label.replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
      throw err;
    } finally {
      await context.close().catch(() => {});
    }
    if (page.problems.length) throw new Error(`the page reported:\n${page.problems.join('\n')}`);
  }
}

/**
 * The file's App, started before its tests and stopped after them; the server must
 * then end gracefully (status 0 on SIGTERM).
 */
export function useApp(name) {
  const app = new App(name);
  before(() => app.start());
  after(async () => {
    const exit = await app.stop();
    if (exit) assert.deepEqual(exit, { code: 0, signal: null }, 'reftrack serve ends with status 0 on SIGTERM');
  });
  return app;
}
