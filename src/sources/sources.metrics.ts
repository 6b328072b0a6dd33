import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Metrics } from '../kernel/metrics/metrics';
import { SourceRepository } from './source.repository';

/** Source health on /metrics, read from the database when Prometheus scrapes. */
@Injectable()
export class SourcesMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly sources: SourceRepository,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge({
      name: 'broadsheet_sources',
      help: 'Sources by status: active, failing (its last poll failed), paused (by an editor or after repeated failures).',
      labelNames: ['status'],
      read: async () => (await this.sources.countByStatus()).map(({ status, count }) => ({ labels: { status }, value: count })),
    });
    this.metrics.gauge({
      name: 'broadsheet_source_consecutive_failures',
      help: 'Failed polls in a row, per failing source (by slug).',
      labelNames: ['source'],
      read: async () => (await this.sources.failing()).map((s) => ({ labels: { source: s.slug }, value: s.consecutiveFailures })),
    });
  }
}
