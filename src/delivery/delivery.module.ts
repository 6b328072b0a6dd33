import { Module } from '@nestjs/common';
import { IssuesModule } from '../issues/issues.module';
import { SubscribersModule } from '../subscribers/subscribers.module';
import { DeliveryMetrics } from './delivery.metrics';
import { DeliveryRepository } from './delivery.repository';
import { DeliveryService } from './delivery.service';

@Module({
  imports: [IssuesModule, SubscribersModule],
  providers: [DeliveryService, DeliveryRepository, DeliveryMetrics],
  exports: [DeliveryService],
})
export class DeliveryModule {}
