import { type AppConfig } from '../../kernel/config/config';

/**
 * The shapes the pages and feeds render: the narrow part of NarrativesService's and IssuesService's views that
 * this module reads, so renderers and builders are pure and testable without the database.
 */
export interface SiteInfo {
  title: string;
  description: string;
  /** Absolute base of every link in feeds, without a trailing slash. */
  publicUrl: string;
  /** The beats, for the navigation (pages only). */
  beats?: BeatSummary[];
  /**
   * SUBSCRIBE_CHALLENGE=pow (pages only): the sign-up panel carries the proof-of-work script like /subscribe. The
   * page holds no challenge itself (the script fetches a fresh one on submit), so one cached page serves everyone.
   */
  signupChallenge?: boolean;
}

/** What pages and feeds say about the site, from config (read per call: tests repoint publicUrl after boot). */
export function siteInfo(config: AppConfig): SiteInfo {
  return { title: config.site.title, description: config.site.description, publicUrl: config.server.publicUrl };
}

export interface CitedRecord {
  url: string;
  title: string;
  author: string;
  platform: string;
  text: string;
  publishedAt: Date;
}

export interface StoryView {
  slug: string;
  headline: string;
  dek: string;
  /** Runs of text, each followed by its citation numbers. */
  paragraphs: ReadonlyArray<ReadonlyArray<{ text: string; cites: readonly number[] }>>;
  writer: string;
  publishedAt: Date | null;
  updatedAt: Date;
  beat: { slug: string; name: string; description: string };
  citations: ReadonlyArray<{ number: number; record: CitedRecord }>;
  disclosure: string;
}

export interface IssueSummary {
  number: number;
  title: string;
  intro: string;
  weekStart: Date;
  weekEnd: Date;
  publishedAt: Date | null;
  updatedAt: Date;
}

export interface IssueWithStories extends IssueSummary {
  stories: StoryView[];
}

export interface BeatSummary {
  slug: string;
  name: string;
  description: string;
}

/** Where links point: relative paths on the site, absolute URLs in feeds. */
export interface Links {
  home(): string;
  story(slug: string): string;
  issue(number: number): string;
  beat(slug: string): string;
}

export function relativeLinks(): Links {
  return {
    home: () => '/',
    story: (slug) => `/stories/${encodeURIComponent(slug)}`,
    issue: (number) => `/issues/${number}`,
    beat: (slug) => `/beats/${encodeURIComponent(slug)}`,
  };
}

export function absoluteLinks(publicUrl: string): Links {
  const relative = relativeLinks();
  return {
    home: () => `${publicUrl}/`,
    story: (slug) => publicUrl + relative.story(slug),
    issue: (number) => publicUrl + relative.issue(number),
    beat: (slug) => publicUrl + relative.beat(slug),
  };
}
