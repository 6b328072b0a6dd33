import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cached: string | undefined;

/** The folder holding package.json (works from src/ under jest and from dist/src/ in production). */
export function projectRoot(): string {
  if (cached) return cached;
  let dir = __dirname;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'broadsheet') return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the Broadsheet project folder (package.json)');
    dir = parent;
  }
}
