/**
 * The operator's view in a real browser (headless Chromium via playwright-core): log in, see every
 * queue on the board and the status page, and prove that job data and failure reasons carrying HTML
 * execute nothing. Screenshots land in test-artifacts/.
 */
import { mkdirSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentError } from '../src/jobs/errors.js';
import { Consumers } from '../src/workers/consumer.js';
import { kinds, optionsFor, testHandlers } from './helpers/handlers.js';
import { type Harness, harness } from './helpers/harness.js';
import { waitFor } from './helpers/wait-for.js';
import { serveApp } from './helpers/web.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url).pathname;
const PASSWORD = 'browser-test-password';
const PAYLOAD = `<img src=x onerror="window.__xss=(window.__xss||0)+1;alert('xss')"><script>window.__xss=1</script>`;

let x: Harness;
let url: string;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  x = await harness({ SPOTTER_JOBS_BOARD_PASSWORD: PASSWORD, SPOTTER_JOBS_DEMO_USERS: '3' });
  url = (await serveApp(x)).url;
  const consumers = new Consumers(
    {
      ...x,
      handlers: testHandlers([], async (userId) => {
        throw new PermanentError(`provider said ${PAYLOAD} for ${userId}`);
      }),
    },
    kinds(x.config, 'sync'),
  );
  consumers.start();
  const sync = x.queues.get('sync');
  // One job whose data is hostile (dead-lettered as invalid), one whose failure reason is.
  await sync.add('user', { userId: PAYLOAD, scheduledFor: 1, tick: PAYLOAD }, { ...optionsFor(x.config, 'sync'), jobId: 'hostile-data' });
  await sync.add('user', { userId: 'u1', scheduledFor: 1, tick: 't' }, { ...optionsFor(x.config, 'sync'), jobId: 'hostile-reason' });
  await waitFor('two dead letters', async () => (await x.deadLetters.count()) === 2);
  await consumers.close();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await x?.dispose();
});

async function openPage(path: string, credentials = true) {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    ...(credentials ? { httpCredentials: { username: 'admin', password: PASSWORD } } : {}),
  });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const response = await page.goto(`${url}${path}`);
  return { page, context, dialogs, response };
}

describe('in a real browser', () => {
  it('without credentials the board is refused', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Headless Chromium turns the 401 challenge it cannot answer into a navigation error.
    const outcome = await page.goto(`${url}/board`).then(
      (r) => `status ${r?.status()}`,
      (err: Error) => err.message,
    );
    expect(outcome).toMatch(/status 401|ERR_INVALID_AUTH_CREDENTIALS/);
    await context.close();
  });

  it('the board lists every queue, and hostile job data and reasons stay inert', async () => {
    const { page, context, dialogs } = await openPage('/board');
    for (const q of ['sync', 'enrichment', 'writeback', 'schedules', 'dead-letter']) {
      await page.getByText(q, { exact: true }).first().waitFor({ timeout: 15_000 });
    }
    await page.waitForLoadState('networkidle');
    await page.getByText('Loading').first().waitFor({ state: 'detached', timeout: 15_000 });
    await page.screenshot({ path: `${ARTIFACTS}board.png`, fullPage: true });
    await page.goto(`${url}/board/queue/dead-letter?status=waiting`);
    await page.getByText('sync__hostile-reason').first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: `${ARTIFACTS}board-dead-letter.png`, fullPage: true });
    await page.goto(`${url}/board/queue/sync?status=failed`);
    await page.getByText('hostile-data').first().waitFor({ timeout: 15_000 });
    // The job's card renders its reason after its id: wait for it rather than read the page at once.
    await page.getByText('invalid job data').first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: `${ARTIFACTS}board-failed.png`, fullPage: true });
    // The payload is on the page as text, and nothing of it ran.
    expect(await page.content()).toContain('invalid job data');
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
    await context.close();
  });

  it('the status page shows the schedules, the queues and the dead letters, inert', async () => {
    const { page, context, dialogs, response } = await openPage('/');
    expect(response?.status()).toBe(200);
    await page.getByRole('heading', { name: 'Schedules' }).waitFor();
    const text = await page.locator('body').innerText();
    for (const s of ['sync', 'enrichment', 'write-back', 'writeback', 'schedules', 'dead-letter']) expect(text).toContain(s);
    expect(text).toContain('Dead letters: 2');
    // Shown literally, as text:
    expect(text).toContain(`provider said ${PAYLOAD}`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);
    await page.screenshot({ path: `${ARTIFACTS}status.png`, fullPage: true });
    await context.close();
  });
});
