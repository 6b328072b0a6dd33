import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { DeliveryService } from '../../src/delivery/delivery.service';
import { launchChromium } from '../support/browser';
import { readOutbox } from '../support/outbox';
import { demoWorkspace } from '../support/admin-client';
import { type TestApp } from '../support/test-app';

jest.setTimeout(300_000);

const SHOTS = join(__dirname, '..', '..', 'test-results', 'admin-browser');

/** An editor's whole week in real Chromium: sign in, curate, preview, test, send, watch it go out. */
describe('the issue editor in a browser', () => {
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let password: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // One story per beat in the draft, so the week's other stories are candidates.
    ({ t, password } = await demoWorkspace({ ISSUE_STORIES_PER_BEAT: '1' }));
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  const order = async () => page.$$eval('#entries li[data-id]', (lis) => lis.map((li) => li.getAttribute('data-id')!));
  const savedOrder = async () => {
    const res = await page.request.get(`${t.url}/api/v1/issues/1`);
    return ((await res.json()) as { stories: Array<{ id: string }> }).stories.map((s) => s.id);
  };

  // One staged scenario: every step works on the same signed-in page and the same draft (issue 1), so each
  // step needs the one before it (the order it reorders, the subject it sets, the send it cancels). The steps
  // were separate `it`s that passed only in file order; as one test the story runs whole, alone or in the file.
  it('an editor signs in, curates issue 1, previews it, sends a test, schedules and cancels, sends it, and on a phone', async () => {
    // Step 1: asks for sign-in, then opens the draft with its stories and candidates.
    {
      const res = await page.goto(`${t.url}/admin/issues/1`);
      expect(res!.status()).toBe(401);
      await shot('01-sign-in');
      await page.fill('#email', 'editor@example.com');
      await page.fill('#password', password);
      await page.click('button[type=submit]');
      await page.waitForURL(`${t.url}/admin/issues/1`);
      expect(await page.textContent('h1')).toContain('Issue 1');
      expect(await page.locator('#entries li[data-id]').count()).toBe(3);
      expect(await page.locator('li[data-candidate]').count()).toBeGreaterThan(0);
      await shot('02-editor');
    }

    // Step 2: reorders by drag and drop.
    {
      const before = await order();
      const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/issues/1/stories') && r.request().method() === 'PUT');
      await page
        .locator('#entries li[data-id]')
        .nth(2)
        .dragTo(page.locator('#entries li[data-id]').nth(0), { targetPosition: { x: 20, y: 5 } });
      expect((await saved).status()).toBe(200);
      const after = await order();
      expect(after).toEqual([before[2], before[0], before[1]]);
      expect(await savedOrder()).toEqual(after);
      await shot('03-after-drag');
    }

    // Step 3: reorders with the keyboard.
    {
      const before = await order();
      const saved = page.waitForResponse((r) => r.url().endsWith('/api/v1/issues/1/stories') && r.request().method() === 'PUT');
      await page.locator('#entries li[data-id] [data-move]').first().focus();
      await page.keyboard.press('ArrowDown');
      expect((await saved).status()).toBe(200);
      expect(await order()).toEqual([before[1], before[0], before[2]]);
      expect(await savedOrder()).toEqual([before[1], before[0], before[2]]);
      expect(await page.textContent('#reorder-status')).toContain('Order saved');
      // The handle keeps focus, so a second press keeps moving the same story.
      expect(await page.evaluate(() => document.activeElement?.closest('li')?.getAttribute('data-id'))).toBe(before[0]);
    }

    // Step 4: drops a story and includes a candidate.
    {
      const before = await order();
      await page.locator('#entries li[data-id]').last().getByRole('button', { name: /^Drop/ }).click();
      await page.waitForSelector('.notice:has-text("Story dropped.")');
      expect(await order()).toEqual(before.slice(0, 2));
      const candidate = await page.locator('li[data-candidate]').first().getAttribute('data-candidate');
      await page
        .locator('li[data-candidate]')
        .first()
        .getByRole('button', { name: /^Include/ })
        .click();
      await page.waitForSelector('.notice:has-text("Story included.")');
      expect(await order()).toEqual([...before.slice(0, 2), candidate]);
      await shot('04-after-drop-include');
    }

    // Step 5: drafts an intro, edits it, and sets subject and preheader.
    {
      await page.getByRole('button', { name: /Draft an intro/ }).click();
      await page.waitForSelector('#intro-drafted');
      const drafted = await page.inputValue('#intro');
      expect(drafted).toMatch(/^This week we start with “/);
      await page.fill('#intro', `${drafted} Edited by a person.`);
      await page.fill('#subject', 'Open models, new rules & a health check');
      await page.fill('#preheader', 'Three stories the communities argued about');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.waitForSelector('.notice:has-text("Saved.")');
      expect(await page.inputValue('#intro')).toContain('Edited by a person.');
      const issue = (await (await page.request.get(`${t.url}/api/v1/issues/1`)).json()) as { subject: string; intro: string };
      expect(issue.subject).toBe('Open models, new rules & a health check');
    }

    // Step 6: previews the email at desktop and phone widths with its size against 102 kB.
    {
      expect(await page.getAttribute('#preview-desktop', 'width')).toBe('600');
      expect(await page.getAttribute('#preview-phone', 'width')).toBe('375');
      const size = await page.textContent('#email-size');
      const kb = Number(/([\d.]+) kB/.exec(size!)![1]);
      expect(kb).toBeGreaterThan(5);
      expect(kb).toBeLessThan(102);
      expect(await page.frameLocator('#preview-phone').locator('body').textContent()).toContain('Edited by a person.');
      await page.locator('#preview-h').scrollIntoViewIfNeeded();
      await shot('05-preview-section');
      for (const [name, width] of [
        ['06-email-desktop', 600],
        ['07-email-phone', 375],
      ] as const) {
        const p = await page.context().newPage();
        await p.setViewportSize({ width, height: 900 });
        await p.goto(`${t.url}/admin/issues/1/preview/email`);
        await p.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
        await p.close();
      }
      const web = await page.context().newPage();
      await web.goto(`${t.url}/admin/issues/1/preview/web`);
      expect(await web.textContent('main')).toContain('not public yet');
      await web.screenshot({ path: join(SHOTS, '08-web-preview.png'), fullPage: true });
      await web.close();
    }

    // Step 7: sends a test to given addresses.
    {
      await page.fill('#test-to', 'proof.reader@example.com, second.look@example.com');
      await page.getByRole('button', { name: 'Send test' }).scrollIntoViewIfNeeded();
      await page.getByRole('button', { name: 'Send test' }).click();
      await page.waitForSelector('.notice:has-text("Test sent.")');
      const tests = (await readOutbox(t.config.email.outboxDir)).filter((m) => m.mail.subject?.startsWith('[Test] '));
      expect(tests.map((m) => m.mail.subject)).toEqual(['[Test] Open models, new rules & a health check', '[Test] Open models, new rules & a health check']);
      expect(tests[0].mail.text).toContain('Edited by a person.');
    }

    // Step 8: schedules a send for later, and cancels it.
    {
      await page.fill('#send-at', '2099-01-05T06:00:00');
      await page.getByRole('button', { name: 'Schedule' }).scrollIntoViewIfNeeded();
      await page.getByRole('button', { name: 'Schedule' }).click();
      await page.waitForSelector('.notice:has-text("Send scheduled.")');
      expect(await page.getAttribute('#progress', 'data-status')).toBe('scheduled');
      expect(await page.textContent('#send-h + *, section[aria-labelledby=send-h]')).toContain('Scheduled for 2099-01-05 06:00:00 UTC');
      await shot('09-scheduled');
      await page.getByRole('button', { name: 'Cancel the send' }).click();
      await page.waitForSelector('.notice:has-text("Send cancelled")');
      expect(await page.getAttribute('#progress', 'data-status')).toBe('cancelled');
    }

    // Step 9: sends to subscribers and shows progress live to the end.
    {
      await page.getByRole('button', { name: 'Send to subscribers now' }).scrollIntoViewIfNeeded();
      await page.getByRole('button', { name: 'Send to subscribers now' }).click();
      await page.waitForSelector('.notice:has-text("Send queued")');
      await page.waitForSelector('#progress[data-status="sending"]');
      expect(await page.textContent('#progress')).toContain('sending');
      await shot('10-sending');
      // What the scheduled delivery job does every minute.
      await t.get(DeliveryService).run();
      await page.waitForSelector('#progress[data-status="sent"]', { timeout: 30_000 });
      const audience = Number(await page.textContent('#progress [data-field="audience"]'));
      expect(audience).toBe(5);
      expect(Number(await page.textContent('#progress [data-field="accepted"]'))).toBe(5);
      expect(await page.getAttribute('#progress progress', 'value')).toBe('5');
      await shot('11-sent');
      const digests = (await readOutbox(t.config.email.outboxDir)).filter((m) => m.mail.subject === 'Open models, new rules & a health check');
      expect(digests).toHaveLength(5);
    }

    // Step 10: is usable on a phone.
    {
      await page.setViewportSize({ width: 375, height: 800 });
      await page.goto(`${t.url}/admin/issues/1`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await shot('12-phone-editor');
      await page.goto(`${t.url}/admin`);
      await shot('13-phone-dashboard');
    }
  });
});
