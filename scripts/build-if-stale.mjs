#!/usr/bin/env node
// `npm start` runs this first: it builds (nest build) only when dist/ is missing or older than the sources.
// "Older" is decided by content, not mtimes: a SHA-256 over the path and bytes of every input file (src/,
// migrations/, templates/, tsconfig*.json, nest-cli.json, package.json, package-lock.json) is compared with the
// stamp written into dist/ after the last successful build. `nest build` empties dist/ first, so a failed or
// interrupted build leaves no stamp and the next start builds again.
//   node scripts/build-if-stale.mjs          build if stale
//   node scripts/build-if-stale.mjs --check  exit 0 if current, 1 if a build is needed (builds nothing)
//   node scripts/build-if-stale.mjs --stamp  after `nest build` (npm run build's postbuild): record that build
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stampFile = join(dist, '.build-stamp');
const inputDirs = ['src', 'migrations', 'templates'];
const inputFiles = ['tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'package.json', 'package-lock.json'];

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, out);
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** The fingerprint of every build input; also the list of .ts sources whose .js must exist in dist. */
function fingerprint() {
  const files = inputDirs.flatMap((d) => walk(join(root, d), [])).concat(inputFiles.map((f) => join(root, f)).filter(existsSync));
  files.sort();
  const hash = createHash('sha256');
  for (const file of files) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return { digest: hash.digest('hex'), files };
}

function outputsPresent(files) {
  return files
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !/\.(spec|int-spec|e2e-spec)\.ts$/.test(f) && !relative(root, f).startsWith('templates'))
    .every((f) => existsSync(join(dist, relative(root, f).replace(/\.ts$/, '.js'))));
}

function isCurrent({ digest, files }) {
  if (!existsSync(stampFile)) return { current: false, reason: 'no build yet' };
  if (readFileSync(stampFile, 'utf8').trim() !== digest) return { current: false, reason: 'sources changed since the last build' };
  if (!outputsPresent(files)) return { current: false, reason: 'dist/ is incomplete' };
  return { current: true };
}

/** Records a finished build: the stamp, and the `broadsheet` bin made executable (tsc writes it 0644). */
function finish(digest) {
  const bin = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).bin?.broadsheet;
  if (bin && existsSync(join(root, bin))) chmodSync(join(root, bin), 0o755);
  writeFileSync(stampFile, `${digest}\n`);
}

const before = fingerprint();
if (process.argv.includes('--stamp')) {
  if (!outputsPresent(before.files)) {
    console.error('dist/ is incomplete: not stamping it');
    process.exit(1);
  }
  finish(before.digest);
  process.exit(0);
}
const state = isCurrent(before);
if (process.argv.includes('--check')) {
  console.log(state.current ? 'build is current' : `build needed: ${state.reason}`);
  process.exit(state.current ? 0 : 1);
}
if (state.current) {
  console.log('build is current: skipping nest build');
  process.exit(0);
}
console.log(`building (${state.reason})…`);
const nest = join(root, 'node_modules', '@nestjs', 'cli', 'bin', 'nest.js');
const result = spawnSync(process.execPath, [nest, 'build'], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);
// The fingerprint taken before the build: an edit made while it ran makes the next start build again.
finish(before.digest);
