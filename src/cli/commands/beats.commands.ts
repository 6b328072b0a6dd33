import { type Command } from 'commander';
import { NarrativesService } from '../../narratives/narratives.service';
import { type CommandContext } from '../context';

export function registerBeatsCommands(program: Command, ctx: CommandContext): void {
  const beats = program.command('beats').description('the beats Broadsheet covers');

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
