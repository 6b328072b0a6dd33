import { type IssueEditorView, type IssueSummary, type IssueView } from '../../issues/issues.service';
import { type NarrativeView } from '../../narratives/narratives.service';

/** JSON shapes of the editor API (stable; extend, don't rename). */
export function storyJson(s: NarrativeView) {
  return {
    id: s.id,
    slug: s.slug,
    headline: s.headline,
    dek: s.dek,
    beat: s.beat.slug,
    status: s.status,
    fidelity: s.fidelity,
    writer: s.writer,
    citations: s.citations.length,
    publishedAt: s.publishedAt,
  };
}

export function issueJson(i: IssueSummary) {
  return {
    id: i.id,
    number: i.number,
    title: i.title,
    status: i.status,
    weekStart: i.weekStart,
    weekEnd: i.weekEnd,
    intro: i.intro,
    subject: i.subject,
    preheader: i.preheader,
    approvedAt: i.approvedAt,
    publishedAt: i.publishedAt,
    updatedAt: i.updatedAt,
  };
}

export function issueViewJson(i: IssueView) {
  return { ...issueJson(i), stories: i.stories.map(storyJson) };
}

export function editorJson(v: IssueEditorView) {
  return { ...issueViewJson(v.issue), candidates: v.candidates.map(storyJson) };
}
