import { type Command } from 'commander';
import { NarrativesService } from '../../narratives/narratives.service';
import { type CommandContext } from '../context';

export function registerBeatsCommands(program: Command, ctx: CommandContext): void {
  const beats = program.command('beats').description('the beats Broadsheet covers');

  beats
    .command('add')
    .description('define a beat (or redefine one by its slug): records are matched to it by its keywords')
    .requiredOption('--slug <slug>', 'lower-case words joined by hyphens, e.g. ai-policy')
    .requiredOption('--name <name>', 'the name readers see')
    .option('--description <text>', 'what the beat covers', '')
    .requiredOption('--keywords <k1,k2>', 'comma-separated keywords')
    .action(
      ctx.action(async (options: { slug: string; name: string; description: string; keywords: string }) => {
        const beat = await (
          await ctx.get(NarrativesService)
        ).addBeat({
          slug: options.slug,
          name: options.name,
          description: options.description,
          keywords: options.keywords.split(','),
        });
        const row = { id: beat.id, slug: beat.slug, name: beat.name, description: beat.description, keywords: beat.keywords };
        ctx.output.result(row, (b) => `beat ${b.slug} saved: ${b.name} (${b.keywords.join(', ')})`);
      }),
    );

  beats
    .command('list')
    .description('every beat with its keywords')
    .action(
      ctx.action(async () => {
        const list = await (await ctx.get(NarrativesService)).listBeats();
        const rows = list.map((b) => ({ slug: b.slug, name: b.name, description: b.description, keywords: b.keywords }));
        ctx.output.result(rows, (all) => (all.length === 0 ? 'no beats yet' : all.map((b) => `${b.slug.padEnd(20)} ${b.name}  (${b.keywords.join(', ')})`)));
      }),
    );
}
