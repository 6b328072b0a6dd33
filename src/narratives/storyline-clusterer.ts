import { createHash } from 'node:crypto';
import { addInto, cosine, normalise, tfidf, tokenize, type Vector } from './text-analysis';

export interface ClusterInput {
  id: string;
  platform: string;
  publishedAt: Date;
  text: string;
  /** The record's title (weighted double: titles name the story). */
  title?: string;
  author?: string;
  /** Points, likes, replies… when the platform gives them. */
  engagement?: number;
}

/** What a storyline's rank is made of. */
export interface StorylineSignals {
  volume: number;
  /** Records per day in the storyline's busiest 24 hours against the beat's average per day. */
  velocity: number;
  platforms: number;
  authors: number;
  engagement: number;
  keyPhrases: string[];
  entities: string[];
}

export interface Cluster {
  /** Stable identity: the earliest member's id. */
  key: string;
  recordIds: string[];
  label: string;
  platformCount: number;
  score: number;
  membershipHash: string;
  signals?: StorylineSignals;
}

export interface ClusterOptions {
  /** The window being clustered (for the beat's baseline rate). */
  window?: { start: Date; end: Date };
  /** Optional embeddings (same order as the records), mixed half and half with the lexical similarity. */
  embeddings?: number[][];
  /** Cosine similarity to a storyline's centroid needed to join it. */
  joinThreshold?: number;
  /** Cosine similarity between two centroids needed to merge them. */
  mergeThreshold?: number;
  minRecords: number;
}

/**
 * A storyline's signal: volume, spread across platforms (each extra platform is worth half the storyline again),
 * independent authors, velocity against the beat's baseline rate, and engagement against the beat's baseline (the
 * storyline's engagement per record over the beat's).
 */
export function storylineScore(
  recordCount: number,
  platformCount: number,
  extra: { authors?: number; velocity?: number; engagement?: number; engagementBaseline?: number } = {},
): number {
  const base = recordCount * (1 + 0.5 * Math.max(0, platformCount - 1));
  // Independent voices: a storyline of one prolific author counts for less than one of many.
  const authors = extra.authors === undefined ? 1 : 0.5 + 0.5 * Math.min(1, extra.authors / Math.max(1, recordCount));
  // Velocity against the beat's baseline: a burst well above the usual rate ranks higher.
  const velocity = 1 + 0.25 * Math.log2(Math.max(1, extra.velocity ?? 1));
  // Engagement per record against the beat's: twice the beat's usual attention is worth a third more, none is worth nothing extra.
  const perRecord = Math.max(0, extra.engagement ?? 0) / Math.max(1, recordCount);
  const baseline = extra.engagementBaseline ?? 0;
  const engagement = 1 + 0.2 * Math.log2(1 + (baseline > 0 ? perRecord / baseline : perRecord > 0 ? 1 : 0));
  return Math.round(base * authors * velocity * engagement * 1000) / 1000;
}

/** Capitalised multi-word names and model-like tokens ("Quillfeather Labs", "Larchmont-70B"): strong clustering cues. */
export function entitiesOf(text: string): string[] {
  const found = text.match(/(?<![\p{L}\p{N}])\p{Lu}[\p{L}\p{N}-]*(?:\s+\p{Lu}[\p{L}\p{N}-]*)+|\b\p{L}+-?\d+[\p{L}\d.]*\b/gu) ?? [];
  return [...new Set(found.map((e) => e.toLowerCase()).filter((e) => e.length > 3 && !/^(the|on|in|this|that|a)\s/.test(e)))];
}

/** Two-word phrases without stopwords: key phrases for labels and for linking weeks. */
function bigrams(tokens: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < tokens.length; i++) out.push(`${tokens[i]} ${tokens[i + 1]}`);
  return out;
}

function featuresOf(record: ClusterInput): string[] {
  const tokens = tokenize(record.text);
  const title = record.title ? tokenize(record.title) : [];
  return [...tokens, ...title, ...entitiesOf(`${record.title ?? ''}\n${record.text}`).map((e) => `§${e}`), ...bigrams(tokens).slice(0, 40)];
}

export function membershipHash(ids: string[]): string {
  return createHash('sha256')
    .update([...ids].sort().join(','))
    .digest('hex')
    .slice(0, 32);
}

/**
 * Groups records into storylines by lexical similarity: single-pass assignment to the nearest centroid in
 * time order, then merging of near-duplicate clusters. Deterministic for a given input.
 */
export function clusterRecords(records: ClusterInput[], options: ClusterOptions): Cluster[] {
  const join = options.joinThreshold ?? 0.12;
  const merge = options.mergeThreshold ?? 0.25;
  const ordered = [...records].sort((a, b) => a.publishedAt.getTime() - b.publishedAt.getTime() || (a.id < b.id ? -1 : 1));
  const vectors = tfidf(ordered.map(featuresOf));
  const embeddingOf = options.embeddings ? new Map(records.map((r, i) => [r.id, options.embeddings![i]])) : null;
  const dense = (i: number) => embeddingOf?.get(ordered[i].id) ?? null;

  let clusters: Array<{ members: number[]; sum: Vector; centroid: Vector }> = [];
  const similarity = (index: number, cluster: { members: number[]; centroid: Vector }) => {
    const lexical = cosine(vectors[index], cluster.centroid);
    const mine = dense(index);
    if (!mine) return lexical;
    const theirs = cluster.members.map(dense).filter((v): v is number[] => Boolean(v));
    if (!theirs.length) return lexical;
    const mean = theirs.reduce((sum, v) => sum + denseCosine(mine, v), 0) / theirs.length;
    return 0.5 * lexical + 0.5 * mean;
  };
  ordered.forEach((_, index) => {
    const vector = vectors[index];
    let best = -1;
    let bestScore = 0;
    clusters.forEach((cluster, c) => {
      const score = similarity(index, cluster);
      if (score > bestScore) [best, bestScore] = [c, score];
    });
    if (best >= 0 && bestScore >= join) {
      const cluster = clusters[best];
      cluster.members.push(index);
      addInto(cluster.sum, vector);
      cluster.centroid = normalise(cluster.sum);
    } else {
      clusters.push({ members: [index], sum: new Map(vector), centroid: vector });
    }
  });

  for (let merged = true; merged;) {
    merged = false;
    outer: for (let i = 0; i < clusters.length; i++) {
      for (let j = i + 1; j < clusters.length; j++) {
        if (cosine(clusters[i].centroid, clusters[j].centroid) >= merge) {
          clusters[i].members.push(...clusters[j].members);
          addInto(clusters[i].sum, clusters[j].sum);
          clusters[i].centroid = normalise(clusters[i].sum);
          clusters = clusters.filter((_, k) => k !== j);
          merged = true;
          break outer;
        }
      }
    }
  }

  const windowDays = options.window ? Math.max(1, (options.window.end.getTime() - options.window.start.getTime()) / 86_400_000) : 7;
  const baselinePerDay = Math.max(1, ordered.length) / windowDays / Math.max(1, clusters.length);
  const engagementBaseline = ordered.reduce((n, r) => n + Math.max(0, r.engagement ?? 0), 0) / Math.max(1, ordered.length);
  return clusters
    .filter((c) => c.members.length >= options.minRecords)
    .map((c) => {
      const members = [...c.members].sort((a, b) => a - b).map((i) => ordered[i]);
      const platformCount = new Set(members.map((m) => m.platform)).size;
      const ranked = [...c.sum.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
      const label = ranked
        .filter(([term]) => !term.includes(' ') && !term.startsWith('§'))
        .slice(0, 4)
        .map(([term]) => term)
        .join(', ');
      const recordIds = members.map((m) => m.id);
      const authors = new Set(members.map((m) => (m.author ?? '').trim().toLowerCase()).filter(Boolean)).size || members.length;
      const velocity = busiestDay(members.map((m) => m.publishedAt)) / baselinePerDay;
      const engagement = members.reduce((n, m) => n + (m.engagement ?? 0), 0);
      const signals: StorylineSignals = {
        volume: members.length,
        velocity: Math.round(velocity * 100) / 100,
        platforms: platformCount,
        authors,
        engagement,
        keyPhrases: ranked
          .filter(([term]) => term.includes(' '))
          .slice(0, 6)
          .map(([term]) => term),
        entities: ranked
          .filter(([term]) => term.startsWith('§'))
          .slice(0, 6)
          .map(([term]) => term.slice(1)),
      };
      const score = storylineScore(members.length, platformCount, { authors, velocity, engagement, engagementBaseline });
      return { key: members[0].id, recordIds, label, platformCount, score, membershipHash: membershipHash(recordIds), signals };
    })
    .sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : 1));
}

function denseCosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}

/** Most records in any 24 hours. */
function busiestDay(dates: Date[]): number {
  const times = dates.map((d) => d.getTime()).sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] > 86_400_000) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

/**
 * Links each storyline to the storyline of the previous week it continues: the one sharing the most entities and key
 * phrases (Jaccard ≥ 0.25), one to one.
 */
export function linkToPrevious(
  clusters: Array<{ signals?: StorylineSignals; label: string }>,
  previous: Array<{ id: string; label: string; signals: StorylineSignals | null }>,
): Array<string | null> {
  const featuresOfSignals = (signals: StorylineSignals | null | undefined, label: string) =>
    new Set([...(signals?.entities ?? []), ...(signals?.keyPhrases ?? []), ...label.split(/,\s*/).filter(Boolean)]);
  const pairs: Array<{ c: number; p: number; score: number }> = [];
  clusters.forEach((cluster, c) => {
    const mine = featuresOfSignals(cluster.signals, cluster.label);
    previous.forEach((old, p) => {
      const theirs = featuresOfSignals(old.signals, old.label);
      const shared = [...mine].filter((f) => theirs.has(f)).length;
      const score = shared / Math.max(1, new Set([...mine, ...theirs]).size);
      if (score >= 0.25) pairs.push({ c, p, score });
    });
  });
  pairs.sort((a, b) => b.score - a.score || a.c - b.c || a.p - b.p);
  const out: Array<string | null> = clusters.map(() => null);
  const used = new Set<number>();
  for (const { c, p } of pairs) {
    if (out[c] !== null || used.has(p)) continue;
    out[c] = previous[p].id;
    used.add(p);
  }
  return out;
}

export interface BeatKeywords {
  slug: string;
  keywords: string[];
}

/**
 * The beat a record belongs to: its source's only beat, or among the source's beats (all beats when the source
 * names none) the one whose keywords occur most often in the text; null when none occurs.
 */
export function assignBeat(text: string, sourceBeats: string[], beats: BeatKeywords[]): string | null {
  const candidates = sourceBeats.length ? beats.filter((b) => sourceBeats.includes(b.slug)) : beats;
  if (candidates.length === 1) return candidates[0].slug;
  const haystack = ` ${text.toLowerCase().replace(/\s+/g, ' ')} `;
  let best: string | null = null;
  let bestHits = 0;
  for (const beat of candidates) {
    let hits = 0;
    for (const keyword of beat.keywords) {
      const k = keyword.toLowerCase().trim();
      if (!k) continue;
      const pattern = new RegExp(`(^|[^a-z0-9])${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^a-z0-9]|$)`, 'g');
      hits += haystack.match(pattern)?.length ?? 0;
    }
    if (hits > bestHits) [best, bestHits] = [beat.slug, hits];
  }
  return best;
}

/**
 * Keeps storyline identity across re-clustering: a new cluster that shares at least half of the smaller side's
 * records with an existing storyline takes that storyline's key (so its row, narrative and URL survive a late
 * post that changes which record is earliest). Pairs are matched greedily, best overlap (then most shared
 * records) first, one to one.
 */
export function carryKeys(clusters: Cluster[], existing: Array<{ key: string; recordIds: string[] }>): Cluster[] {
  const pairs: Array<{ c: number; e: number; overlap: number; shared: number }> = [];
  clusters.forEach((cluster, c) => {
    const mine = new Set(cluster.recordIds);
    existing.forEach((old, e) => {
      const shared = old.recordIds.filter((id) => mine.has(id)).length;
      const overlap = shared / Math.max(1, Math.min(mine.size, old.recordIds.length));
      if (overlap >= 0.5) pairs.push({ c, e, overlap, shared });
    });
  });
  pairs.sort((a, b) => b.overlap - a.overlap || b.shared - a.shared || a.c - b.c || a.e - b.e);
  const keys = clusters.map((c) => c.key);
  const usedClusters = new Set<number>();
  const usedExisting = new Set<number>();
  for (const { c, e } of pairs) {
    if (usedClusters.has(c) || usedExisting.has(e)) continue;
    usedClusters.add(c);
    usedExisting.add(e);
    keys[c] = existing[e].key;
  }
  // A fresh key must not collide with a carried one.
  const taken = new Set(keys.filter((_, i) => usedClusters.has(i)));
  return clusters.map((cluster, i) => ({ ...cluster, key: usedClusters.has(i) || !taken.has(keys[i]) ? keys[i] : `${keys[i]}:${i}` }));
}
