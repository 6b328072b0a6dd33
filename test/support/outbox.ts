import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';

export interface OutboxMessage {
  file: string;
  size: number;
  raw: string;
  mail: ParsedMail;
  /** A header's value as written (unfolded), e.g. header('list-unsubscribe-post'). */
  header(name: string): string | undefined;
}

/** Every .eml in the outbox, parsed by mailparser as a mail client would. */
export async function readOutbox(dir: string): Promise<OutboxMessage[]> {
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.eml'))
      .sort();
  } catch {
    return [];
  }
  return Promise.all(
    files.map(async (file) => {
      const path = join(dir, file);
      const raw = readFileSync(path, 'utf8');
      const mail = await simpleParser(raw);
      const lines = new Map(mail.headerLines.map((h) => [h.key, h.line.replace(/\r?\n[ \t]+/g, ' ').replace(/^[^:]+:\s*/, '')]));
      return { file, size: statSync(path).size, raw, mail, header: (name: string) => lines.get(name.toLowerCase()) };
    }),
  );
}
