import { Module } from '@nestjs/common';
import { SubscriberRepository } from './subscriber.repository';
import { SubscribersService } from './subscribers.service';

@Module({
  providers: [SubscribersService, SubscriberRepository],
  exports: [SubscribersService],
})
export class SubscribersModule {}
