import { createRequire } from 'node:module';
import type Compromise from 'compromise';

type Compromise = typeof Compromise;

/**
 * compromise (the English lexicon and tagger behind the grounding check and the offline writer), loaded on first
 * use and let go once unused for `NLP_RELEASE_AFTER_MS`: its lexicon, model and code hold ~9 MB of V8 heap, which
 * an idle server has no use for between pipeline runs (bench/memory.mjs). The first call after a release loads it
 * again (~0.4 s on the 2-core machine). Same call surface as compromise's default export for what Broadsheet uses:
 * `nlp(text)` and `nlp.model()`.
 */
export const NLP_RELEASE_AFTER_MS = 20_000;

let loaded: Compromise | undefined;
let timer: NodeJS.Timeout | undefined;

function compromise(): Compromise {
  // A require of its own each time: the module it makes to load from lists compromise among its children, and
  // would keep it alive after the release.
  loaded ??= createRequire(__filename)('compromise') as Compromise;
  if (timer) timer.refresh();
  else {
    timer = setTimeout(releaseNlp, NLP_RELEASE_AFTER_MS);
    timer.unref();
  }
  return loaded;
}

/** Drops compromise (and its entry in the module cache) so the collector can take it; the next call reloads it. */
export function releaseNlp(): void {
  clearTimeout(timer);
  timer = undefined;
  loaded = undefined;
  const load = createRequire(__filename);
  delete load.cache[load.resolve('compromise')];
}

/** Whether compromise is loaded now. */
export function nlpLoaded(): boolean {
  return loaded !== undefined;
}

export interface Nlp {
  (text: string): ReturnType<Compromise>;
  model(): ReturnType<Compromise['model']>;
}

const nlp: Nlp = Object.assign((text: string) => compromise()(text), { model: () => compromise().model() });
export default nlp;
