import { type Command } from 'commander';
import { SubscribersService } from '../../subscribers/subscribers.service';
import { type CommandContext } from '../context';

export function registerSubscribersCommands(program: Command, ctx: CommandContext): void {
  const subscribers = program.command('subscribers').description('email subscribers');

  subscribers
    .command('count')
    .description('how many subscribers there are, by status')
    .action(
      ctx.action(async () => {
        const counts = await (await ctx.get(SubscribersService)).countByStatus();
        ctx.output.result(counts, (c) => [`${c.total} subscribers`, ...Object.entries(c.byStatus).map(([status, n]) => `  ${status.padEnd(13)} ${n}`)]);
      }),
    );
}
