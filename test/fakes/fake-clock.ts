import { Clock } from '../../src/kernel/clock/clock';

/** A clock tests move by hand. */
export class FakeClock extends Clock {
  constructor(private current: Date = new Date('2026-11-27T12:00:00Z')) {
    super();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
  set(at: Date): void {
    this.current = new Date(at);
  }
}
