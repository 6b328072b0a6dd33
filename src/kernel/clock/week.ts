/** A publishing week: [start, end), Monday 00:00 UTC to the next Monday. */
export interface Week {
  start: Date;
  end: Date;
}

const DAY = 86_400_000;

export function weekContaining(at: Date): Week {
  const midnight = Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate());
  const sinceMonday = (new Date(midnight).getUTCDay() + 6) % 7;
  const start = new Date(midnight - sinceMonday * DAY);
  return { start, end: new Date(start.getTime() + 7 * DAY) };
}

export function previousWeek(week: Week): Week {
  return { start: new Date(week.start.getTime() - 7 * DAY), end: week.start };
}

/** "16–22 November 2026" */
export function weekLabel(week: Week): string {
  const last = new Date(week.end.getTime() - DAY);
  const day = (d: Date) => d.getUTCDate();
  const month = (d: Date) => d.toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' });
  if (week.start.getUTCMonth() === last.getUTCMonth()) {
    return `${day(week.start)}–${day(last)} ${month(last)} ${last.getUTCFullYear()}`;
  }
  return `${day(week.start)} ${month(week.start)} – ${day(last)} ${month(last)} ${last.getUTCFullYear()}`;
}
