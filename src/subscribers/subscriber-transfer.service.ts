import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Injectable } from '@nestjs/common';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { DataSource } from 'typeorm';
import { Clock } from '../kernel/clock/clock';
import { ValidationError } from '../kernel/errors/domain-error';
import { checkEmailAddress } from './email-address';
import { SubscriberStatus } from './subscriber.entity';
import { SubscribersService } from './subscribers.service';

const BATCH = 1_000;
/** One CSV record at most this big: a hostile file cannot make the parser buffer without end. */
const MAX_RECORD_BYTES = 64 * 1024;

export interface ImportRowError {
  /** The line of the file the record starts on (the header is line 1). */
  line: number;
  email: string;
  error: string;
}

export interface ImportSummary {
  rows: number;
  imported: number;
  /** Addresses already subscribed (in any state), or repeated in the file: left as they are (and listed in the report). */
  duplicates: number;
  invalid: number;
  status: 'active' | 'pending';
}

export interface ImportOptions {
  /** `attested`: the editor attests consent was given elsewhere, so addresses are active at once. */
  consent: 'attested' | 'pending';
  onProgress?: (bytesRead: number) => void;
  onRowError?: (error: ImportRowError) => void;
}

interface PendingRow {
  line: number;
  email: string;
  name: string | null;
  beats: string;
}

/**
 * `broadsheet subscribers import | export`: CSV in and out, streamed (csv-parse / csv-stringify) in batches of
 * 1,000, so memory stays flat whatever the file's size. Every bad row is reported with its line and reason;
 * nothing is ever inserted twice (the unique index on lower(email) decides, across batches and instances).
 */
@Injectable()
export class SubscriberTransfer {
  constructor(
    private readonly dataSource: DataSource,
    private readonly subscribers: SubscribersService,
    private readonly clock: Clock,
  ) {}

  async importCsv(input: Readable, options: ImportOptions): Promise<ImportSummary> {
    const status = options.consent === 'attested' ? SubscriberStatus.Active : SubscriberStatus.Pending;
    const summary: ImportSummary = { rows: 0, imported: 0, duplicates: 0, invalid: 0, status };
    const report = (e: ImportRowError) => {
      summary.invalid += 1;
      options.onRowError?.(e);
    };
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        options.onProgress?.(bytes);
        done(null, chunk);
      },
    });
    let headerChecked = false;
    const parser = parse({
      bom: true,
      columns: (header: string[]) => {
        const names = header.map((h) => String(h).trim().toLowerCase());
        if (!names.includes('email'))
          throw new ValidationError(`The CSV header has no "email" column (found: ${names.join(', ') || 'nothing'}).`, [
            { field: 'email', message: 'a column named email is required' },
          ]);
        headerChecked = true;
        return names;
      },
      skip_empty_lines: true,
      relax_column_count: true,
      trim: true,
      max_record_size: MAX_RECORD_BYTES,
      skip_records_with_error: true,
      info: true,
    });
    parser.on('skip', (error: Error & { lines?: number }) => report({ line: error.lines ?? 0, email: '', error: `unreadable CSV: ${error.message}` }));
    input.pipe(counter).pipe(parser);
    input.on('error', (error) => parser.destroy(error));

    let batch: PendingRow[] = [];
    try {
      for await (const record of parser as AsyncIterable<{ record: Record<string, unknown>; info: { lines: number } }>) {
        summary.rows += 1;
        const line = record.info.lines;
        const raw = typeof record.record.email === 'string' ? fromCsvCell(record.record.email) : '';
        const checked = checkEmailAddress(raw);
        if (!checked.ok) {
          report({ line, email: raw.slice(0, 320), error: checked.problem });
          continue;
        }
        let name: string | null;
        let beats: string[] | null;
        try {
          name = this.cleanName(typeof record.record.name === 'string' ? fromCsvCell(record.record.name) : record.record.name);
          beats = this.subscribers.cleanBeats(record.record.beats ?? null);
        } catch (error) {
          report({ line, email: checked.email, error: (error as Error).message });
          continue;
        }
        batch.push({ line, email: checked.email, name, beats: beats?.join(';') ?? '' });
        if (batch.length >= BATCH) {
          await this.flush(batch, status, summary, options);
          batch = [];
        }
      }
    } catch (error) {
      if (error instanceof ValidationError) throw error;
      throw new ValidationError(`The file could not be read as CSV: ${(error as Error).message}`);
    }
    if (!headerChecked && summary.rows === 0 && bytes === 0) throw new ValidationError('The file is empty: it needs a header row with an "email" column.');
    if (batch.length) await this.flush(batch, status, summary, options);
    return summary;
  }

  private cleanName(input: unknown): string | null {
    if (input === undefined || input === null || input === '') return null;
    if (typeof input !== 'string' || input.length > 200 || /[\p{Cc}\p{Cf}]/u.test(input))
      throw new ValidationError('a name has at most 200 characters and no control characters');
    return input;
  }

  /** Inserts one batch in one statement: new rows, their status events, consent records and (if pending) confirmation emails. */
  private async flush(batch: PendingRow[], status: SubscriberStatus, summary: ImportSummary, options: ImportOptions): Promise<void> {
    const seen = new Set<string>();
    const rows: PendingRow[] = [];
    for (const row of batch) {
      const key = row.email.toLowerCase();
      if (seen.has(key)) {
        summary.duplicates += 1;
        options.onRowError?.({ line: row.line, email: row.email, error: 'duplicate: repeated earlier in this file; skipped' });
        continue;
      }
      seen.add(key);
      rows.push(row);
    }
    const now = this.clock.now();
    const source = status === SubscriberStatus.Active ? 'import-attested' : 'import';
    const formText = status === SubscriberStatus.Active ? 'Imported; consent attested by an editor' : "Imported; pending the subscriber's own confirmation";
    const inserted: Array<{ email: string }> = await this.dataSource.query(
      `WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS t(email, name, beats)),
       ins AS (
         INSERT INTO subscribers (email, name, status, beat_slugs, consent_at, consent_source, consent_text, confirm_requested_at, confirmed_at)
         SELECT email, name, $4, CASE WHEN beats = '' THEN NULL ELSE string_to_array(beats, ';') END, $5, $6, $7,
                CASE WHEN $4 = 'pending' THEN $5::timestamptz END, CASE WHEN $4 = 'active' THEN $5::timestamptz END
         FROM input ON CONFLICT ((lower(email))) DO NOTHING RETURNING id, email, status),
       ev AS (INSERT INTO subscriber_status_events (subscriber_id, from_status, to_status, at) SELECT id, NULL, status, $5 FROM ins),
       co AS (INSERT INTO subscriber_consents (subscriber_id, kind, at, source, form_text) SELECT id, $6, $5, 'cli-import', $7 FROM ins),
       em AS (INSERT INTO subscriber_emails (subscriber_id, kind, to_email, token_at, next_attempt_at, idempotency_key)
              SELECT id, 'confirm', email, $5, $5, 'confirm-' || id || '-' || $8 FROM ins WHERE status = 'pending')
       SELECT email FROM ins`,
      [rows.map((r) => r.email), rows.map((r) => r.name), rows.map((r) => r.beats), status, now, source, formText, String(now.getTime())],
    );
    const added = new Set(inserted.map((r) => r.email.toLowerCase()));
    summary.imported += added.size;
    summary.duplicates += rows.length - added.size;
    for (const row of rows) {
      if (!added.has(row.email.toLowerCase()))
        options.onRowError?.({
          line: row.line,
          email: row.email,
          error: 'duplicate: already in the subscriber list (or earlier in this file); left unchanged',
        });
    }
  }

  /** Every subscriber but the deleted, as CSV with a header row, in pages of 1,000 (keyset by id). */
  async exportCsv(output: Writable, options: { status?: SubscriberStatus; onProgress?: (rows: number) => void } = {}): Promise<{ rows: number }> {
    const columns = ['email', 'name', 'status', 'beats', 'created_at', 'confirmed_at', 'unsubscribed_at', 'suppression_reason', 'consent_source'];
    const csv = stringify({ header: true, columns, cast: { date: (d) => d.toISOString(), string: toCsvCell } });
    let rows = 0;
    const source = async function* (this: SubscriberTransfer) {
      let after: string | null = null;
      for (;;) {
        const params: unknown[] = [BATCH];
        let where = `status <> 'deleted'`;
        if (options.status) {
          params.push(options.status);
          where += ` AND status = $${params.length}`;
        }
        if (after) {
          params.push(after);
          where += ` AND id > $${params.length}`;
        }
        const page: Array<Record<string, unknown> & { id: string; beat_slugs: string[] | null }> = await this.dataSource.query(
          `SELECT id, email, name, status, beat_slugs, created_at, confirmed_at, unsubscribed_at, suppression_reason, consent_source FROM subscribers WHERE ${where} ORDER BY id LIMIT $1`,
          params,
        );
        if (page.length === 0) return;
        for (const r of page) {
          rows += 1;
          yield { ...r, beats: r.beat_slugs?.join(';') ?? '', name: r.name ?? '' };
        }
        options.onProgress?.(rows);
        after = page[page.length - 1].id;
      }
    }.call(this);
    await pipeline(source, csv, output);
    return { rows };
  }
}

/**
 * CSV injection (OWASP): a spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as
 * a formula, and an address (`+x@…`, `=x@…` are valid local parts) or a name is the subscriber's own text. Exported
 * cells that start so get a leading `'`, which spreadsheets show as text; the import takes it off again, so an
 * export reads back the same.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function toCsvCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

export function fromCsvCell(value: string): string {
  return value.startsWith("'") && FORMULA_START.test(value.slice(1)) ? value.slice(1) : value;
}
