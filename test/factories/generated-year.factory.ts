import { randomUUID } from 'node:crypto';
import { type DataSource } from 'typeorm';

/** What feeds and pages must carry intact and inert: markup, entities, quotes, CDATA ends, controls, emoji, RTL. */
export const HOSTILE = `Devs & "agents" <weekly> ]]> it's <script>alert(1)</script> \u0007\u001b 🎉🧪 שלום עולם مرحبا &amp; &nbsp;`;
/** The same text as XML can carry it: the C0 controls dropped (XML 1.0 has no way to write them). */
export const HOSTILE_IN_XML = HOSTILE.replace(/[\u0007\u001b]/g, '');

export interface GeneratedYear {
  beats: Array<{ slug: string; name: string }>;
  stories: number;
  issues: number;
  /** Slug of a story whose headline, dek and text carry HOSTILE. */
  hostileSlug: string;
  /** A word that appears in every story's text, nowhere else in the demo. */
  commonWord: string;
}

/**
 * Writes a year of published content straight into the tables, set-based (one statement per table): `weeks` weekly
 * issues of `perWeek` stories over three beats, two cited records each, hostile text in every third story. For feed
 * validity runs, pagination and search; the shapes are what the pipeline writes.
 */
export async function seedGeneratedYear(db: DataSource, options: { weeks?: number; perWeek?: number; start?: Date } = {}): Promise<GeneratedYear> {
  const weeks = options.weeks ?? 52;
  const perWeek = options.perWeek ?? 6;
  const start = options.start ?? new Date('2025-11-24T00:00:00Z');
  const commonWord = 'quillwort';
  const beats = [
    { id: randomUUID(), slug: 'gen-open-models', name: 'Open models & "weights"', description: `Open models <and> licences ${HOSTILE}` },
    { id: randomUUID(), slug: 'gen-chips', name: 'Chips', description: 'Silicon.' },
    { id: randomUUID(), slug: 'gen-policy', name: 'Policy ✦ سياسة', description: 'Rules.' },
  ];
  const sourceId = randomUUID();
  const records: Array<Record<string, unknown>> = [];
  const storylines: Array<Record<string, unknown>> = [];
  const narratives: Array<Record<string, unknown>> = [];
  const citations: Array<Record<string, unknown>> = [];
  const issues: Array<Record<string, unknown>> = [];
  const entries: Array<Record<string, unknown>> = [];
  let hostileSlug = '';
  for (let w = 0; w < weeks; w++) {
    const weekStart = new Date(start.getTime() + w * 7 * 86_400_000);
    const weekEnd = new Date(weekStart.getTime() + 7 * 86_400_000);
    const issueId = randomUUID();
    issues.push({
      id: issueId,
      number: w + 1,
      week_start: weekStart,
      week_end: weekEnd,
      title: `Week ${w + 1}: ${w % 4 === 0 ? HOSTILE : 'the week in discourse'}`,
      intro: `Intro of week ${w + 1}. ${w % 4 === 0 ? HOSTILE : ''}`,
      status: 'sent',
      approved_at: weekEnd,
      published_at: weekEnd,
    });
    for (let s = 0; s < perWeek; s++) {
      const n = w * perWeek + s;
      const beat = beats[n % beats.length];
      const hostile = n % 3 === 0;
      const slug = `gen-story-${n + 1}`;
      if (hostile && !hostileSlug) hostileSlug = slug;
      const publishedAt = new Date(weekStart.getTime() + (s + 1) * 3_600_000 * 20);
      const recordIds = [randomUUID(), randomUUID()];
      recordIds.forEach((id, i) =>
        records.push({
          id,
          source_id: sourceId,
          platform: i === 0 ? 'reddit' : 'mastodon',
          external_id: `${slug}-${i}`,
          url: `https://example.org/${slug}/${i}?a=1&b="2"`,
          canonical_url: `https://example.org/${slug}/${i}`,
          title: hostile ? `Post ${i} ${HOSTILE}` : `Post ${i}`,
          author: hostile ? `@rtl_שלום & "co" <x>` : `@author${i}`,
          text: `Record ${i} of ${slug}. ${hostile ? HOSTILE : ''}`,
          published_at: publishedAt,
        }),
      );
      const storylineId = randomUUID();
      storylines.push({
        id: storylineId,
        beat_id: beat.id,
        window_start: weekStart,
        window_end: weekEnd,
        key: slug,
        label: slug,
        record_count: 2,
        platform_count: 2,
        score: perWeek - s,
        membership_hash: slug,
      });
      const id = randomUUID();
      narratives.push({
        id,
        storyline_id: storylineId,
        beat_id: beat.id,
        slug,
        status: 'published',
        headline: hostile ? `Story ${n + 1}: ${HOSTILE}` : `Story ${n + 1} about ${beat.slug} in week ${w + 1}`,
        dek: hostile ? `Dek ${HOSTILE}` : `What people said in week ${w + 1}.`,
        paragraphs: [
          [
            { text: `People on Reddit discussed the ${commonWord} question in week ${w + 1}`, cites: [1] },
            { text: hostile ? `, and wrote ${HOSTILE}.` : '.', cites: [2] },
          ],
          [{ text: `A second paragraph about story ${n + 1} and what Mastodon said.`, cites: [2] }],
        ],
        writer: n % 2 ? 'offline' : 'claude',
        model: n % 2 ? null : 'claude-test',
        fidelity: 1,
        fidelity_report: { checks: 0, failed: [] },
        version: 1,
        membership_hash: slug,
        published_at: publishedAt,
        created_at: publishedAt,
        updated_at: publishedAt,
      });
      citations.push({ narrative_id: id, number: 1, record_id: recordIds[0] }, { narrative_id: id, number: 2, record_id: recordIds[1] });
      entries.push({ issue_id: issueId, narrative_id: id, position: s });
    }
  }
  const insert = async (table: string, rows: Array<Record<string, unknown>>, columns: string) => {
    for (let i = 0; i < rows.length; i += 500) {
      const names = columns
        .split(',')
        .map((c) => c.trim().split(' ')[0])
        .join(', ');
      await db.query(`INSERT INTO ${table} (${names}) SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS x(${columns})`, [
        JSON.stringify(rows.slice(i, i + 500)),
      ]);
    }
  };
  await insert('beats', beats, 'id uuid, slug text, name text, description text');
  await db.query(
    `INSERT INTO sources (id, slug, name, platform, kind, location) VALUES ($1, 'gen-source', 'Generated & "co"', 'reddit', 'rss', 'https://example.org/feed')`,
    [sourceId],
  );
  await insert(
    'discourse_records',
    records,
    'id uuid, source_id uuid, platform text, external_id text, url text, canonical_url text, title text, author text, text text, published_at timestamptz',
  );
  await insert(
    'storylines',
    storylines,
    'id uuid, beat_id uuid, window_start timestamptz, window_end timestamptz, key text, label text, record_count int, platform_count int, score float8, membership_hash text',
  );
  await insert(
    'narratives',
    narratives,
    'id uuid, storyline_id uuid, beat_id uuid, slug text, status text, headline text, dek text, paragraphs jsonb, writer text, model text, fidelity float8, fidelity_report jsonb, version int, membership_hash text, published_at timestamptz, created_at timestamptz, updated_at timestamptz',
  );
  await insert('narrative_citations', citations, 'narrative_id uuid, number int, record_id uuid');
  await insert(
    'issues',
    issues,
    'id uuid, number int, week_start timestamptz, week_end timestamptz, title text, intro text, status text, approved_at timestamptz, published_at timestamptz',
  );
  await insert('issue_entries', entries, 'issue_id uuid, narrative_id uuid, position int');
  return { beats: beats.map((b) => ({ slug: b.slug, name: b.name })), stories: narratives.length, issues: issues.length, hostileSlug, commonWord };
}
