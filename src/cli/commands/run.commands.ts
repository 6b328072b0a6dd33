import { Argument, type Command } from 'commander';
import { PIPELINE_STAGES, PipelineService, type PipelineStage, type StageResult } from '../../admin/pipeline.service';
import { type CommandContext } from '../context';

export function registerRunCommands(program: Command, ctx: CommandContext): void {
  program
    .command('run')
    .description("run pipeline stages once, now: poll every active source, build narratives, assemble last week's issue, deliver approved issues")
    .addArgument(new Argument('[stage]', 'which stage').choices([...PIPELINE_STAGES, 'all']).default('all'))
    .action(
      ctx.action(async (stage: PipelineStage | 'all') => {
        const pipeline = await ctx.get(PipelineService);
        const stages = stage === 'all' ? [...PIPELINE_STAGES] : [stage];
        const progress = ctx.output.progress('stages', stages.length);
        const results: StageResult[] = [];
        for (const name of stages) {
          ctx.output.info(`running ${name}…`);
          results.push(await pipeline.runStage(name));
          progress.tick();
        }
        progress.done();
        ctx.output.result(results, (all) => all.map(describeStage));
      }),
    );
}

function describeStage(result: StageResult): string {
  switch (result.stage) {
    case 'poll': {
      const failed = result.polls.filter((p) => !p.ok);
      return `poll: ${result.polls.length} sources, ${result.polls.reduce((n, p) => n + p.new, 0)} new records, ${failed.length} failed${failed.length ? ` (${failed.map((p) => `${p.source}: ${p.error ?? 'failed'}`).join('; ')})` : ''}`;
    }
    case 'build':
      return `build: ${result.narratives.map((b) => `${b.beat} ${b.written} written/${b.held} held/${b.failed} failed of ${b.storylines} storylines`).join('; ') || 'no beats'}`;
    case 'assemble':
      return result.issue
        ? `assemble: issue #${result.issue.number} "${result.issue.title}" (${result.issue.status})`
        : 'assemble: no published stories last week, no issue';
    case 'deliver':
      return `deliver: ${result.delivery.sendsStarted} sends started, ${result.delivery.batchesSent} batches sent, ${result.delivery.batchesRetried} retried, ${result.delivery.batchesFailed} failed, ${result.delivery.batchesHeld} held`;
  }
}
