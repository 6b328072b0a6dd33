import { type Command } from 'commander';
import { DeliveryService, type IssueDeliveryStatus } from '../../delivery/delivery.service';
import { IssuesService } from '../../issues/issues.service';
import { type CommandContext, positiveInt } from '../context';
import { UsageError } from '../errors';

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
        const rows = list.map((i) => ({
          number: i.number,
          status: i.status,
          title: i.title,
          weekStart: i.weekStart,
          weekEnd: i.weekEnd,
          approvedAt: i.approvedAt,
        }));
        ctx.output.result(rows, (all) =>
          all.length === 0 ? 'no issues yet' : all.map((i) => `#${String(i.number).padEnd(4)} ${i.status.padEnd(9)} ${date(i.weekStart)}  ${i.title}`),
        );
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
          stories: issue.stories.map((s, position) => ({
            position: position + 1,
            slug: s.slug,
            headline: s.headline,
            beat: s.beat.slug,
            fidelity: s.fidelity,
          })),
        };
        ctx.output.result(data, (i) => [
          `Issue #${i.number}: ${i.title} (${i.status})`,
          `week ${date(i.weekStart)} to ${date(i.weekEnd)}${i.approvedAt ? `, approved ${date(i.approvedAt)}` : ''}`,
          '',
          i.intro,
          '',
          ...(i.stories.length
            ? i.stories.map((s) => `${String(s.position).padStart(2)}. [${s.beat}] ${s.headline}  (/stories/${s.slug})`)
            : ['(no published stories)']),
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
    .option('--follow', 'show live progress until the send ends (paused, held, sent or cancelled)')
    .action(
      ctx.action(async (number: number, options: { follow?: boolean }) => {
        const delivery = await ctx.get(DeliveryService);
        let status = await delivery.issueStatus(number);
        if (options.follow) {
          const bar = ctx.output.progress(`issue #${number}`, status.audience);
          while (['scheduled', 'sending'].includes(status.status)) {
            bar.update(status.audience - status.pending, status.audience);
            await new Promise((resolve) => setTimeout(resolve, 1_000));
            status = await delivery.issueStatus(number);
          }
          bar.update(status.audience - status.pending, status.audience);
          bar.done();
        }
        ctx.output.result(status, (s) => describeStatus(s));
      }),
    );

  issues
    .command('send')
    .description(
      'queue a send now or at --at (any running instance, or `run deliver`, does the work); on an issue already sent, only subscribers without a copy get it',
    )
    .argument('<number>', 'issue number', positiveInt('the issue number'))
    .option('--at <iso-time>', 'start at this time (ISO 8601, e.g. 2026-12-07T07:00:00Z)', isoTime)
    .option('--test <addresses>', 'send a test now to these comma-separated addresses instead (marked as a test, not counted)')
    .action(
      ctx.action(async (number: number, options: { at?: Date; test?: string }) => {
        const delivery = await ctx.get(DeliveryService);
        if (options.test !== undefined) {
          const send = await delivery.testSend(
            number,
            options.test
              .split(',')
              .map((a) => a.trim())
              .filter(Boolean),
          );
          ctx.output.result(send, (s) => `test send of issue #${number}: ${s.accepted} accepted, ${s.failed} failed`);
          return;
        }
        const send = await delivery.send(number, { at: options.at });
        ctx.output.result(send, (s) =>
          s.status === 'scheduled'
            ? `issue #${number} scheduled for ${s.scheduledAt?.toISOString()}`
            : `issue #${number}: send ${s.number} ${s.status} to ${s.audience} recipients`,
        );
      }),
    );

  for (const [name, description] of [
    ['pause', "stop claiming the send's batches (those in flight finish); nothing is re-sent"],
    ['resume', 'resume a paused send where it stopped'],
    ['cancel', 'cancel the send: recipients nobody has tried are released; nothing is re-sent'],
    ['retry-failed', 'send again to the recipients whose messages failed (new batches, new keys)'],
  ] as const) {
    issues
      .command(name)
      .description(description)
      .argument('<number>', 'issue number', positiveInt('the issue number'))
      .action(
        ctx.action(async (number: number) => {
          const delivery = await ctx.get(DeliveryService);
          const result =
            name === 'pause'
              ? await delivery.pause(number)
              : name === 'resume'
                ? await delivery.resume(number)
                : name === 'cancel'
                  ? await delivery.cancel(number)
                  : await delivery.retryFailed(number);
          ctx.output.result(result, (r) =>
            'status' in r
              ? `issue #${number}: send ${r.number} is ${r.status}${'released' in r ? ` (${r.released} recipients released)` : ''}`
              : `issue #${number}: ${r.recipients} failed recipients queued again`,
          );
        }),
      );
  }

  issues
    .command('release')
    .description('decide on a held batch (outcome unknown): resend under a new key, or mark it accepted or failed')
    .argument('<batch-id>', 'the held batch (see issues status N --json)')
    .requiredOption('--as <action>', 'resend | accepted | failed')
    .requiredOption('--reason <text>', 'why (recorded on the batch)')
    .action(
      ctx.action(async (batchId: string, options: { as: string; reason: string }) => {
        if (!['resend', 'accepted', 'failed'].includes(options.as)) throw new UsageError('--as must be resend, accepted or failed');
        const result = await (
          await ctx.get(DeliveryService)
        ).releaseHeld({ batchId, action: options.as as 'resend' | 'accepted' | 'failed', reason: options.reason });
        ctx.output.result(
          result,
          (r) => `batch ${batchId}: ${r.recipients} recipients ${options.as === 'resend' ? 'queued again under a new key' : `marked ${options.as}`}`,
        );
      }),
    );
}

function isoTime(value: string): Date {
  const at = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(at.getTime()))
    throw new UsageError(`--at expects an ISO 8601 time such as 2026-12-07T07:00:00Z, not ${JSON.stringify(value)}`);
  return at;
}

export function describeStatus(s: IssueDeliveryStatus): string[] {
  const latest = s.sends[s.sends.length - 1];
  return [
    `issue #${s.issue}: ${s.status}${s.sends.length ? `, ${s.sends.length} send${s.sends.length === 1 ? '' : 's'}` : ', not sent yet'}${latest?.pauseReason && s.status === 'paused' ? ` (${latest.pauseReason})` : ''}`,
    `  audience   ${s.audience}`,
    `  accepted   ${s.accepted}`,
    `  failed     ${s.failed}`,
    `  suppressed ${s.suppressed}`,
    `  skipped    ${s.skipped}`,
    `  held       ${s.held}`,
    `  pending    ${s.pending}`,
    ...s.heldBatches.map((b) => `  held batch ${b.id}: ${b.recipients} recipients, ${b.lastError ?? ''}`),
  ];
}
