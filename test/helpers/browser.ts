/**
 * A real Chromium for the dashboard's tests and benchmark: Debian's `chromium` (installed by .ci/run
 * and scripts/run-tests.mjs), driven by playwright-core, which downloads nothing. BOSUN_CHROMIUM
 * points at another binary. `--no-sandbox`: the suite runs as root in a container, where Chromium's
 * sandbox cannot start.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.BOSUN_CHROMIUM ?? '/usr/bin/chromium';
/** Screenshots the tests take (gitignored; docs/ keeps two of them). */
export const SCREENSHOTS = fileURLToPath(new URL('../../../test-output/screenshots/', import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}: install it (sudo apt-get install chromium) or set BOSUN_CHROMIUM.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Signs in through the form, as a person would. */
export async function signIn(page: Page, baseUrl: string, login: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/`);
  await page.getByLabel('Email or user name').fill(login);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('[data-testid="master"]').waitFor();
}
