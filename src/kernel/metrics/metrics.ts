import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type JobRunOutcome = 'ok' | 'failed' | 'skipped';
export type NarrativeOutcome = 'written' | 'held' | 'unchanged' | 'failed';
/** What the email provider answered, per message: accepted, rejected (a 4xx for that address), failed (the whole batch). */
export type EmailOutcome = 'accepted' | 'rejected' | 'failed' | 'retried';

/**
 * The application's Prometheus metrics (prom-client), one registry per app instance, served at /metrics. Modules
 * call the one-line methods below; gauges that read the database at scrape time are registered with `gauge()`.
 */
@Injectable()
export class Metrics {
  readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: 'broadsheet_http_requests_total',
    help: 'HTTP requests answered, by method, route template and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'broadsheet_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route template.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly jobRuns = new Counter({
    name: 'broadsheet_job_runs_total',
    help: 'Job runs by job and outcome (ok, failed, skipped because another run held the lock).',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly jobDuration = new Histogram({
    name: 'broadsheet_job_duration_seconds',
    help: 'Duration of job runs that took the lock, by job.',
    labelNames: ['job'] as const,
    buckets: [0.1, 0.5, 1, 5, 15, 60, 300, 900, 1800],
    registers: [this.registry],
  });
  private readonly records = new Counter({
    name: 'broadsheet_records_ingested_total',
    help: 'New discourse records stored by polling, by platform.',
    labelNames: ['platform'] as const,
    registers: [this.registry],
  });
  private readonly narratives = new Counter({
    name: 'broadsheet_narratives_total',
    help: 'Storylines handled by the narrative writer, by outcome (written and published, held below the fidelity threshold, unchanged, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly emails = new Counter({
    name: 'broadsheet_emails_total',
    help: 'Emails handed to the email provider, by its answer: accepted, rejected (that address), failed (the whole batch), retried (asked to wait).',
    labelNames: ['provider', 'outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'broadsheet_' });
  }

  /** `route` is the route's template (`/stories/:slug`), never the raw URL, so the label set stays small. */
  httpRequest(input: { method: string; route: string; status: number; seconds: number }): void {
    this.httpRequests.inc({ method: input.method, route: input.route, status: String(input.status) });
    this.httpDuration.observe({ method: input.method, route: input.route }, input.seconds);
  }

  jobRun(job: string, outcome: JobRunOutcome, seconds?: number): void {
    this.jobRuns.inc({ job, outcome });
    if (seconds !== undefined) this.jobDuration.observe({ job }, seconds);
  }

  recordsIngested(platform: string, count: number): void {
    this.records.inc({ platform }, count);
  }

  narrative(outcome: NarrativeOutcome): void {
    this.narratives.inc({ outcome });
  }

  email(provider: string, outcome: EmailOutcome, count = 1): void {
    if (count > 0) this.emails.inc({ provider, outcome }, count);
  }

  /** A gauge whose value is read when Prometheus scrapes (e.g. a count from the database). */
  gauge(input: { name: string; help: string; labelNames?: string[]; read: () => Promise<Array<{ labels?: Record<string, string>; value: number }>> }): void {
    const read = input.read;
    new Gauge({
      name: input.name,
      help: input.help,
      labelNames: input.labelNames ?? [],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { labels, value } of await read()) {
          if (labels) this.set(labels, value);
          else this.set(value);
        }
      },
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
