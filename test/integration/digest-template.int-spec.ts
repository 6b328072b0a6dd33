import { renderDigest, UNSUBSCRIBE_SENTINEL } from '../../src/delivery/digest-renderer';
import { loadConfig } from '../../src/kernel/config/config';
import { EmailTemplates } from '../../src/kernel/templates/email-templates';
import { buildIssueView, buildNarrativeView } from '../factories/narrative.factory';

/** The real MJML templates, compiled in strict mode. */
describe('digest template', () => {
  const config = loadConfig({ PUBLIC_URL: 'https://news.example.com' });
  const templates = new EmailTemplates();

  it('renders nine long stories far below Gmail’s 102 kB clip, with a text part and the unsubscribe sentinel', async () => {
    const issue = buildIssueView(Array.from({ length: 9 }, () => buildNarrativeView({}, 8)));
    const digest = await renderDigest(issue, templates, config);
    expect(Buffer.byteLength(digest.html)).toBeLessThan(80_000);
    expect(digest.html).toContain(`href="${UNSUBSCRIBE_SENTINEL}"`);
    expect(digest.text).toContain(`Unsubscribe: ${UNSUBSCRIBE_SENTINEL}`);
    expect(digest.text).toContain(issue.stories[8].headline);
    expect(digest.html).toContain('https://news.example.com/stories/');
    expect(digest.html).toContain('#cite-1');
    expect(digest.subject).toBe(`Broadsheet #1: ${issue.stories[0].headline}`);
  });

  it('escapes untrusted text from stories', async () => {
    const story = buildNarrativeView({ headline: 'Devs & "agents" <script>alert(1)</script>', dek: '<img src=x onerror=alert(1)>' });
    const digest = await renderDigest(buildIssueView([story]), templates, config);
    expect(digest.html).not.toContain('<script>alert(1)');
    expect(digest.html).not.toContain('<img src=x');
    expect(digest.html).toContain('Devs &amp; &quot;agents&quot; &lt;script&gt;');
    expect(digest.text).toContain('Devs & "agents" <script>alert(1)</script>');
  });

  it('renders the confirmation email', async () => {
    const out = await templates.render('confirm', {
      title: 'Confirm', preview: 'Confirm', site: { title: 'Broadsheet', url: 'https://news.example.com' }, masthead: 'Confirm',
      email: 'ada@example.com', confirmUrl: 'https://news.example.com/subscribe/confirm?token=abc',
    });
    // Handlebars escapes `=` in attributes as &#x3D;, which every HTML parser decodes back.
    expect(out.html).toContain('href="https://news.example.com/subscribe/confirm?token&#x3D;abc"');
    expect(out.text).toContain('Confirm your subscription: https://news.example.com/subscribe/confirm?token=abc');
  });
});
