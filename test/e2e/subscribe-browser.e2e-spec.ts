import { type Browser } from 'playwright-core';
import { DataSource } from 'typeorm';
import { SubscriberMailer } from '../../src/subscribers/subscriber-mailer';
import { SubscribersService } from '../../src/subscribers/subscribers.service';
import { launchChromium } from '../support/browser';
import { readOutbox } from '../support/outbox';
import { mailsTo } from '../support/subscriptions';
import { startTestApp, type TestApp } from '../support/test-app';

/** A reader's whole journey in real Chromium: sign up, confirm from the email, unsubscribe. */
describe('subscribing in a browser', () => {
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    t = await startTestApp();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  /** The page's own (POST) form's button: the site header's search form (GET) has a submit button too. */
  const submit = 'form[method=post] button[type=submit]';

  it('rejects a bad address with a clear message and keeps what was typed', async () => {
    const page = await browser.newPage();
    await page.goto(`${t.url}/subscribe`);
    // The browser's own type=email check would stop this; a script-free client posts it anyway.
    await page.locator('input[name=email]').evaluate((el: HTMLInputElement) => (el.type = 'text'));
    await page.fill('input[name=email]', 'not-an-address<script>');
    await page.click(submit);
    expect(await page.textContent('body')).toContain('An email address needs an @, like name@example.com.');
    expect(await page.inputValue('input[name=email]')).toBe('not-an-address<script>');
    await page.close();
  });

  it('signs up, confirms from the emailed link, and unsubscribes with one button', async () => {
    const outboxBefore = (await readOutbox(t.config.email.outboxDir)).length;
    const page = await browser.newPage();
    await page.goto(`${t.url}/`);
    await page.fill('input[name=email]', 'Reader.One@Example.org');
    await page.click(submit);
    await page.waitForSelector('h1');
    expect(await page.textContent('h1')).toBe('Check your inbox');

    // The request only queued the email; the job sends it.
    expect(await readOutbox(t.config.email.outboxDir)).toHaveLength(outboxBefore);
    await t.get(SubscriberMailer).run();
    const sent = await mailsTo(t.config.email.outboxDir, 'reader.one@example.org');
    expect(sent).toHaveLength(1);
    const [message] = sent;
    expect((message.mail.to as { value: Array<{ address: string }> }).value[0].address.toLowerCase()).toBe('reader.one@example.org');
    expect(message.mail.subject).toBe('Confirm your subscription to Broadsheet');
    const link = /Confirm your subscription: (\S+)/.exec(message.mail.text!)![1];
    expect(message.mail.html).toContain('Confirm my subscription');
    // Opening the link (as a mail scanner would) shows a button; pressing it confirms.
    await page.goto(link);
    const db = t.get(DataSource);
    expect(await page.textContent('h1')).toBe('Confirm your subscription');
    expect((await db.query(`SELECT status FROM subscribers WHERE lower(email) = 'reader.one@example.org'`))[0].status).toBe('pending');
    await page.click(submit);
    await page.waitForSelector('h1');
    expect(await page.textContent('h1')).toBe("You're subscribed");
    expect((await db.query(`SELECT status FROM subscribers WHERE lower(email) = 'reader.one@example.org'`))[0].status).toBe('active');

    // The unsubscribe link from an email: opening it changes nothing (link scanners), the button does.
    const subscriber = (await db.query(`SELECT id FROM subscribers WHERE lower(email) = 'reader.one@example.org'`))[0];
    const status = async () => (await db.query(`SELECT status FROM subscribers WHERE id = $1`, [subscriber.id]))[0].status;
    await page.goto(t.get(SubscribersService).unsubscribeUrl(subscriber.id));
    expect(await status()).toBe('active');
    await page.click(submit);
    await page.waitForSelector('h1');
    expect(await page.textContent('h1')).toBe('You have been unsubscribed');
    expect(await status()).toBe('unsubscribed');
    await page.close();
  });
});
