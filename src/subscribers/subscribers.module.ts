import { Module } from '@nestjs/common';
import { RateLimiter } from './rate-limiter';
import { SubscriberMailer } from './subscriber-mailer';
import { SubscriberRepository } from './subscriber.repository';
import { SubscriberTransfer } from './subscriber-transfer.service';
import { SubscribersService } from './subscribers.service';

@Module({
  providers: [SubscribersService, SubscriberRepository, RateLimiter, SubscriberMailer, SubscriberTransfer],
  exports: [SubscribersService, SubscriberMailer, SubscriberTransfer],
})
export class SubscribersModule {}
