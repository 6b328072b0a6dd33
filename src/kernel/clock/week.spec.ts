import { previousWeek, weekContaining, weekLabel } from './week';

describe('weeks', () => {
  it('runs Monday 00:00 UTC to the next Monday', () => {
    const week = weekContaining(new Date('2026-11-22T23:59:59Z'));
    expect(week.start.toISOString()).toBe('2026-11-16T00:00:00.000Z');
    expect(week.end.toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(weekContaining(new Date('2026-11-23T00:00:00Z')).start.toISOString()).toBe('2026-11-23T00:00:00.000Z');
  });

  it('labels and steps back', () => {
    const week = weekContaining(new Date('2026-11-18T12:00:00Z'));
    expect(weekLabel(week)).toBe('16–22 November 2026');
    expect(weekLabel(previousWeek(weekContaining(new Date('2026-12-02T00:00:00Z'))))).toBe('23–29 November 2026');
    expect(weekLabel(weekContaining(new Date('2026-12-01T00:00:00Z')))).toBe('30 November – 6 December 2026');
  });
});
