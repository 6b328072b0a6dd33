import chardet from 'chardet';
import iconv from 'iconv-lite';
import { FeedParseError } from './feed-parse-error';

/** Byte patterns of `<?` / `<` in UTF-32 and UTF-16 without a byte-order mark (XML 1.0 appendix F). */
function sniffWide(b: Buffer): string | null {
  if (b.length < 4) return null;
  if (b[0] === 0x00 && b[1] === 0x00 && b[2] === 0xfe && b[3] === 0xff) return 'utf-32be';
  if (b[0] === 0xff && b[1] === 0xfe && b[2] === 0x00 && b[3] === 0x00) return 'utf-32le';
  if (b[0] === 0x00 && b[1] === 0x00 && b[2] === 0x00 && b[3] !== 0x00) return 'utf-32be';
  if (b[0] !== 0x00 && b[1] === 0x00 && b[2] === 0x00 && b[3] === 0x00) return 'utf-32le';
  if (b[0] === 0xfe && b[1] === 0xff) return 'utf-16be';
  if (b[0] === 0xff && b[1] === 0xfe) return 'utf-16le';
  if (b[0] === 0x00 && b[1] !== 0x00 && b[2] === 0x00 && b[3] !== 0x00) return 'utf-16be';
  if (b[0] !== 0x00 && b[1] === 0x00 && b[2] !== 0x00 && b[3] === 0x00) return 'utf-16le';
  return null;
}

/** Like browsers, ISO-8859-1 and ASCII labels mean windows-1252 (whose 0x80–0x9F are curly quotes, dashes, €). */
function normaliseLabel(label: string): string {
  return /^(iso[-_]?8859[-_]1|latin-?1|l1|us-ascii|ascii|iso-ir-100|cp819)$/i.test(label) ? 'windows-1252' : label.toLowerCase();
}

function decodeAs(bytes: Buffer, label: string, origin: string): string {
  const name = normaliseLabel(label);
  if (!iconv.encodingExists(name)) throw new FeedParseError(`unsupported character encoding "${label}" (${origin})`);
  return iconv.decode(bytes, name, { stripBOM: true });
}

function isUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** The charset parameter of a Content-Type header, if any. */
export function charsetOf(contentType: string | undefined | null): string | undefined {
  return contentType ? /;\s*charset\s*=\s*"?([A-Za-z0-9._:-]+)"?/i.exec(contentType)?.[1] : undefined;
}

/**
 * Decodes a feed's bytes: a byte-order mark or the UTF-16/UTF-32 byte pattern first, then the XML declaration's
 * encoding, then the HTTP charset, then UTF-8 if the bytes are valid UTF-8, and otherwise the encoding that
 * chardet detects (undeclared ISO-8859-1, windows-1252, Big5, Shift_JIS, …).
 */
export function decodeFeedBytes(bytes: Buffer, options: { contentType?: string | null } = {}): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return bytes.subarray(3).toString('utf8');
  const wide = sniffWide(bytes);
  if (wide) return decodeAs(bytes, wide, 'byte pattern');
  const head = bytes.subarray(0, 256).toString('latin1');
  const declared = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']/.exec(head)?.[1];
  if (declared) {
    // A declaration of UTF-16 on single-byte content is a lie we can see; everything else is taken at its word.
    if (/^utf-?8$/i.test(declared) || /^utf-?(16|32)/i.test(declared)) return bytes.toString('utf8');
    return decodeAs(bytes, declared, 'declared in the XML declaration');
  }
  const httpCharset = charsetOf(options.contentType);
  if (httpCharset && !/^utf-?8$/i.test(httpCharset)) return decodeAs(bytes, httpCharset, 'declared by the server');
  if (isUtf8(bytes)) return bytes.toString('utf8');
  const sample = bytes.subarray(0, 64 * 1024);
  const guess = chardet.analyse(sample).find((m) => iconv.encodingExists(normaliseLabel(m.name)));
  return decodeAs(bytes, guess?.name ?? 'windows-1252', 'detected');
}
