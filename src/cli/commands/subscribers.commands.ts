import { createReadStream, createWriteStream, statSync, type WriteStream } from 'node:fs';
import { Writable } from 'node:stream';
import { type Command, Option } from 'commander';
import { stringify } from 'csv-stringify';
import { SubscriberTransfer, type ImportRowError } from '../../subscribers/subscriber-transfer.service';
import { SubscriberStatus, SubscribersService } from '../../subscribers/subscribers.service';
import { type CommandContext } from '../context';
import { CliError, UsageError } from '../errors';

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

  subscribers
    .command('import')
    .description('import subscribers from CSV (header row: email, optional name and beats separated by ";"); pending confirmation unless --consent attested')
    .argument('<file>', 'the CSV file')
    .addOption(new Option('--consent <kind>', 'attested: consent was given elsewhere, the addresses are active at once').choices(['attested']))
    .option('--report <file>', 'where to write the per-row report of skipped rows (CSV)', undefined)
    .action(
      ctx.action(async (file: string, options: { consent?: 'attested'; report?: string }) => {
        let size: number;
        try {
          const stat = statSync(file);
          if (!stat.isFile()) throw new Error('not a regular file');
          size = stat.size;
        } catch (error) {
          throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
        }
        const reportPath = options.report ?? `${file}.report.csv`;
        let report: { csv: ReturnType<typeof stringify>; out: WriteStream } | null = null;
        const writeRow = (e: ImportRowError) => {
          if (!report) {
            const out = createWriteStream(reportPath);
            const csv = stringify({ header: true, columns: ['line', 'email', 'error'] });
            csv.pipe(out);
            report = { csv, out };
          }
          report.csv.write(e);
        };
        const transfer = await ctx.get(SubscriberTransfer);
        const progress = ctx.output.progress('importing (bytes)', size);
        let summary;
        try {
          summary = await transfer.importCsv(createReadStream(file), {
            consent: options.consent === 'attested' ? 'attested' : 'pending',
            onProgress: (bytes) => progress.update(bytes),
            onRowError: writeRow,
          });
        } finally {
          progress.done();
          const open = report as { csv: ReturnType<typeof stringify>; out: WriteStream } | null;
          if (open) {
            open.csv.end();
            await new Promise<void>((resolve, reject) => open.out.on('finish', resolve).on('error', reject));
          }
        }
        const reported = report !== null;
        ctx.output.result({ ...summary, report: reported ? reportPath : null }, (s) => [
          `${s.rows} rows: ${s.imported} imported (${s.status}${s.status === 'pending' ? ', confirmation emails queued' : ''}), ${s.duplicates} duplicates left unchanged, ${s.invalid} invalid`,
          ...(s.report ? [`skipped rows and why: ${s.report}`] : []),
        ]);
      }),
    );

  subscribers
    .command('export')
    .description('write every subscriber (but the deleted) as CSV, to stdout or --output')
    .option('--output <file>', 'write the CSV here instead of stdout')
    .addOption(
      new Option('--status <status>', 'only subscribers in this status').choices(Object.values(SubscriberStatus).filter((s) => s !== SubscriberStatus.Deleted)),
    )
    .action(
      ctx.action(async (options: { output?: string; status?: SubscriberStatus }) => {
        if (ctx.output.json && !options.output) throw new UsageError('with --json, give --output FILE for the CSV (stdout carries the JSON summary)');
        const transfer = await ctx.get(SubscriberTransfer);
        // Without --output the CSV is the command's stdout (through CliOutput, so tests and --json see the same streams).
        const out = options.output
          ? createWriteStream(options.output)
          : new Writable({ write: (chunk: Buffer, _enc, done) => (ctx.output.writeOut(chunk.toString()), done()) });
        const progress = ctx.output.progress('exporting (rows)');
        const { rows } = await transfer.exportCsv(out, { status: options.status, onProgress: (n) => progress.update(n) });
        progress.done();
        if (options.output) ctx.output.result({ rows, output: options.output }, (r) => `${r.rows} subscribers written to ${r.output}`);
        else ctx.output.info(`${rows} subscribers exported`);
      }),
    );
}
