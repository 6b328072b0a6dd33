import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { NarrativesService } from '../../src/narratives/narratives.service';
import { startFakePlatforms, type FakePlatforms } from '../fakes/fake-platforms';
import { demoWorkspace } from '../support/admin-client';
import { launchChromium } from '../support/browser';
import { type TestApp } from '../support/test-app';

jest.setTimeout(300_000);

const SHOTS = join(__dirname, '..', '..', 'test-results', 'admin-curation-browser');

/** The curation pages in real Chromium: a beat, a source (against a local feed server), a narrative edit, subscribers. */
describe('the curation pages in a browser', () => {
  let t: TestApp;
  let feeds: FakePlatforms;
  let browser: Browser;
  let page: Page;
  let password: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    feeds = await startFakePlatforms();
    ({ t, password } = await demoWorkspace({ FETCH_ALLOWLIST: '127.0.0.1' }));
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await feeds?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  // One staged scenario: every step works on the same signed-in page, and the source step files its source
  // under the beat the first step creates (and the CSV rows name it). The steps were separate `it`s that passed
  // only in file order; as one test the story runs whole, alone or in the file.
  it('an editor signs in, creates a beat, tests and adds a source, edits a narrative, imports subscribers, and on a phone', async () => {
    // Step 1: signs in and creates a beat, with the invalid fields marked first.
    {
      await page.goto(`${t.url}/admin/beats`);
      await page.fill('#email', 'editor@example.com');
      await page.fill('#password', password);
      await page.click('button[type=submit]');
      await page.waitForURL(`${t.url}/admin/beats`);
      await page.fill('#f-slug', 'Coral Reefs');
      await page.getByRole('button', { name: 'Create the beat' }).click();
      await page.waitForSelector('#f-slug-error');
      expect(await page.getAttribute('#f-slug', 'aria-invalid')).toBe('true');
      expect(await page.textContent('#f-keywords-error')).toMatch(/at least one keyword/);
      await shot('01-beat-errors');
      await page.fill('#f-slug', 'coral-reefs');
      await page.fill('#f-name', 'Coral reefs');
      await page.fill('#f-description', 'Reef science and bleaching');
      await page.fill('#f-keywords', 'coral, reef, bleaching');
      await page.locator('input[name=sources]').first().check();
      await page.getByRole('button', { name: 'Create the beat' }).click();
      await page.waitForURL(/\/admin\/beats\/coral-reefs\?done=beat-saved/);
      expect(await page.inputValue('#f-keywords')).toBe('coral, reef, bleaching');
      expect(await page.locator('input[name=sources]:checked').count()).toBe(1);
      await shot('02-beat-saved');
    }

    // Step 2: tests a source (nothing imported), adds it and pauses it.
    {
      await page.goto(`${t.url}/admin/sources`);
      await page.selectOption('#f-kind', 'rss');
      await page.fill('#f-target', `${feeds.url}/feeds/rss2.xml`);
      await page.fill('#f-name', 'Reef wire');
      await page.getByRole('checkbox', { name: 'Coral reefs' }).check();
      await page.getByRole('button', { name: 'Test it first' }).click();
      await page.waitForSelector('#test-result');
      expect(await page.textContent('#test-result')).toContain('Nothing was imported.');
      expect(await page.locator('#test-result ol.preview li').count()).toBeGreaterThan(0);
      expect(await page.inputValue('#f-target')).toBe(`${feeds.url}/feeds/rss2.xml`);
      await shot('03-source-tested');
      await page.getByRole('button', { name: 'Add the source' }).click();
      await page.waitForURL(/\/admin\/sources\/[0-9a-f-]{36}\?done=source-added/);
      expect(await page.textContent('main')).toContain('beats: coral-reefs');
      await page.getByRole('button', { name: 'Pause' }).click();
      await page.waitForURL(/done=source-paused/);
      expect(await page.textContent('main .badge')).toBe('paused');
      await shot('04-source-paused');
    }

    // Step 3: edits a narrative: an unsupported number holds it and says why; the fix publishes it.
    {
      const story = (await t.get(NarrativesService).latest(1))[0];
      await page.goto(`${t.url}/admin/stories`);
      await shot('05-storylines');
      await page.locator(`a[href="/admin/stories/${story.id}"]`).first().click();
      await page.waitForSelector('#fidelity');
      const original = await page.inputValue('#f-body');
      await page.fill('#f-body', original.replace(/\n\n|$/, ' Officials counted 48,213 protesters that day.[1]\n\n'));
      await page.getByRole('button', { name: 'Check and save' }).click();
      await page.waitForURL(/done=held/);
      expect(await page.textContent('#narrative-status .badge')).toBe('held');
      expect(await page.textContent('#fidelity')).toContain('48,213');
      await shot('06-narrative-held');
      await page.fill('#f-body', original);
      await page.getByRole('button', { name: 'Check and save' }).click();
      await page.waitForURL(/done=published/);
      expect(await page.textContent('#narrative-status .badge')).toBe('published');
      await shot('07-narrative-published');
    }

    // Step 4: imports a CSV and finds the new subscribers by search; the dashboard works at phone width.
    {
      const dir = mkdtempSync(join(tmpdir(), 'broadsheet-csv-'));
      const file = join(dir, 'readers.csv');
      writeFileSync(file, 'email,name,beats\nreef.one@example.org,Reef One,coral-reefs\nreef.two@example.org,,\nnot-an-address,,\n');
      await page.goto(`${t.url}/admin/subscribers`);
      await page.setInputFiles('#f-file', file);
      await page.getByRole('radio', { name: /I attest/ }).check();
      await page.getByRole('button', { name: 'Import' }).click();
      await page.waitForSelector('#import-report');
      expect(await page.textContent('#import-report')).toMatch(/2 imported as active · 0 already here or repeated · 1 invalid/);
      await shot('08-import');
      await page.fill('#f-search', 'reef.');
      await page.selectOption('#f-status', 'active');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForURL(/search=reef\./);
      expect(await page.locator('#results tbody tr').count()).toBe(2);
      await shot('09-search');
      await page.setViewportSize({ width: 375, height: 800 });
      await page.goto(`${t.url}/admin`);
      expect(await page.locator('#subscribers-chart').isVisible()).toBe(true);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await shot('10-dashboard-phone');
    }
  });
});
