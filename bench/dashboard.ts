/**
 * The dashboard (issue 11), in a real Chromium against a real 3-node cluster (SQLite store):
 *
 * - page weight: the bytes over the wire of a first load (empty cache): the page's own files, then the
 *   API answers that fill the overview after sign-in; the event stream is left out (it stays open);
 * - how quickly a master change shows: from the store's master write (the new master's `since`, its
 *   take-over transaction) to the page's DOM moving the master badge, side by side with the CLI's
 *   polling client (`bosun cluster master set` waits with BosunClient.waitForRun) seeing the run done.
 *
 *   npm run bench -- --only dashboard
 */
import type { Page } from 'playwright-core';

import { BosunClient } from '../src/client/client.js';
import { launchBrowser, signIn } from '../test/helpers/browser.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../test/helpers/in-process-node.js';
import { ProcessCluster, eventually } from '../test/helpers/process-cluster.js';
import { summarize, type Summary } from './lib/stats.js';

export interface DashboardSettings {
  readonly changes: number;
}

export interface PageWeight {
  /** index.html, app.js, app.css: on the wire (compressed, with headers) and decoded. */
  readonly assetsWireBytes: number;
  readonly assetsBodyBytes: number;
  /** The API answers of sign-in and the first overview. */
  readonly apiWireBytes: number;
  readonly requests: number;
}

export interface DashboardResult {
  readonly weight: PageWeight;
  /** From the master write to the page's badge moving (ms). */
  readonly pageMs: Summary;
  /** From the master write to the CLI's polling client seeing the run completed (ms). */
  readonly cliMs: Summary;
  /** How the page was fed: `live` (the event stream) or `polling` (a node without one). */
  readonly link: string;
}

const MASTER_WATCH = `(() => {
  const w = window;
  const seen = () => document.querySelector('tr[data-role="master"]')?.getAttribute('data-node');
  w.__masterSeen = { uid: seen(), at: Date.now() };
  new MutationObserver(() => {
    const uid = seen();
    if (uid !== w.__masterSeen.uid) w.__masterSeen = { uid, at: Date.now() };
  }).observe(document.body, { subtree: true, childList: true, attributes: true });
})()`;

async function measureWeight(page: Page, url: string): Promise<{ weight: PageWeight; ready: Promise<void> }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const urls = new Map<string, string>();
  const w = { assetsWireBytes: 0, assetsBodyBytes: 0, apiWireBytes: 0, requests: 0 };
  const bodies = new Map<string, number>();
  cdp.on('Network.requestWillBeSent', (e) => urls.set(e.requestId, e.request.url));
  cdp.on('Network.dataReceived', (e) =>
    bodies.set(e.requestId, (bodies.get(e.requestId) ?? 0) + e.dataLength),
  );
  cdp.on('Network.loadingFinished', (e) => {
    const u = new URL(urls.get(e.requestId) ?? url);
    if (u.pathname.startsWith('/v1/events')) return;
    w.requests++;
    if (u.pathname.startsWith('/v1/')) w.apiWireBytes += e.encodedDataLength;
    else {
      w.assetsWireBytes += e.encodedDataLength;
      w.assetsBodyBytes += bodies.get(e.requestId) ?? 0;
    }
  });
  await signIn(page, url, ADMIN_EMAIL, ADMIN_PASSWORD);
  const ready = page.locator('tr[data-node]').nth(2).waitFor();
  return { weight: w, ready };
}

export async function runDashboard(
  settings: DashboardSettings,
  log: (line: string) => void,
): Promise<DashboardResult> {
  const cluster = await ProcessCluster.start({ nodes: 3 });
  const browser = await launchBrowser();
  try {
    const first = await cluster.waitForAgreedMaster();
    const home = cluster.nodes.find((n) => n.uid !== first)!;
    const page = await browser.newPage();
    const { weight, ready } = await measureWeight(page, home.url);
    await ready;
    // Settle: the first overview's answers (and the stats load) have arrived.
    await page.waitForTimeout(1000);
    const weightSnapshot = { ...weight };
    log(
      `dashboard: first load ${weightSnapshot.assetsWireBytes} B of files, ${weightSnapshot.apiWireBytes} B of API`,
    );
    await page.evaluate(MASTER_WATCH);
    const client = new BosunClient({
      url: home.url,
      credentials: { user: ADMIN_EMAIL, password: ADMIN_PASSWORD },
    });
    const pageMs: number[] = [];
    const cliMs: number[] = [];
    try {
      for (let i = 0; i < settings.changes; i++) {
        const master = await cluster.waitForAgreedMaster();
        const target = cluster.nodes.find((n) => n.uid !== master && n.uid !== home.uid)!.uid;
        const run = await client.request<{ action_uid: string }>(
          'POST',
          '/v1/cluster/actions/change_master',
          {
            node_uid: target,
          },
        );
        const done = await client.waitForRun(run.action_uid);
        const cliAt = Date.now();
        if (done.status !== 'completed') throw new Error(`change_master ${done.status}`);
        const seen = await eventually(
          async () => {
            const s = await page.evaluate<{ uid?: string; at: number }>('window.__masterSeen');
            return s.uid === String(target) ? s : undefined;
          },
          15_000,
          'the page to show the new master',
        );
        const cluster1 = await client.request<{ master_since: string }>('GET', '/v1/cluster');
        const written = Date.parse(cluster1.master_since);
        pageMs.push(seen.at - written);
        cliMs.push(cliAt - written);
      }
    } finally {
      client.close();
    }
    const link = await page.getByTestId('link').getAttribute('class');
    const result = {
      weight: weightSnapshot,
      pageMs: summarize(pageMs),
      cliMs: summarize(cliMs),
      link: String(link).replace('link link-', ''),
    };
    log(`dashboard: page p50 ${result.pageMs.median} ms, CLI p50 ${result.cliMs.median} ms (${result.link})`);
    return result;
  } finally {
    await browser.close();
    await cluster.destroy();
  }
}

const kib = (b: number): string => `${(b / 1024).toFixed(1)} KiB`;
const ms0 = (v: number): string => (Number.isFinite(v) ? v.toFixed(0) : '–');

/** The BENCHMARKS.md section (bench/report.ts). */
export function dashboardReport(r: DashboardResult): string {
  const w = r.weight;
  return [
    'First load in Chromium, empty cache (bytes on the wire, headers included):',
    '',
    '| What | On the wire | Decoded |',
    '| --- | ---: | ---: |',
    `| The page's files (index.html, app.js, app.css; gzip) | ${kib(w.assetsWireBytes)} | ${kib(w.assetsBodyBytes)} |`,
    `| API answers of sign-in and the first overview | ${kib(w.apiWireBytes)} | |`,
    `| Total (${w.requests} requests; the event stream not counted) | ${kib(w.assetsWireBytes + w.apiWireBytes)} | |`,
    '',
    `How quickly a master change shows, from the store's master write (the new master's \`since\`), ${r.pageMs.n} changes; the page fed by \`${r.link}\`:`,
    '',
    '| Client | median | p90 | max |',
    '| --- | ---: | ---: | ---: |',
    `| Dashboard: the master badge moves in the DOM | ${ms0(r.pageMs.median)} ms | ${ms0(r.pageMs.p90)} ms | ${ms0(r.pageMs.max)} ms |`,
    `| CLI polling client (\`waitForRun\`, 100 ms polls): run seen completed | ${ms0(r.cliMs.median)} ms | ${ms0(r.cliMs.p90)} ms | ${ms0(r.cliMs.max)} ms |`,
  ].join('\n');
}
