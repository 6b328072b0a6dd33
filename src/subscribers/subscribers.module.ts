import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { Clock } from '../kernel/clock/clock';
import { SigningKey } from '../kernel/secrets/signing-key';
import { RateLimiter } from './rate-limiter';
import { NoChallenge, ProofOfWorkChallenge, SignupChallenge } from './signup-challenge';
import { SubscriberMailer } from './subscriber-mailer';
import { SubscriberRepository } from './subscriber.repository';
import { SubscriberTransfer } from './subscriber-transfer.service';
import { SubscribersService } from './subscribers.service';

@Module({
  providers: [
    SubscribersService,
    SubscriberRepository,
    RateLimiter,
    SubscriberMailer,
    SubscriberTransfer,
    {
      // SUBSCRIBE_CHALLENGE picks the built-in challenge; a captcha adapter replaces this provider.
      provide: SignupChallenge,
      inject: [APP_CONFIG, SigningKey, RateLimiter, Clock],
      useFactory: (config: AppConfig, keys: SigningKey, limiter: RateLimiter, clock: Clock): SignupChallenge =>
        config.subscribers.challenge.kind === 'pow' ? new ProofOfWorkChallenge(keys, limiter, clock, config.subscribers.challenge) : new NoChallenge(),
    },
  ],
  exports: [SubscribersService, SubscriberMailer, SubscriberTransfer],
})
export class SubscribersModule {}
