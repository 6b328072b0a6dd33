import { createHash } from 'node:crypto';
import { addInto, cosine, normalise, tfidf, tokenize, type Vector } from './text-analysis';

export interface ClusterInput {
  id: string;
  platform: string;
  publishedAt: Date;
  text: string;
}

export interface Cluster {
  /** Stable identity: the earliest member's id. */
  key: string;
  recordIds: string[];
  label: string;
  platformCount: number;
  score: number;
  membershipHash: string;
}

export interface ClusterOptions {
  /** Cosine similarity to a storyline's centroid needed to join it. */
  joinThreshold?: number;
  /** Cosine similarity between two centroids needed to merge them. */
  mergeThreshold?: number;
  minRecords: number;
}

/** Volume and cross-platform spread: each extra platform is worth half the storyline again. */
export function storylineScore(recordCount: number, platformCount: number): number {
  return recordCount * (1 + 0.5 * Math.max(0, platformCount - 1));
}

export function membershipHash(ids: string[]): string {
  return createHash('sha256').update([...ids].sort().join(',')).digest('hex').slice(0, 32);
}

/**
 * Groups records into storylines by lexical similarity: single-pass assignment to the nearest centroid in
 * time order, then merging of near-duplicate clusters. Deterministic for a given input.
 */
export function clusterRecords(records: ClusterInput[], options: ClusterOptions): Cluster[] {
  const join = options.joinThreshold ?? 0.12;
  const merge = options.mergeThreshold ?? 0.25;
  const ordered = [...records].sort((a, b) => a.publishedAt.getTime() - b.publishedAt.getTime() || (a.id < b.id ? -1 : 1));
  const vectors = tfidf(ordered.map((r) => tokenize(r.text)));

  let clusters: Array<{ members: number[]; sum: Vector; centroid: Vector }> = [];
  ordered.forEach((_, index) => {
    const vector = vectors[index];
    let best = -1;
    let bestScore = 0;
    clusters.forEach((cluster, c) => {
      const score = cosine(vector, cluster.centroid);
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

  for (let merged = true; merged; ) {
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

  return clusters
    .filter((c) => c.members.length >= options.minRecords)
    .map((c) => {
      const members = [...c.members].sort((a, b) => a - b).map((i) => ordered[i]);
      const platformCount = new Set(members.map((m) => m.platform)).size;
      const label = [...c.sum.entries()]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, 4)
        .map(([term]) => term)
        .join(', ');
      const recordIds = members.map((m) => m.id);
      return { key: members[0].id, recordIds, label, platformCount, score: storylineScore(members.length, platformCount), membershipHash: membershipHash(recordIds) };
    })
    .sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : 1));
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
