// Small lexical toolkit for clustering: tokens, TF-IDF vectors, cosine similarity.

const STOPWORDS = new Set(
  `a about above after again against all also am an and any are aren as at be because been before being below between both but by
can cannot could did do does doing don down during each few for from further had has have having he her here hers herself him
himself his how i if in into is isn it its itself just let like me more most much my myself no nor not now of off on once only or
other our ours ourselves out over own really same she should so some such than that the their theirs them themselves then there
these they this those through to too under until up very was we were what when where which while who whom why will with would
you your yours yourself yourselves get got one two new says said say still even way make made people think thing things lot
going gonna yeah yes well know see want need right good bad sure https http www com org reddit submitted link comments comment
points user post posted thread week today yesterday url article item`.split(/\s+/),
);

export function tokenize(text: string): string[] {
  return (
    text
      .toLowerCase()
      .normalize('NFKD')
      .match(/[a-z0-9][a-z0-9'’\-.]*[a-z0-9%]|[a-z0-9]/g) ?? []
  )
    .map((t) => t.replace(/['’]s$/, '').replace(/[.]+$/, ''))
    .filter((t) => t.length >= 3 && !STOPWORDS.has(t) && !/^\d{1,2}$/.test(t) && !/\.(com|org|net|example|social|io)\b|^https?/.test(t));
}

export type Vector = Map<string, number>;

/** TF-IDF vectors (log-scaled tf, smoothed idf), L2-normalised. */
export function tfidf(documents: string[][]): Vector[] {
  const df = new Map<string, number>();
  for (const doc of documents) for (const term of new Set(doc)) df.set(term, (df.get(term) ?? 0) + 1);
  const n = documents.length;
  return documents.map((doc) => {
    const tf = new Map<string, number>();
    for (const term of doc) tf.set(term, (tf.get(term) ?? 0) + 1);
    const vector: Vector = new Map();
    let norm = 0;
    for (const [term, count] of tf) {
      const weight = (1 + Math.log(count)) * Math.log((1 + n) / (1 + (df.get(term) ?? 0)) + 1);
      vector.set(term, weight);
      norm += weight * weight;
    }
    norm = Math.sqrt(norm) || 1;
    for (const [term, weight] of vector) vector.set(term, weight / norm);
    return vector;
  });
}

export function cosine(a: Vector, b: Vector): number {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let dot = 0;
  for (const [term, weight] of small) dot += weight * (large.get(term) ?? 0);
  return dot;
}

export function addInto(target: Vector, source: Vector, scale = 1): void {
  for (const [term, weight] of source) target.set(term, (target.get(term) ?? 0) + weight * scale);
}

export function normalise(vector: Vector): Vector {
  let norm = 0;
  for (const weight of vector.values()) norm += weight * weight;
  norm = Math.sqrt(norm) || 1;
  return new Map([...vector].map(([term, weight]) => [term, weight / norm]));
}
