/**
 * The dashboard in a real Chromium (issue 11) against a real 3-node cluster of `bosun node`
 * processes: sign-in and the overview, "Make master" with its preflight and the live run, a preflight
 * that blocks, a cluster_viewer's view and its forced 403, kill -9 of the master and of the page's own
 * node (the page carries on without a reload), and user management. Screenshots land in
 * test-output/screenshots/ (gitignored); docs/ keeps two of them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { APIResponse, Browser, Page, Route } from 'playwright-core';

import { launchBrowser, screenshot, signIn } from '../helpers/browser.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../helpers/in-process-node.js';
import { ProcessCluster, eventually, type ClusterNode } from '../helpers/process-cluster.js';

const VIEWER = { email: 'viewer@ui.test', password: 'viewer-password-1' };

describe('dashboard in Chromium on a 3-node cluster', () => {
  let cluster: ProcessCluster;
  let browser: Browser;
  let page: Page;
  /** The node the admin's page was opened on. */
  let home: ClusterNode;

  const masterText = () => page.locator('[data-testid="master"]').innerText();
  const row = (uid: number) => page.locator(`tr[data-node="${uid}"]`);
  const shownMasterOn = async (on: Page): Promise<number | undefined> => {
    const rows = on.locator('tr[data-role="master"]');
    if ((await rows.count()) !== 1) return undefined;
    return Number(await rows.first().getAttribute('data-node'));
  };
  const shownMaster = () => shownMasterOn(page);
  /** Back to the overview (a hash change: the page is not reloaded), whatever an earlier test left. */
  const overview = async () => {
    await page.evaluate("location.hash = '#/overview'");
    await page.locator('tr[data-node]').first().waitFor();
  };
  /** A marker set in the page: still there later means the page was never reloaded. */
  const markPage = () => page.evaluate(() => ((globalThis as unknown as { marker: number }).marker = 42));
  const stillSamePage = async () =>
    assert.equal(await page.evaluate(() => (globalThis as unknown as { marker?: number }).marker), 42);

  before(async () => {
    // Leases and the hand-over timeout long enough that a target paused while the page shows the
    // point of no return (up to one 2 s refresh on a node without the stream) keeps its lease.
    cluster = await ProcessCluster.start({ nodes: 3, leaseTtlMs: 4000, handoverTimeoutMs: 10_000 });
    browser = await launchBrowser();
    const master = await cluster.waitForAgreedMaster();
    home = cluster.nodes.find((n) => n.uid !== master)!;
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await signIn(page, home.url, ADMIN_EMAIL, ADMIN_PASSWORD);
  });
  after(async () => {
    await browser?.close();
    await cluster?.destroy();
  });

  it('signs in and shows three nodes and one master, and which node the page talks to', async () => {
    const master = await cluster.waitForAgreedMaster();
    await page.locator('tr[data-node]').nth(2).waitFor();
    assert.equal(await page.locator('tr[data-node]').count(), 3);
    await eventually(
      async () => ((await shownMaster()) === master ? true : undefined),
      10_000,
      'one master row',
    );
    assert.match(await masterText(), new RegExp(`node ${master}`));
    assert.match(await page.getByTestId('connected-node').innerText(), new RegExp(`node ${home.uid}\\b`));
    assert.match(await page.getByTestId('epoch').innerText(), /^\d+$/);
    await screenshot(page, 'overview');
  });

  it('reads on a phone: nothing wider than the screen, every node still listed', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true });
    try {
      await signIn(phone, home.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      await phone.locator('tr[data-node]').nth(2).waitFor();
      const overflow = await phone.evaluate('document.documentElement.scrollWidth - window.innerWidth');
      assert.ok(Number(overflow) <= 0, `the page is ${String(overflow)} px wider than the phone`);
      await screenshot(phone, 'overview-phone');
    } finally {
      await phone.close();
    }
  });

  it('works over HTTPS as well (the node’s self-signed certificate accepted for the test)', async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    try {
      const secure = await context.newPage();
      await signIn(secure, `https://127.0.0.1:${home.httpsPort}`, ADMIN_EMAIL, ADMIN_PASSWORD);
      await secure.locator('tr[data-node]').nth(2).waitFor();
      assert.match(await secure.getByTestId('connected-node').innerText(), /https:\/\/127\.0\.0\.1:/);
    } finally {
      await context.close();
    }
  });

  it('"Make master" runs the preflight, asks, moves the badge and shows the completed run', async () => {
    await overview();
    const before = await cluster.waitForAgreedMaster();
    // Neither the master nor the page's node: the later tests kill the master and the page's node apart.
    const target = cluster.nodes.find((n) => n.uid !== before && n.uid !== home.uid)!.uid;
    await markPage();
    await row(target)
      .getByRole('button', { name: `Make node ${target} master` })
      .click();
    const dialog = page.getByTestId('make-master');
    await dialog.getByTestId('checks').waitFor();
    assert.ok((await dialog.locator('tr[data-passed]').count()) >= 3, 'each check is listed');
    assert.equal(await dialog.locator('tr[data-passed="false"]').count(), 0);
    await dialog.getByTestId('confirm').click();
    await page.getByTestId('run').waitFor();
    await page.locator('[data-testid="run"][data-status="completed"]').waitFor({ timeout: 20_000 });
    await eventually(
      async () => ((await shownMaster()) === target ? true : undefined),
      10_000,
      'the badge to move',
    );
    assert.match(await page.getByTestId('handover-ms').innerText(), /^\d+ ms$/);
    assert.match(await page.getByTestId('no-master-ms').innerText(), /^\d+ ms$/);
    await screenshot(page, 'run-completed');
    await stillSamePage();
  });

  it('past the point of no return Cancel is gone and the reason is shown; the run then completes', async () => {
    await overview();
    const before = await cluster.waitForAgreedMaster();
    const target = cluster.nodes.find((n) => n.uid !== before && n.uid !== home.uid)!;
    await row(target.uid)
      .getByRole('button', { name: `Make node ${target.uid} master` })
      .click();
    const dialog = page.getByTestId('make-master');
    await dialog.getByTestId('checks').waitFor();
    // A paused target keeps the hand-over waiting after its intent is out (well within its lease).
    await target.signal('SIGSTOP');
    try {
      await dialog.getByTestId('confirm').click();
      const run = page.getByTestId('run');
      await run.getByTestId('run-phase').getByText('handing_over').waitFor({ timeout: 5000 });
      assert.match(await run.getByTestId('run-cancellable').innerText(), /^no: .+/);
      assert.equal(await run.getByRole('button', { name: 'Cancel run' }).count(), 0);
      await screenshot(page, 'run-in-flight');
    } finally {
      await target.signal('SIGCONT');
    }
    await page.locator('[data-testid="run"][data-status="completed"]').waitFor({ timeout: 20_000 });
    await eventually(
      async () => ((await shownMaster()) === target.uid ? true : undefined),
      10_000,
      'the badge',
    );
  });

  it('the history finds the run by name and status, with its outcome and its JSON', async () => {
    await page.getByRole('link', { name: 'History' }).click();
    await page.getByLabel('Name').fill('change_master');
    await page.getByLabel('Status').selectOption('completed');
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.locator('[data-testid="history"] tbody tr');
    await rows.first().waitFor();
    const statuses = await rows.evaluateAll((trs: { getAttribute(name: string): string | null }[]) =>
      trs.map((tr) => tr.getAttribute('data-status')),
    );
    for (const status of statuses) {
      assert.equal(status, 'completed');
    }
    assert.match(await rows.first().innerText(), /change_master[\s\S]*node \d+ → node \d+, hand-over \d+ ms/);
    // Nothing matches a status no run has.
    await page.getByLabel('Status').selectOption('cancelled');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No runs match.').waitFor();
    await page.getByLabel('Status').selectOption('completed');
    await page.getByRole('button', { name: 'Search' }).click();
    await rows.first().getByRole('link', { name: 'JSON' }).click();
    const text = await eventually(async () => (await page.getByTestId('run-json').innerText()) || undefined);
    const json = JSON.parse(text) as Record<string, unknown>;
    assert.equal(json.name, 'change_master');
    assert.equal(json.status, 'completed');
  });

  it('Cancel on a run still cancellable cancels it, and the page shows the outcome', async () => {
    await overview();
    const master = cluster.node(await cluster.waitForAgreedMaster());
    const target = cluster.nodes.find((n) => n.uid !== master.uid && n.uid !== home.uid)!;
    await row(target.uid)
      .getByRole('button', { name: `Make node ${target.uid} master` })
      .click();
    const dialog = page.getByTestId('make-master');
    await dialog.getByTestId('checks').waitFor();
    // A paused master claims nothing: the run stays queued, and cancellable, until the page's DELETE
    // (well within the master's lease, so nobody takes its place meanwhile).
    await master.signal('SIGSTOP');
    try {
      await dialog.getByTestId('confirm').click();
      const run = page.getByTestId('run');
      await run.getByTestId('run-cancellable').getByText('yes', { exact: true }).waitFor({ timeout: 5000 });
      await run.getByRole('button', { name: 'Cancel run' }).click();
      await page.locator('[data-testid="run"][data-status="cancelled"]').waitFor({ timeout: 5000 });
    } finally {
      await master.signal('SIGCONT');
    }
    assert.equal(await page.getByRole('button', { name: 'Cancel run' }).count(), 0);
    assert.match(await page.getByTestId('run-cancellable').innerText(), /^no \(finished\)$/);
    const latest = await home.get<{ status: string }>('/v1/cluster/actions/change_master');
    assert.equal(latest.body.status, 'cancelled');
  });

  it('an admin creates a user (password shown once), changes its role and deletes it; API text is never markup', async () => {
    await overview();
    await page.getByRole('link', { name: 'Users' }).click();
    // An email the API accepts that would be markup if written as HTML.
    const hostile = '<img/src=x/onerror=window.pwned=1>@ui.test';
    await page.getByLabel('Email').fill(hostile);
    await page.getByLabel('Role of the new user').selectOption('db_viewer');
    await page.getByRole('button', { name: 'Create user' }).click();
    const secret = page.getByTestId('new-password');
    await secret.waitFor();
    const password = (await secret.locator('code').innerText()).trim();
    assert.match(password, /^[A-Za-z0-9]{20}$/);
    const created = page.locator(`tr[data-user="${hostile}"]`);
    await created.waitFor();
    assert.equal(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned), undefined);
    assert.equal(await page.locator('img').count(), 0);
    // The generated password signs the new user in.
    const token = await fetch(`${home.url}/v1/users/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: hostile, password }),
    });
    assert.equal(token.status, 200);
    await page.getByRole('button', { name: 'Done' }).click();
    // Its role changes from the list.
    await created.getByLabel(`Role of ${hostile}`).selectOption('cluster_viewer');
    await created.getByRole('button', { name: 'Save role' }).click();
    await created.getByRole('button', { name: 'Save role' }).waitFor({ state: 'detached' });
    await eventually(
      async () => {
        const users = await home.get<{ email: string; role: string }[]>('/v1/users');
        return users.body.find((u) => u.email === hostile)?.role === 'cluster_viewer' ? true : undefined;
      },
      5000,
      'the server to hold the new role',
    );
    assert.equal(await created.getByLabel(`Role of ${hostile}`).inputValue(), 'cluster_viewer');
    await created.getByRole('button', { name: `Delete ${hostile}` }).click();
    await created.getByRole('button', { name: 'Yes, delete' }).click();
    await created.waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'Overview' }).click();
  });

  it('a cluster_viewer sees no "Make master"; forced, the server’s 403 is shown', async () => {
    const res = await home.request('POST', '/v1/users', { ...VIEWER, role: 'cluster_viewer' });
    assert.equal(res.status, 200);
    const viewer = await browser.newPage();
    try {
      // Keyboard only: the sign-in form takes focus, Tab moves on, Enter submits.
      await viewer.goto(`${home.url}/`);
      await viewer.waitForFunction('document.activeElement?.getAttribute("name") === "login"');
      await viewer.keyboard.type(VIEWER.email);
      await viewer.keyboard.press('Tab');
      await viewer.keyboard.type(VIEWER.password);
      await viewer.keyboard.press('Enter');
      await viewer.getByTestId('master').waitFor();
      await viewer.locator('tr[data-node]').nth(2).waitFor();
      assert.equal(await viewer.getByRole('button', { name: /Make .* master/ }).count(), 0);
      assert.equal(await viewer.getByRole('link', { name: 'Users' }).count(), 0);
      // Forced: the dialog by its deep link, then the confirm button enabled by hand.
      const master = await cluster.waitForAgreedMaster();
      const target = cluster.nodes.find((n) => n.uid !== master)!.uid;
      await viewer.goto(`${home.url}/ui/#/make-master/${target}`);
      const dialog = viewer.getByTestId('make-master');
      await dialog.waitFor();
      await dialog.getByText('Running the preflight').waitFor({ state: 'detached' });
      if ((await dialog.getByTestId('mm-error').count()) === 0) {
        await dialog
          .getByTestId('confirm')
          .evaluate((b: { removeAttribute(name: string): void }) => b.removeAttribute('disabled'));
        await dialog.getByTestId('confirm').click();
      }
      const error = await dialog.getByTestId('mm-error').innerText();
      assert.match(error, /403 unauthorized_action/);
      assert.match(error, /cluster_viewer/);
      assert.equal(await cluster.waitForAgreedMaster(), master, 'nothing moved');
    } finally {
      await viewer.close();
    }
  });

  it('a preflight failure (the target is down) is shown and blocks the change', async () => {
    await overview();
    const master = await cluster.waitForAgreedMaster();
    const down = cluster.nodes.find((n) => n.uid !== master && n.uid !== home.uid)!;
    await down.signal('SIGKILL');
    await row(down.uid).and(page.locator('[data-status="down"]')).waitFor({ timeout: 15_000 });
    await page.evaluate(`location.hash = '#/make-master/${down.uid}'`);
    const dialog = page.getByTestId('make-master');
    await dialog.getByTestId('blocked').waitFor();
    assert.ok((await dialog.locator('tr[data-passed="false"]').count()) >= 1);
    assert.equal(await dialog.getByTestId('confirm').isDisabled(), true);
    await screenshot(page, 'preflight-blocked');
    // Escape closes the dialog.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    down.start();
    await row(down.uid).and(page.locator('[data-status="active"]')).waitFor({ timeout: 20_000 });
  });

  it('a state load answered before a newer event is loaded again, never applied over it', async () => {
    // The page's first load of /v1/nodes/status is taken from the server at once but held in the
    // browser while the master moves; the stream tells the move first, then the old answer arrives.
    const before = await cluster.waitForAgreedMaster();
    const target = cluster.nodes.find((n) => n.uid !== before && n.uid !== home.uid)!.uid;
    const fresh = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    let release!: (held: { route: Route; response: APIResponse }) => void;
    const held = new Promise<{ route: Route; response: APIResponse }>((r) => (release = r));
    let first = true;
    await fresh.route('**/v1/nodes/status', async (route) => {
      if (!first) return route.continue();
      first = false;
      release({ route, response: await route.fetch() });
    });
    try {
      await signIn(fresh, home.url, ADMIN_EMAIL, ADMIN_PASSWORD);
      const stale = await held;
      const res = await home.request('POST', '/v1/cluster/actions/change_master', { node_uid: target });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(await cluster.waitForAgreedMaster({ not: before }), target);
      await eventually(
        async () =>
          new RegExp(`node ${target}\\b`).test(await fresh.getByTestId('master').innerText())
            ? true
            : undefined,
        15_000,
        'the streamed master',
      );
      await stale.route.fulfill({ response: stale.response });
      await eventually(
        async () => ((await shownMasterOn(fresh)) === target ? true : undefined),
        15_000,
        'the master the stream told, not the one of the older answer',
      );
    } finally {
      await fresh.close();
    }
  });

  it('kill -9 of the master: the page shows the failover and the new master without a reload', async () => {
    await overview();
    const master = await cluster.waitForAgreedMaster();
    assert.notEqual(master, home.uid);
    await markPage();
    await cluster.node(master).signal('SIGKILL');
    const next = await cluster.waitForAgreedMaster({ not: master });
    await eventually(
      async () => ((await shownMaster()) === next ? true : undefined),
      15_000,
      'the new master',
    );
    await row(master).and(page.locator('[data-status="down"]')).waitFor({ timeout: 15_000 });
    assert.match(await page.getByTestId('notices').innerText(), new RegExp(`node ${next}`));
    await stillSamePage();
    cluster.node(master).start();
    await row(master).and(page.locator('[data-status="active"]')).waitFor({ timeout: 20_000 });
  });

  it('kill -9 of the node the page talks to: the page says so, moves to another node and recovers', async () => {
    await overview();
    await markPage();
    await home.signal('SIGKILL');
    // Said within a few seconds: the banner names the lost node (while looking, then once moved).
    await page
      .getByTestId('link')
      .getByText(new RegExp(`(Lost the connection to node|Node) ${home.uid}\\b`))
      .first()
      .waitFor({ timeout: 5000 });
    await eventually(
      async () => {
        const text = await page.getByTestId('connected-node').innerText();
        const m = /node (\d+)/.exec(text);
        return m && Number(m[1]) !== home.uid ? true : undefined;
      },
      15_000,
      'the page to talk to another node',
    );
    await row(home.uid).and(page.locator('[data-status="down"]')).waitFor({ timeout: 15_000 });
    const master = await cluster.waitForAgreedMaster();
    await eventually(async () => ((await shownMaster()) === master ? true : undefined), 15_000, 'the master');
    await stillSamePage();
    await screenshot(page, 'recovered');
  });
});
