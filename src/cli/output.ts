import { SingleBar, Presets } from 'cli-progress';

export interface Progress {
  /** Adds `n` done items (default 1). */
  tick(n?: number): void;
  /** Sets the number of done items (and, when it becomes known, the total). */
  update(done: number, total?: number): void;
  done(): void;
}

export interface OutputStreams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

/**
 * Everything a command prints. Results go to stdout: one JSON document under `--json`, readable lines otherwise.
 * Progress and diagnostics go to stderr, so `--json` output stays parseable: a bar on a terminal, a plain line
 * every few seconds (and at the end) otherwise, nothing at all under `--json`.
 */
export class CliOutput {
  json = false;

  constructor(private readonly streams: OutputStreams = { stdout: process.stdout, stderr: process.stderr }) {}

  /** Prints a command's result: `data` as JSON under `--json`, else the lines `human` makes of it. */
  result<T>(data: T, human: (data: T) => string | string[]): void {
    if (this.json) {
      this.streams.stdout.write(`${JSON.stringify(data, null, 2)}\n`);
      return;
    }
    const lines = human(data);
    const text = Array.isArray(lines) ? lines.join('\n') : lines;
    if (text.length > 0) this.streams.stdout.write(`${text}\n`);
  }

  /** Commander's own output (help, usage errors). */
  writeOut(text: string): void {
    this.streams.stdout.write(text);
  }

  writeErr(text: string): void {
    this.streams.stderr.write(text);
  }

  /** A line about what is happening (stderr; silent under --json). */
  info(line: string): void {
    if (!this.json) this.streams.stderr.write(`${line}\n`);
  }

  /** The one-line reason of a failure; under --json also `{"error": {...}}` on stdout. */
  failure(message: string, code: string): void {
    this.streams.stderr.write(`broadsheet: ${message}\n`);
    if (this.json) this.streams.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
  }

  progress(label: string, total?: number): Progress {
    if (this.json) return { tick: () => undefined, update: () => undefined, done: () => undefined };
    if (this.streams.stderr.isTTY) return this.bar(label, total);
    return this.lines(label, total);
  }

  private bar(label: string, total = 0): Progress {
    const bar = new SingleBar(
      {
        format: `${label} [{bar}] {value}/{total} {percentage}% | {duration_formatted}`,
        stream: this.streams.stderr as NodeJS.WriteStream,
        hideCursor: true,
        clearOnComplete: false,
      },
      Presets.shades_classic,
    );
    let value = 0;
    bar.start(total, 0);
    return {
      tick: (n = 1) => bar.update((value += n)),
      update: (done, newTotal) => {
        if (newTotal !== undefined) bar.setTotal(newTotal);
        bar.update((value = done));
      },
      done: () => bar.stop(),
    };
  }

  private lines(label: string, initialTotal?: number): Progress {
    let total = initialTotal;
    let value = 0;
    let lastPrinted = 0;
    const print = (force: boolean) => {
      const now = Date.now();
      if (!force && now - lastPrinted < 2_000) return;
      lastPrinted = now;
      this.streams.stderr.write(`${label}: ${value}${total ? `/${total} (${Math.floor((value / total) * 100)}%)` : ''}\n`);
    };
    return {
      tick: (n = 1) => {
        value += n;
        print(false);
      },
      update: (done, newTotal) => {
        if (newTotal !== undefined) total = newTotal;
        value = done;
        print(false);
      },
      done: () => print(true),
    };
  }
}
