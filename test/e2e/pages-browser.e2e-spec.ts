import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser } from 'playwright-core';
import { runDemoIfEmpty } from '../../src/bootstrap';
import { renderDigest } from '../../src/delivery/digest-renderer';
import { IssuesService } from '../../src/issues/issues.service';
import { EmailTemplates } from '../../src/kernel/templates/email-templates';
import { NarrativesService } from '../../src/narratives/narratives.service';
import { launchChromium } from '../support/browser';
import { startTestApp, type TestApp } from '../support/test-app';

/** Screenshots go to test-results/ (git-ignored) for a person to look at; the assertions are axe's and layout's. */
const SHOTS = join(__dirname, '..', '..', 'test-results');
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  nodes: Array<{ target: string[] }>;
}

describe('pages and the digest in Chromium', () => {
  let t: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    t = await startTestApp();
    expect(await runDemoIfEmpty(t.app, t.config)).toBe(true);
    browser = await launchChromium();
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  async function pages(): Promise<Array<[string, string]>> {
    const [story] = await t.get(NarrativesService).latest(1);
    return [
      ['home', '/'],
      ['story', `/stories/${story.slug}`],
      ['beat', `/beats/${story.beat.slug}`],
      ['issues', '/issues'],
      ['issue', '/issues/1'],
      ['not-found', '/stories/no-such-story'],
      ['search', `/search?q=${encodeURIComponent(story.headline.split(' ').slice(0, 2).join(' '))}`],
    ];
  }

  it.each([
    ['desktop', 1280],
    ['phone', 390],
  ])(
    'every page at %s width: no horizontal scroll, no serious or critical axe violation',
    async (name, width) => {
      // bypassCSP only so that axe can be injected; the pages themselves run no script.
      const context = await browser.newContext({ viewport: { width, height: 900 }, bypassCSP: true, javaScriptEnabled: true });
      const page = await context.newPage();
      for (const [label, path] of await pages()) {
        const res = await page.goto(`${t.url}${path}`);
        expect(res?.status()).toBe(label === 'not-found' ? 404 : 200);
        await page.screenshot({ path: join(SHOTS, `page-${label}-${name}.png`), fullPage: true });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect({ label, overflow }).toEqual({ label, overflow: 0 });
        await page.evaluate(AXE);
        const violations = await page.evaluate(async () => {
          const result = await (window as unknown as { axe: { run: (o: object) => Promise<{ violations: AxeViolation[] }> } }).axe.run({
            resultTypes: ['violations'],
          });
          return result.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => ({ target: n.target })) }));
        });
        expect({ label, serious: violations.filter((v) => v.impact === 'serious' || v.impact === 'critical') }).toEqual({ label, serious: [] });
      }
      await context.close();
    },
    120_000,
  );

  it.each([
    ['600', 600],
    ['390', 390],
  ])(
    'the demo digest at %s px, light and dark, fits without horizontal scroll',
    async (name, width) => {
      const issue = (await t.get(IssuesService).listPublicWithStories(1))[0];
      const digest = await renderDigest(issue, new EmailTemplates(), t.config);
      const context = await browser.newContext({ viewport: { width, height: 900 }, javaScriptEnabled: false });
      const page = await context.newPage();
      await page.setContent(digest.html);
      await page.screenshot({ path: join(SHOTS, `digest-${name}.png`), fullPage: true });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBe(0);
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: join(SHOTS, `digest-${name}-dark.png`), fullPage: true });
      const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      expect(background).toBe('rgb(20, 18, 15)');
      expect(height).toBeGreaterThan(500);
      await context.close();
    },
    120_000,
  );
});
