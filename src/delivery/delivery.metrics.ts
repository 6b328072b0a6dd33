import { Injectable, type OnModuleInit } from '@nestjs/common';
import { Metrics } from '../kernel/metrics/metrics';
import { DeliveryRepository } from './delivery.repository';

/** Registers the delivery queue's depth with /metrics, read from the database when Prometheus scrapes. */
@Injectable()
export class DeliveryMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: Metrics,
    private readonly repo: DeliveryRepository,
  ) {}

  onModuleInit(): void {
    this.metrics.gauge({
      name: 'broadsheet_delivery_batches_open',
      help: 'Delivery batches not yet final, by status (pending: queued; submitting: with the provider; held: waiting for an editor).',
      labelNames: ['status'],
      read: async () => (await this.repo.countOpenBatches()).map(({ status, count }) => ({ labels: { status }, value: count })),
    });
  }
}
