import { DateTime } from 'luxon';

const ISO = /^\d{4}-\d{2}(-\d{2})?([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?)?$/i;
const ISO_BASIC = /^\d{8}T\d{6}(\.\d+)?(Z|[+-]\d{4})?$/i;
const RFC822 = /^(?:[A-Za-z]{2,9},?\s*)?(\d{1,2}\s+[A-Za-z]{3,9}\s+\d{2,4}\s+\d{1,2}:\d{2}(?::\d{2})?)\s*([A-Za-z]{1,5}|[+-]\d{4})?$/;
const MONTHS: Record<string, string> = {
  january: 'Jan',
  february: 'Feb',
  march: 'Mar',
  april: 'Apr',
  june: 'Jun',
  july: 'Jul',
  august: 'Aug',
  september: 'Sep',
  sept: 'Sep',
  october: 'Oct',
  november: 'Nov',
  december: 'Dec',
};
const ZONES: Record<string, string> = {
  UT: '+0000',
  UTC: '+0000',
  GMT: '+0000',
  Z: '+0000',
  EST: '-0500',
  EDT: '-0400',
  CST: '-0600',
  CDT: '-0500',
  MST: '-0700',
  MDT: '-0600',
  PST: '-0800',
  PDT: '-0700',
};

/** Earliest date taken as real: anything before is a placeholder ("0", epoch zero). */
const EARLIEST = Date.UTC(1971, 0, 1);

/**
 * Parses a feed date strictly: RFC 3339 / ISO 8601 (calendar dates, 4-digit year) or RFC 822/2822 (the weekday,
 * which feeds often get wrong, is ignored). Impossible dates (February 30th), bare numbers ("0", "12"), signed
 * or expanded years and dates before 1971 give null: the caller then dates the item when it is first seen.
 */
export function parseFeedDate(input: unknown): Date | null {
  if (typeof input !== 'string') return null;
  const value = input.trim();
  if (!value || value.length > 64) return null;
  let date: DateTime | null = null;
  if (ISO.test(value)) {
    date =
      value.includes(' ') && !value.includes('T')
        ? DateTime.fromSQL(value.replace(/\s+(?=[Z+-])/i, ''), { zone: 'utc' })
        : DateTime.fromISO(value, { zone: 'utc' });
    if (!date.isValid && value.includes(' ')) date = DateTime.fromISO(value.replace(' ', 'T').replace(/\s+/g, ''), { zone: 'utc' });
  } else if (ISO_BASIC.test(value)) {
    date = DateTime.fromISO(value, { zone: 'utc' });
  } else {
    const m = RFC822.exec(value);
    if (m) {
      const [day, month, year, time] = m[1].split(/\s+/);
      const mon = MONTHS[month.toLowerCase()] ?? month.slice(0, 1).toUpperCase() + month.slice(1, 3).toLowerCase();
      const zone = m[2] ? (ZONES[m[2].toUpperCase()] ?? (/^[+-]\d{4}$/.test(m[2]) ? m[2] : m[2].length === 1 ? '+0000' : null)) : '+0000';
      if (zone) date = DateTime.fromRFC2822(`${day} ${mon} ${year} ${time.length === 4 ? `0${time}` : time} ${zone}`, { zone: 'utc' });
    }
  }
  if (!date?.isValid) return null;
  const ms = date.toMillis();
  return ms >= EARLIEST && date.year <= 9999 ? new Date(ms) : null;
}

/** Latest date taken as real (the end of year 9999, as for feed dates). */
const LATEST = Date.UTC(10000, 0, 1) - 1;

/**
 * A platform's epoch-seconds timestamp (Reddit's `created_utc`, Algolia's `created_at_i`) as a date, with the bounds
 * of `parseFeedDate`: a placeholder, a negative, a non-finite or an absurd number gives null (the item is then dated
 * when it is first seen), never a date the database refuses (year 0 and before), which would fail the whole write.
 */
export function dateFromEpochSeconds(input: unknown): Date | null {
  if (typeof input !== 'number' || !Number.isFinite(input)) return null;
  const ms = Math.round(input * 1000);
  return ms >= EARLIEST && ms <= LATEST ? new Date(ms) : null;
}
