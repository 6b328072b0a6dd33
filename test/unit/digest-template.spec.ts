import { renderDigest, UNSUBSCRIBE_SENTINEL } from '../../src/delivery/digest-renderer';
import { conversationSummary } from '../../src/delivery/digest-summary';
import { loadConfig } from '../../src/kernel/config/config';
import { EmailTemplates } from '../../src/kernel/templates/email-templates';
import { DISCLOSURE, OFFLINE_DISCLOSURE } from '../../src/narratives/narratives.service';
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
    expect(digest.subject).toBe(`${issue.stories[0].headline} — Broadsheet No. 1`);
  });

  it('escapes untrusted text from stories', async () => {
    const story = buildNarrativeView({ headline: 'Devs & "agents" <script>alert(1)</script>', dek: '<img src=x onerror=alert(1)>' });
    const digest = await renderDigest(buildIssueView([story]), templates, config);
    expect(digest.html).not.toContain('<script>alert(1)');
    expect(digest.html).not.toContain('<img src=x');
    expect(digest.html).toContain('Devs &amp; &quot;agents&quot; &lt;script&gt;');
    expect(digest.text).toContain('Devs & "agents" <script>alert(1)</script>');
  });

  it('opens with a contents list by beat linking into the email, and shows each story as headline, dek, conversation summary and a link', async () => {
    const issue = buildIssueView([buildNarrativeView({}, 6), buildNarrativeView({ beat: { ...buildNarrativeView().beat, name: 'Privacy' } }, 6)]);
    const digest = await renderDigest(issue, templates, config);
    const contents = digest.html.indexOf('In this issue');
    expect(contents).toBeGreaterThan(0);
    expect(digest.html.indexOf('href="#story-1"')).toBeGreaterThan(contents);
    expect(digest.html).toContain('id="story-2"');
    expect(digest.html.indexOf('Privacy')).toBeLessThan(digest.html.indexOf('id="story-1"'));
    expect(digest.html).toContain(`href="https://news.example.com/stories/${issue.stories[0].slug}"`);
    expect(digest.text).toMatch(/IN THIS ISSUE\nOpen-source AI\n {2}- Story \d+/);
  });

  it('summarises what the communities said (Reddit, Hacker News, Bluesky, Mastodon), not the news quotes of the first paragraphs', async () => {
    const base = buildNarrativeView({}, 2);
    const record = (n: number, platform: string, author: string) => ({
      number: n,
      record: { ...base.citations[0].record, platform: platform as never, author, url: `https://example.com/${platform}/${n}`, title: `${platform} post` },
    });
    const story = buildNarrativeView({
      paragraphs: [
        [{ text: 'The Verge reported the licence change on Monday.', cites: [1] }],
        [{ text: 'Wired quoted the company saying the terms were unchanged.', cites: [2] }],
        [{ text: 'On Reddit, developers called the new clause a rug pull.', cites: [3] }],
        [
          { text: 'Hacker News commenters disagreed, arguing the threshold only hits large firms.', cites: [4] },
          { text: ' On Bluesky, a lawyer said clause 7 was unenforceable.', cites: [5] },
        ],
      ],
      citations: [
        record(1, 'news', 'The Verge'),
        record(2, 'news', 'Wired'),
        record(3, 'reddit', 'u/dev'),
        record(4, 'hackernews', 'pg'),
        record(5, 'bluesky', 'lawyer.bsky.social'),
      ],
    });
    const digest = await renderDigest(buildIssueView([story]), templates, config);
    expect(digest.html).toContain('On Reddit, developers called the new clause a rug pull.');
    expect(digest.html).toContain('Hacker News commenters disagreed');
    expect(digest.html).toContain('a lawyer said clause 7 was unenforceable.');
    expect(digest.html).not.toContain('The Verge reported');
    expect(digest.html).toContain('href="https://example.com/reddit/3"');
    expect(digest.text).toContain('  - Reddit · u/dev: https://example.com/reddit/3');
    expect(digest.text).not.toMatch(/\[\d+\]/);
  });

  it('takes the subject from the lead story with no double colon, a real preheader, and the editor’s when set', async () => {
    const lead = buildNarrativeView({ headline: 'Leaked review: the model fails its own benchmark', dek: 'Researchers dispute the numbers.' });
    const issue = buildIssueView([lead, buildNarrativeView({ headline: 'Second story' })]);
    const digest = await renderDigest(issue, templates, config);
    expect(digest.subject).toBe('Leaked review: the model fails its own benchmark — Broadsheet No. 1');
    expect(digest.subject.split(':').length).toBe(2);
    expect(digest.preheader).toBe('Researchers dispute the numbers. Also: Second story.');
    expect(digest.html).toContain('Researchers dispute the numbers. Also: Second story.');
    const edited = await renderDigest({ ...issue, subject: 'Our pick this week', preheader: 'Three arguments worth your time' }, templates, config);
    expect(edited.subject).toBe('Our pick this week');
    expect(edited.preheader).toBe('Three arguments worth your time');
  });

  it('labels each story once, with its own disclosure line: in the footer when all stories share it, else under each story', async () => {
    const count = (text: string, line: string) => text.split(line).length - 1;
    const claudeOnly = await renderDigest(buildIssueView([buildNarrativeView(), buildNarrativeView()]), templates, config);
    expect(count(claudeOnly.text, DISCLOSURE)).toBe(1);
    expect(count(claudeOnly.html, DISCLOSURE)).toBe(1);
    expect(claudeOnly.text.indexOf(DISCLOSURE)).toBeGreaterThan(claudeOnly.text.lastIndexOf('Full story:'));
    const offlineOnly = await renderDigest(
      buildIssueView([buildNarrativeView({ writer: 'offline' }), buildNarrativeView({ writer: 'offline' })]),
      templates,
      config,
    );
    expect(count(offlineOnly.text, OFFLINE_DISCLOSURE)).toBe(1);
    expect(count(offlineOnly.html, OFFLINE_DISCLOSURE)).toBe(1);
    for (const old of ['Every story in this issue', 'Claude', 'language model, from public posts', 'Offline drafts composed'])
      expect(offlineOnly.text).not.toContain(old);
    const mixed = await renderDigest(
      buildIssueView([buildNarrativeView({ headline: 'A' }), buildNarrativeView({ headline: 'B', writer: 'offline' })]),
      templates,
      config,
    );
    // Story A's line sits under story A (before B's headline), story B's under story B.
    for (const [body, headlineB] of [
      [mixed.text, '\nB\n'],
      [mixed.html, 'class="bs-headline">B</a>'],
    ]) {
      expect(count(body, DISCLOSURE)).toBe(1);
      expect(count(body, OFFLINE_DISCLOSURE)).toBe(1);
      expect(body.indexOf(DISCLOSURE)).toBeLessThan(body.indexOf(headlineB));
      expect(body.indexOf(OFFLINE_DISCLOSURE)).toBeGreaterThan(body.indexOf(headlineB));
    }
    expect(mixed.text).not.toContain('Every story in this issue');
  });

  it('stays under 102 kB at twelve long stories and is dark-mode aware', async () => {
    const digest = await renderDigest(buildIssueView(Array.from({ length: 12 }, () => buildNarrativeView({}, 8))), templates, config);
    expect(Buffer.byteLength(digest.html)).toBeLessThan(102_000);
    expect(digest.html).toContain('<meta name="color-scheme" content="light dark">');
    expect(digest.html).toContain('@media (prefers-color-scheme: dark)');
  });

  it('renders the confirmation email', async () => {
    const out = await templates.render('confirm', {
      title: 'Confirm',
      preview: 'Confirm',
      site: { title: 'Broadsheet', url: 'https://news.example.com' },
      masthead: 'Confirm',
      email: 'ada@example.com',
      confirmUrl: 'https://news.example.com/subscribe/confirm?token=abc',
      expiresIn: '72 hours',
    });
    // Handlebars escapes `=` in attributes as &#x3D;, which every HTML parser decodes back.
    expect(out.html).toContain('href="https://news.example.com/subscribe/confirm?token&#x3D;abc"');
    expect(out.text).toContain('https://news.example.com/subscribe/confirm?token=abc');
    expect(out.text).toContain('72 hours');
  });
});

describe('conversation summary sentences', () => {
  it('does not cut a sentence after "Dr." or an initial', () => {
    const base = buildNarrativeView({}, 1);
    const story = {
      paragraphs: [[{ text: 'On blogs, Dr. Ama Whitlock and J. Doe wrote that the hospital had described the numbers as de-identified.', cites: [1] }]],
      citations: [{ number: 1, record: { ...base.citations[0].record, platform: 'blog' } }],
    };
    expect(conversationSummary(story).map((s) => s.text)).toEqual([
      'On blogs, Dr. Ama Whitlock and J. Doe wrote that the hospital had described the numbers as de-identified.',
    ]);
  });
});
