import { type Command } from 'commander';
import { DeliveryService, type IssueDeliveryStatus } from '../../delivery/delivery.service';
import { IssuesService } from '../../issues/issues.service';
import { type CommandContext, positiveInt } from '../context';

const date = (d: Date | null | undefined) => (d ? new Date(d).toISOString().slice(0, 10) : '—');

export function registerIssuesCommands(program: Command, ctx: CommandContext): void {
  const issues = program.command('issues').description('weekly issues: list, show, approve, follow their delivery');

  issues
    .command('list')
    .description('every issue, newest first, drafts included')
    .option('--limit <n>', 'at most this many', positiveInt('--limit'), 50)
    .action(
      ctx.action(async (options: { limit: number }) => {
        const list = await (await ctx.get(IssuesService)).list(options.limit);
        const rows = list.map((i) => ({ number: i.number, status: i.status, title: i.title, weekStart: i.weekStart, weekEnd: i.weekEnd, approvedAt: i.approvedAt }));
        ctx.output.result(rows, (all) => (all.length === 0 ? 'no issues yet' : all.map((i) => `#${String(i.number).padEnd(4)} ${i.status.padEnd(9)} ${date(i.weekStart)}  ${i.title}`)));
      }),
    );

  issues
    .command('show')
    .description('one issue with its stories in order')
    .argument('<number>', 'issue number', positiveInt('the issue number'))
    .action(
      ctx.action(async (number: number) => {
        const issue = await (await ctx.get(IssuesService)).getByNumber(number);
        const data = {
          number: issue.number,
          status: issue.status,
          title: issue.title,
          intro: issue.intro,
          weekStart: issue.weekStart,
          weekEnd: issue.weekEnd,
          approvedAt: issue.approvedAt,
          stories: issue.stories.map((s, position) => ({ position: position + 1, slug: s.slug, headline: s.headline, beat: s.beat.slug, fidelity: s.fidelity })),
        };
        ctx.output.result(data, (i) => [
          `Issue #${i.number}: ${i.title} (${i.status})`,
          `week ${date(i.weekStart)} to ${date(i.weekEnd)}${i.approvedAt ? `, approved ${date(i.approvedAt)}` : ''}`,
          '',
          i.intro,
          '',
          ...(i.stories.length ? i.stories.map((s) => `${String(s.position).padStart(2)}. [${s.beat}] ${s.headline}  (/stories/${s.slug})`) : ['(no published stories)']),
        ]);
      }),
    );

  issues
    .command('approve')
    .description('approve a drafted issue: it becomes public and is sent by the next delivery run')
    .argument('<number>', 'issue number', positiveInt('the issue number'))
    .action(
      ctx.action(async (number: number) => {
        const service = await ctx.get(IssuesService);
        const approved = await service.approve((await service.getByNumber(number)).id);
        ctx.output.result({ number: approved.number, status: approved.status, approvedAt: approved.approvedAt }, (i) => `issue #${i.number} is ${i.status}`);
      }),
    );

  issues
    .command('status')
    .description("an issue's delivery over all its sends: accepted + failed + suppressed + skipped + held + pending = audience")
    .argument('<number>', 'issue number', positiveInt('the issue number'))
    .action(
      ctx.action(async (number: number) => {
        const issue = await (await ctx.get(IssuesService)).getByNumber(number);
        const delivery = await (await ctx.get(DeliveryService)).issueStatus(issue.id);
        ctx.output.result({ issue: issue.number, status: issue.status, ...delivery }, (s) => describeStatus(s));
      }),
    );
}

export function describeStatus(s: { issue: number; status: string } & IssueDeliveryStatus): string[] {
  return [
    `issue #${s.issue}: ${s.status}${s.sends ? `, ${s.sends} send${s.sends === 1 ? '' : 's'}` : ', not sent yet'}`,
    `  audience   ${s.audience}`,
    `  accepted   ${s.accepted}`,
    `  failed     ${s.failed}`,
    `  suppressed ${s.suppressed}`,
    `  skipped    ${s.skipped}`,
    `  held       ${s.held}`,
    `  pending    ${s.pending}`,
  ];
}
