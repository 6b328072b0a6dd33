import { Module } from '@nestjs/common';
import { IssuesModule } from '../issues/issues.module';
import { SubscribersModule } from '../subscribers/subscribers.module';
import { DeliveryMetrics } from './delivery.metrics';
import { DeliveryRepository } from './delivery.repository';
import { DeliveryEngine } from './delivery-engine';
import { DeliveryService } from './delivery.service';
import { RateLimiter } from './rate-limiter';
import { DeliveryWebhooksService } from './delivery-webhooks.service';
import { ResendWebhooksController } from './resend-webhooks.controller';
import { WelcomeCatchUp } from './welcome-catch-up';

@Module({
  imports: [IssuesModule, SubscribersModule],
  controllers: [ResendWebhooksController],
  providers: [DeliveryService, DeliveryEngine, DeliveryRepository, RateLimiter, DeliveryMetrics, DeliveryWebhooksService, WelcomeCatchUp],
  exports: [DeliveryService],
})
export class DeliveryModule {}
