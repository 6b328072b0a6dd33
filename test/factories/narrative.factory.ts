import { randomUUID } from 'node:crypto';
import { type IssueView } from '../../src/issues/issues.service';
import { IssueStatus } from '../../src/issues/issue.entity';
import { NarrativeStatus } from '../../src/narratives/narrative.entity';
import { DISCLOSURE, OFFLINE_DISCLOSURE, type NarrativeView } from '../../src/narratives/narratives.service';
import { Platform } from '../../src/sources/source.entity';

let counter = 0;

/** A published narrative view with `paragraphs` paragraphs of realistic length and one citation per sentence. */
export function buildNarrativeView(over: Partial<NarrativeView> = {}, paragraphs = 5): NarrativeView {
  const n = ++counter;
  const id = randomUUID();
  const citations = Array.from({ length: paragraphs * 2 }, (_, i) => ({
    number: i + 1,
    record: {
      id: randomUUID(),
      platform: Platform.Reddit as string,
      url: `https://www.reddit.com/r/LocalModels/comments/${n}${i}/`,
      title: `Post ${i}`,
      author: `/u/reader${i}`,
      outlet: null,
      text: `Record ${i} text.`,
      publishedAt: new Date('2026-11-17T10:00:00Z'),
    },
  }));
  return {
    id,
    storylineId: randomUUID(),
    beatId: randomUUID(),
    slug: `story-${n}`,
    status: NarrativeStatus.Published,
    headline: `Story ${n}: the Larchmont-70B licence argument`,
    dek: 'Developers argue about what “open” means.',
    paragraphs: Array.from({ length: paragraphs }, (_, p) => [
      {
        text: `Paragraph ${p + 1} opens with a sentence that describes what people on Reddit and Hacker News said about the licence, at some length, as a real narrative would`,
        cites: [p * 2 + 1],
      },
      { text: `, and a second clause that adds what a critic on Bluesky wrote about clause 7 and its revenue threshold.`, cites: [p * 2 + 2] },
    ]),
    writer: 'claude',
    model: 'claude-sonnet-5-5',
    fidelity: 0.95,
    fidelityReport: { checks: 10, failed: [] },
    version: 1,
    publishedAt: new Date('2026-11-18T12:00:00Z'),
    createdAt: new Date(),
    updatedAt: new Date('2026-11-18T12:00:00Z'),
    beat: { id: randomUUID(), slug: 'open-source-ai', name: 'Open-source AI', description: 'Open models.', keywords: [], updatedAt: new Date() },
    citations,
    disclosure: over.writer === 'offline' ? OFFLINE_DISCLOSURE : DISCLOSURE,
    continues: null,
    ...over,
  };
}

export function buildIssueView(stories: NarrativeView[], over: Partial<IssueView> = {}): IssueView {
  return {
    id: randomUUID(),
    number: 1,
    weekStart: new Date('2026-11-16T00:00:00Z'),
    weekEnd: new Date('2026-11-23T00:00:00Z'),
    title: 'The week of 16–22 November 2026',
    intro: 'This week: stories.',
    subject: null,
    preheader: null,
    status: IssueStatus.Approved,
    approvedAt: new Date(),
    publishedAt: new Date(),
    createdAt: new Date(),
    updatedAt: new Date(),
    stories,
    ...over,
  };
}
