import { readFile, stat } from 'node:fs/promises';
import { type Command } from 'commander';
import { SourcesService, type SourceDetail, type SourceTestResult, type SourceView } from '../../sources/sources.service';
import { type CommandContext } from '../context';
import { CliError, UsageError } from '../errors';

const collect = (value: string, previous: string[]) => [
  ...previous,
  ...value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean),
];
const when = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 16) : '—');
const every = (seconds: number) =>
  seconds % 86400 === 0 ? `${seconds / 86400}d` : seconds % 3600 === 0 ? `${seconds / 3600}h` : seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`;

function describe(s: SourceView): string[] {
  return [
    `${s.slug}  (${s.id})`,
    `  ${s.kind} ${s.target}  every ${every(s.everySeconds)}  beats: ${s.beats.join(', ') || '—'}`,
    `  ${s.status}${s.pausedReason ? `: ${s.pausedReason}` : ''}; ${s.records} records; last poll ${when(s.lastPolledAt)}, last success ${when(s.lastSuccessAt)}, next ${when(s.nextPollAt)}`,
    ...(s.lastError ? [`  last error (${s.consecutiveFailures} in a row): ${s.lastError}`] : []),
  ];
}

function describeTest(r: SourceTestResult): string[] {
  return [
    `${r.kind} ${r.target}: ${r.notModified ? 'not modified' : `${r.items} items would be imported`}${r.rejected ? `, ${r.rejected} rejected` : ''}${r.overCap ? `, ${r.overCap} left for later polls` : ''}${r.httpStatus ? ` (HTTP ${r.httpStatus}, ${r.responseMs} ms)` : ''}`,
    ...r.rejectedReasons.map((x) => `  rejected item ${x.index}: ${x.reason}`),
    ...r.preview.map(
      (p) =>
        `  ${p.publishedAt.slice(0, 16)}  ${(p.title || p.text).replace(/\s+/g, ' ').slice(0, 80)}${p.author ? ` — ${p.author}` : ''}${
          Object.keys(p.engagement).length
            ? `  [${Object.entries(p.engagement)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')}]`
            : ''
        }`,
    ),
  ];
}

export function registerSourcesCommands(program: Command, ctx: CommandContext): void {
  const sources = program.command('sources').description('the feeds and platforms Broadsheet watches');

  sources
    .command('add')
    .description(
      'add a source: rss <url> | reddit r/<sub> | hackernews front|search:<q> | bluesky <handle>|search:<q> | mastodon https://<instance>/tags/<tag>|/@<user> | file <path>',
    )
    .requiredOption('--kind <kind>', 'rss, reddit, hackernews, bluesky, mastodon or file')
    .requiredOption('--target <target>', 'what to watch (see above)')
    .option('--beat <slug>', 'a beat it feeds (repeatable, or comma-separated)', collect, [])
    .option('--every <duration>', 'how often to poll, from 1m to 7d (e.g. 30m, 2h)')
    .option('--name <name>', 'a name for people (default: from the target)')
    .action(
      ctx.action(async (o: { kind: string; target: string; beat: string[]; every?: string; name?: string }) => {
        const added = await (await ctx.get(SourcesService)).add({ kind: o.kind, target: o.target, beats: o.beat, every: o.every, name: o.name });
        ctx.output.result(added, (s) => [`added ${s.slug}`, ...describe(s)]);
      }),
    );

  sources
    .command('edit')
    .description("change a source's target, name, beats or interval")
    .argument('<id>', 'id or slug')
    .option('--target <target>', 'a new target of the same kind')
    .option('--beat <slug>', 'replace its beats (repeatable)', collect, undefined as unknown as string[])
    .option('--every <duration>', 'how often to poll')
    .option('--name <name>', 'a new name')
    .action(
      ctx.action(async (id: string, o: { target?: string; beat?: string[]; every?: string; name?: string }) => {
        const edited = await (await ctx.get(SourcesService)).edit(id, { target: o.target, beats: o.beat, every: o.every, name: o.name });
        ctx.output.result(edited, describe);
      }),
    );

  sources
    .command('list')
    .description('every source with its health')
    .action(
      ctx.action(async () => {
        const list = await (await ctx.get(SourcesService)).list();
        ctx.output.result(list, (all) =>
          all.length === 0 ? 'no sources yet: add one with `broadsheet sources add --kind rss --target https://…`' : all.flatMap(describe),
        );
      }),
    );

  sources
    .command('show')
    .description('one source, its health and its recent polls')
    .argument('<id>', 'id or slug')
    .action(
      ctx.action(async (id: string) => {
        const detail = await (await ctx.get(SourcesService)).show(id);
        ctx.output.result(detail, (s: SourceDetail) => [
          ...describe(s),
          '  recent polls:',
          ...(s.recentPolls.length
            ? s.recentPolls.map(
                (p) =>
                  `    ${when(p.startedAt)} ${p.status.padEnd(9)} ${p.error ?? `${p.seen} seen, ${p.new} new, ${p.updated} updated, ${p.duplicate} known, ${p.invalid} rejected${p.notModified ? ' (not modified)' : ''}`}`,
              )
            : ['    none yet']),
        ]);
      }),
    );

  sources
    .command('test')
    .description('fetch now and show what would be imported, without importing (a stored source, or --kind/--target)')
    .argument('[id]', 'id or slug of a stored source')
    .option('--kind <kind>', 'kind of a source not stored yet')
    .option('--target <target>', 'target of a source not stored yet')
    .action(
      ctx.action(async (id: string | undefined, o: { kind?: string; target?: string }) => {
        if (id && (o.kind || o.target)) throw new UsageError('give either a source id or --kind and --target, not both');
        if (!id && !(o.kind && o.target)) throw new UsageError('give a source id, or both --kind and --target');
        const service = await ctx.get(SourcesService);
        const result = id ? await service.test(id) : await service.testTarget({ kind: o.kind as string, target: o.target as string });
        ctx.output.result(result, describeTest);
      }),
    );

  for (const [name, description] of [
    ['pause', 'stop polling a source (its records stay)'],
    ['resume', 'poll a paused source again, now'],
    ['remove', 'delete a source and its records'],
  ] as const) {
    const command = sources.command(name).description(description).argument('<id>', 'id or slug');
    if (name === 'pause') command.option('--reason <text>', 'why (shown in the list)');
    command.action(
      ctx.action(async (id: string, o: { reason?: string }) => {
        const service = await ctx.get(SourcesService);
        const view = name === 'pause' ? await service.pause(id, o.reason) : name === 'resume' ? await service.resume(id) : await service.remove(id);
        ctx.output.result(view, (s) => `${name === 'remove' ? 'removed' : name === 'pause' ? 'paused' : 'resumed'} ${s.slug}`);
      }),
    );
  }

  sources
    .command('import-opml')
    .description('add an rss source for every feed of an OPML file')
    .argument('<file>', 'an OPML file')
    .option('--beat <slug>', 'beats the imported sources feed (repeatable)', collect, [])
    .option('--every <duration>', 'how often to poll them')
    .action(
      ctx.action(async (file: string, o: { beat: string[]; every?: string }) => {
        const info = await stat(file).catch(() => {
          throw new CliError(`cannot read ${file}: no such file`);
        });
        if (!info.isFile()) throw new CliError(`${file} is not a regular file`);
        if (info.size > 5 * 1024 * 1024) throw new CliError(`${file} is ${info.size} bytes; an OPML file of at most 5 MB is expected`);
        const result = await (await ctx.get(SourcesService)).importOpml(await readFile(file, 'utf8'), { beats: o.beat, every: o.every });
        ctx.output.result(result, (r) => [
          `added ${r.added.length} sources, skipped ${r.skipped.length}`,
          ...r.added.map((s) => `  + ${s.slug}  ${s.target}`),
          ...r.skipped.map((s) => `  - ${s.url}: ${s.reason}`),
        ]);
      }),
    );

  sources
    .command('export-opml')
    .description('print the feed sources as OPML 2.0')
    .action(
      ctx.action(async () => {
        const opml = await (await ctx.get(SourcesService)).exportOpml();
        ctx.output.result({ opml }, (r) => r.opml);
      }),
    );
}
