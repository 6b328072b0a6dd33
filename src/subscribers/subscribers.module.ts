import { Module } from '@nestjs/common';
import { RateLimiter } from './rate-limiter';
import { SubscriberMailer } from './subscriber-mailer';
import { SubscriberRepository } from './subscriber.repository';
import { SubscribersService } from './subscribers.service';

@Module({
  providers: [SubscribersService, SubscriberRepository, RateLimiter, SubscriberMailer],
  exports: [SubscribersService, SubscriberMailer],
})
export class SubscribersModule {}
