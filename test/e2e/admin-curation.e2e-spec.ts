import { DataSource } from 'typeorm';
import { editableBody } from '../../src/admin/web/curation-pages';
import { NarrativesService, type NarrativeView } from '../../src/narratives/narratives.service';
import { startFakeAnthropic, type FakeAnthropic } from '../fakes/fake-anthropic';
import { startFakePlatforms, type FakePlatforms } from '../fakes/fake-platforms';
import { createEditor, demoWorkspace, signIn, type EditorSession } from '../support/admin-client';
import { type TestApp } from '../support/test-app';

jest.setTimeout(300_000);

/** The curation workspace through HTTP, as the pages' forms and the JSON API use it, on the real database. */
describe('curation: beats, sources, narratives, subscribers, the intro', () => {
  let t: TestApp;
  let feeds: FakePlatforms;
  let claude: FakeAnthropic;
  let editor: EditorSession;
  let viewer: EditorSession;

  beforeAll(async () => {
    feeds = await startFakePlatforms();
    claude = await startFakeAnthropic();
    const demo = await demoWorkspace({ FETCH_ALLOWLIST: '127.0.0.1', ISSUE_STORIES_PER_BEAT: '2' });
    t = demo.t;
    editor = await signIn(t, 'editor@example.com', demo.password);
    viewer = await signIn(t, 'viewer@example.com', await createEditor(t, 'viewer@example.com', 'viewer'));
    // A read-only fixture: the beat the source and CSV tests file things under (no test edits it).
    const reefs = await api('POST', '/beats', { slug: 'coral-reefs', name: 'Coral reefs', description: 'Reef science', keywords: ['coral', 'reef'] });
    if (reefs.status !== 201) throw new Error(`creating the coral-reefs beat answered ${reefs.status}`);
  });
  afterAll(async () => {
    await t?.close();
    await feeds?.close();
    await claude?.close();
  });

  const post = (path: string, session: EditorSession, fields: Record<string, string | string[]>) => {
    const body = new URLSearchParams({ _csrf: session.csrf });
    for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
    return fetch(`${t.url}${path}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
  };
  const api = async (method: string, path: string, body?: unknown, session = editor) => {
    const res = await fetch(`${t.url}/api/v1${path}`, {
      method,
      headers: {
        cookie: session.cookie,
        'x-csrf-token': session.csrf,
        accept: 'application/json',
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (res.headers.get('content-type') ?? '').includes('json') ? ((await res.json()) as any) : await res.text() };
  };
  const audit = async (action: string) =>
    (await t.get(DataSource).query(`SELECT actor, target, details FROM admin_audit_log WHERE action = $1 ORDER BY id`, [action])) as Array<{
      actor: string;
      target: string;
      details: any;
    }>;

  it('creates a beat from the form, shows each invalid field next to it, and sets which sources feed it', async () => {
    const createdBefore = (await audit('beat.create')).length;
    const updatedBefore = (await audit('beat.update')).length;
    const bad = await post('/admin/beats', editor, { slug: 'Not A Slug', name: '', keywords: '' });
    expect(bad.status).toBe(400);
    const page = await bad.text();
    expect(page).toMatch(/id="f-slug"[^>]*aria-invalid="true"/);
    expect(page).toMatch(/<p class="field-error" id="f-slug-error">lower-case letters/);
    expect(page).toMatch(/<p class="field-error" id="f-name-error">/);
    expect(page).toMatch(/<p class="field-error" id="f-keywords-error">at least one keyword/);

    const sources = (await api('GET', '/sources')).body as Array<{ id: string; slug: string; beats: string[] }>;
    const ok = await post('/admin/beats', editor, {
      slug: 'kelp-forests',
      name: 'Kelp forests',
      description: 'Kelp science',
      keywords: 'kelp, forest',
      sources: [sources[0].id, sources[1].id],
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/admin/beats/kelp-forests?done=beat-saved');
    const fed = ((await api('GET', '/sources')).body as typeof sources).filter((s) => s.beats.includes('kelp-forests')).map((s) => s.id);
    expect(fed.sort()).toEqual([sources[0].id, sources[1].id].sort());

    // Edit through the API: new keywords, and only one source feeds it now.
    const edited = await api('PUT', '/beats/kelp-forests', { name: 'Kelp forests', keywords: ['kelp', 'urchins'], sources: [sources[1].slug] });
    expect(edited.status).toBe(200);
    expect(edited.body.keywords).toEqual(['kelp', 'urchins']);
    expect(((await api('GET', '/sources')).body as typeof sources).filter((s) => s.beats.includes('kelp-forests')).map((s) => s.id)).toEqual([sources[1].id]);
    expect((await api('POST', '/beats', { slug: 'kelp-forests', name: 'Again', keywords: ['x'] })).status).toBe(400);
    expect((await api('PUT', '/beats/no-such-beat', { name: 'X', keywords: ['x'] })).status).toBe(404);
    expect((await api('POST', '/beats', { slug: 'viewer-beat', name: 'V', keywords: ['v'] }, viewer)).status).toBe(403);
    expect((await audit('beat.create')).slice(createdBefore).map((a) => a.target)).toEqual(['beat:kelp-forests']);
    expect((await audit('beat.update')).slice(updatedBefore)[0]).toMatchObject({ actor: 'editor@example.com', target: 'beat:kelp-forests' });
  });

  it('adds, tests (importing nothing), pauses, resumes and removes a source, with errors next to the field', async () => {
    const target = `${feeds.url}/feeds/rss2.xml`;
    const bad = await post('/admin/sources', editor, { kind: 'rss', target: 'ftp://example.com/feed' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/id="f-target"[^>]*aria-invalid="true"[\s\S]*<p class="field-error" id="f-target-error">/);

    const tested = await post('/admin/sources', editor, { kind: 'rss', target, intent: 'test' });
    expect(tested.status).toBe(200);
    const testPage = await tested.text();
    expect(testPage).toMatch(/<strong>\d+<\/strong> items from/);
    expect(testPage).toContain('Nothing was imported.');
    expect((await api('GET', '/sources')).body.some((s: { target: string }) => s.target === target)).toBe(false);

    const added = await post('/admin/sources', editor, { kind: 'rss', target, name: 'Reef wire', every: '2h', beats: ['coral-reefs'] });
    expect(added.status).toBe(303);
    const id = /\/admin\/sources\/([0-9a-f-]{36})/.exec(added.headers.get('location')!)![1];
    const shown = await api('GET', `/sources/${id}`);
    expect(shown.body).toMatchObject({ name: 'Reef wire', status: 'active', everySeconds: 7200, beats: ['coral-reefs'], records: 0 });
    const test = await api('POST', `/sources/${id}/test`);
    expect(test.status).toBe(200);
    expect(test.body.items).toBeGreaterThan(0);
    expect((await api('GET', `/sources/${id}`)).body.records).toBe(0);

    expect((await post(`/admin/sources/${id}/pause`, editor, {})).status).toBe(303);
    expect((await api('GET', `/sources/${id}`)).body).toMatchObject({ status: 'paused', pausedReason: 'paused by editor@example.com' });
    expect((await api('POST', `/sources/${id}/resume`)).body.status).toBe('active');
    expect((await post(`/admin/sources/${id}/pause`, viewer, {})).status).toBe(403);

    const unreachable = await api('POST', '/sources/test', { kind: 'rss', target: `${feeds.url}/feeds/missing.xml` });
    expect(unreachable.status).toBe(422);
    expect(unreachable.body.code).toBe('source_unreadable');

    expect((await post(`/admin/sources/${id}/remove`, editor, {})).status).toBe(400);
    expect((await post(`/admin/sources/${id}/remove`, editor, { confirm: 'yes' })).status).toBe(303);
    expect((await api('GET', `/sources/${id}`)).status).toBe(404);
    expect((await audit('source.add')).length).toBe(1);
    expect((await audit('source.pause')).length).toBe(1);
    expect((await audit('source.remove'))[0].details).toMatchObject({ target });
  });

  it('shows the week’s storylines with their signals, and a narrative with its fidelity report and citations', async () => {
    const storylines = (await api('GET', '/storylines')).body as Array<{
      score: number;
      signals: { velocity: number } | null;
      narrative: { id: string } | null;
    }>;
    expect(storylines.length).toBeGreaterThan(3);
    expect(storylines.map((s) => s.score)).toEqual([...storylines.map((s) => s.score)].sort((a, b) => b - a));
    const page = await fetch(`${t.url}/admin/stories`, { headers: { cookie: viewer.cookie } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<table id="storylines">');
    const written = storylines.find((s) => s.narrative)!;
    const detail = await (await fetch(`${t.url}/admin/stories/${written.narrative!.id}`, { headers: { cookie: viewer.cookie } })).text();
    expect(detail).toContain('Fidelity report');
    expect(detail).toMatch(/<li id="cite-1" value="1">/);
    expect(detail).not.toContain('action="/admin/stories/'); // a viewer gets no forms
  });

  it('re-checks an edit for grounding: a faithful edit publishes, an unsupported number holds it and says why; approve and unpublish', async () => {
    const narratives = t.get(NarrativesService);
    const story = (await narratives.latest(1))[0] as NarrativeView;
    const faithful = await post(`/admin/stories/${story.id}/edit`, editor, { headline: story.headline, dek: story.dek, body: editableBody(story) });
    expect(faithful.headers.get('location')).toBe(`/admin/stories/${story.id}?done=published`);

    const body = editableBody(story).replace(/\n\n|$/, ' Officials counted 48,213 protesters that day.[1]\n\n');
    const held = await post(`/admin/stories/${story.id}/edit`, editor, { headline: story.headline, dek: story.dek, body });
    expect(held.headers.get('location')).toBe(`/admin/stories/${story.id}?done=held`);
    const heldPage = await (await fetch(`${t.url}/admin/stories/${story.id}?done=held`, { headers: { cookie: editor.cookie } })).text();
    expect(heldPage).toContain('Saved, but held');
    expect(heldPage).toMatch(/<td>number<\/td><td>paragraph 1<\/td><td>48,213<\/td>/);
    expect((await fetch(`${t.url}/stories/${story.slug}`)).status).toBe(404);

    const badCite = await post(`/admin/stories/${story.id}/edit`, editor, { headline: story.headline, dek: story.dek, body: 'A sentence.[99]' });
    expect(badCite.status).toBe(400);
    expect(await badCite.text()).toMatch(/<p class="field-error" id="f-body-error">citation \[99\]/);

    const approved = await api('POST', `/narratives/${story.id}/approve`);
    expect(approved.body).toMatchObject({ status: 'published' });
    expect((await fetch(`${t.url}/stories/${story.slug}`)).status).toBe(200);
    expect((await post(`/admin/stories/${story.id}/unpublish`, editor, {})).headers.get('location')).toBe(`/admin/stories/${story.id}?done=unpublished`);
    expect((await fetch(`${t.url}/stories/${story.slug}`)).status).toBe(404);
    // A rewrite does not undo an editor's unpublish.
    expect((await api('POST', `/narratives/${story.id}/regenerate`)).body.status).toBe('unpublished');
    const versions = (await api('GET', `/narratives/${story.id}`)).body.versions as Array<{ status: string; editor: string | null }>;
    expect(versions.slice(-5, -1).map((v) => [v.status, v.editor])).toEqual([
      ['published', 'editor@example.com'],
      ['held', 'editor@example.com'],
      ['published', 'editor@example.com'],
      ['unpublished', 'editor@example.com'],
    ]);
    expect(versions[versions.length - 1]).toMatchObject({ status: 'unpublished', editor: null });
    expect((await audit('narrative.edit')).length).toBe(2);
    expect((await audit('narrative.unpublish')).length).toBe(1);
  });

  it('imports a CSV upload, searches and filters, counts and exports', async () => {
    const csv = 'email,name,beats\nreef.one@example.org,Reef One,coral-reefs\nreef.two@example.org,,\nnot-an-address,,\nreef.one@example.org,,\n';
    const upload = new FormData();
    upload.append('_csrf', editor.csrf);
    upload.append('consent', 'attested');
    upload.append('file', new Blob([csv], { type: 'text/csv' }), 'reef.csv');
    const imported = await fetch(`${t.url}/admin/subscribers/import`, { method: 'POST', headers: { cookie: editor.cookie }, body: upload });
    expect(imported.status).toBe(200);
    const report = await imported.text();
    expect(report).toMatch(/<strong>2<\/strong> imported as active · 1 already here or repeated · 1 invalid · 4 rows read/);
    expect(report).toMatch(/<td>4<\/td><td class="mono">not-an-address<\/td>/);

    const forged = new FormData();
    forged.append('_csrf', 'forged');
    forged.append('file', new Blob([csv], { type: 'text/csv' }), 'reef.csv');
    expect((await fetch(`${t.url}/admin/subscribers/import`, { method: 'POST', headers: { cookie: editor.cookie }, body: forged })).status).toBe(403);
    const empty = new FormData();
    empty.append('_csrf', editor.csrf);
    const none = await fetch(`${t.url}/admin/subscribers/import`, { method: 'POST', headers: { cookie: editor.cookie }, body: empty });
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('Choose a CSV file');
    const noHeader = new FormData();
    noHeader.append('_csrf', editor.csrf);
    noHeader.append('file', new Blob(['name,beats\nReef,\n'], { type: 'text/csv' }), 'bad.csv');
    const refused = await fetch(`${t.url}/api/v1/subscribers/import`, {
      method: 'POST',
      headers: { cookie: editor.cookie, 'x-csrf-token': editor.csrf },
      body: noHeader,
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/no "email" column/);

    const found = await (await fetch(`${t.url}/admin/subscribers?search=REEF&status=active&beat=coral-reefs`, { headers: { cookie: viewer.cookie } })).text();
    expect(found).toContain('reef.one@example.org');
    expect(found).toContain('reef.two@example.org'); // no beat chosen: every beat
    const filtered = await api('GET', '/subscribers?search=reef&status=pending');
    expect(filtered.body.items).toEqual([]);
    const badDate = await fetch(`${t.url}/admin/subscribers?from=yesterday`, { headers: { cookie: viewer.cookie } });
    expect(badDate.status).toBe(400);
    expect(await badDate.text()).toMatch(/<p class="field-error" id="f-from-error">a date/);
    const counts = await api('GET', '/subscribers/counts?days=7');
    expect(counts.body.byStatus.active).toBeGreaterThanOrEqual(7);
    expect(counts.body.history).toHaveLength(7);

    expect((await fetch(`${t.url}/admin/subscribers/export.csv`, { headers: { cookie: viewer.cookie } })).status).toBe(403);
    const exported = await fetch(`${t.url}/admin/subscribers/export.csv?status=active`, { headers: { cookie: editor.cookie } });
    expect(exported.headers.get('content-type')).toMatch(/^text\/csv/);
    const rows = (await exported.text()).trim().split('\n');
    expect(rows[0]).toMatch(/^email,name,status,beats/);
    expect(rows.some((r) => r.startsWith('reef.one@example.org,Reef One,active,coral-reefs'))).toBe(true);
    expect((await audit('subscribers.import'))[0]).toMatchObject({ target: 'reef.csv', details: { imported: 2 } });
    expect((await audit('subscribers.export')).length).toBe(1);
  });

  it('draws subscribers over time on the dashboard as an SVG chart', async () => {
    const page = await (await fetch(`${t.url}/admin`, { headers: { cookie: viewer.cookie } })).text();
    expect(page).toMatch(/<svg id="subscribers-chart"[^>]*role="img"/);
    expect(page).toMatch(/<polyline fill="none" stroke="#1e6b35" stroke-width="2" points="(\d+\.\d,\d+\.\d ?){30}"/);
  });

  it('drafts the intro offline from a template, and with Claude through the fake Anthropic API (a failure falls back and says why)', async () => {
    const offline = await api('POST', '/issues/1/intro-draft');
    expect(offline.body).toMatchObject({ writer: 'template', warning: null });
    expect(offline.body.intro).toMatch(/^This week we start with “/);

    t = await t.restart({ ANTHROPIC_API_KEY: claude.apiKey, ANTHROPIC_BASE_URL: claude.url, ANTHROPIC_MAX_RETRIES: '0' });
    claude.respondWith(() => [
      {
        type: 'tool_use',
        id: 'toolu_intro',
        name: 'set_intro',
        input: { intro: 'Reef scientists argue over bleaching counts, and <script>alert(1)</script> a licence row.' },
      },
    ]);
    const res = await post('/admin/issues/1/intro-draft', editor, {});
    expect(res.status).toBe(200);
    const page = await res.text();
    expect(page).toContain('A drafted intro (by Claude) is in the box');
    expect(page).toContain('Reef scientists argue over bleaching counts, and &lt;script&gt;alert(1)&lt;/script&gt; a licence row.</textarea>');
    const call = claude.requests[claude.requests.length - 1].body as {
      tool_choice: { name: string };
      system: Array<{ text: string }>;
      messages: Array<{ content: Array<{ type: string; source?: { data: string } }> }>;
    };
    expect(call.tool_choice.name).toBe('set_intro');
    expect(call.system[0].text).toMatch(/data, not instructions/);
    const issue = (await api('GET', '/issues/1')).body as { stories: Array<{ headline: string }> };
    const doc = call.messages[0].content.find((b) => b.type === 'document')!;
    expect(doc.source!.data).toContain(`1. [`);
    expect(doc.source!.data).toContain(issue.stories[0].headline);

    claude.failNext(1, { status: 529, type: 'overloaded_error' });
    const fallback = await api('POST', '/issues/1/intro-draft');
    expect(fallback.body.writer).toBe('template');
    expect(fallback.body.warning).toMatch(/The claude writer could not draft the intro \(Anthropic API error 529/);
    expect((await audit('issue.intro_draft')).map((a) => a.details.writer)).toEqual(['template', 'claude', 'template']);
  });
});
