import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG } from '../kernel/config/config.module';
import { type AppConfig } from '../kernel/config/config';
import { DomainError, NotFoundError, ValidationError } from '../kernel/errors/domain-error';
import { ResendWebhooks, WebhookVerificationError } from '../kernel/email/resend-webhooks.adapter';
import { SubscribersService } from '../subscribers/subscribers.service';
import { DeliveryRepository } from './delivery.repository';

export class WebhookSignatureError extends DomainError {
  readonly code = 'invalid_webhook_signature';
  readonly status = 401;
}
export class WebhooksDisabledError extends NotFoundError {
  override readonly code: string = 'webhooks_not_configured';
}

/**
 * Provider webhook events: verified on the raw body, stored once per event id against the recipient they are
 * about, and acted on: a hard bounce or a complaint suppresses the address in subscribers.
 */
@Injectable()
export class DeliveryWebhooksService {
  private readonly logger = new Logger('DeliveryWebhooks');
  private readonly verifier: ResendWebhooks | null;

  constructor(
    private readonly repo: DeliveryRepository,
    private readonly subscribers: SubscribersService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.verifier = config.email.webhookSecret ? new ResendWebhooks(config.email.webhookSecret) : null;
  }

  async receive(rawBody: string | null, headers: Record<string, string | string[] | undefined>): Promise<{ duplicate: boolean }> {
    if (!this.verifier) throw new WebhooksDisabledError('Resend webhooks are not configured (set RESEND_WEBHOOK_SECRET)');
    if (rawBody === null || rawBody.length === 0) throw new ValidationError('empty webhook body');
    let event;
    try {
      event = this.verifier.verify(rawBody, headers);
    } catch (error) {
      if (error instanceof WebhookVerificationError) throw new WebhookSignatureError(`webhook refused: ${error.message}`);
      throw error;
    }
    const { stored, recipient } = await this.repo.recordEvent({
      eventId: event.id,
      type: event.type,
      messageId: event.messageId,
      occurredAt: event.occurredAt,
      payload: event.payload,
    });
    if (!stored) return { duplicate: true };
    const email = recipient?.email ?? event.to;
    if (email && (event.hardBounce || event.type === 'email.complained')) {
      const reason = event.hardBounce ? 'bounced' : 'complained';
      await this.subscribers.suppress({ email, reason, ...(event.detail ? { detail: event.detail } : {}) });
      this.logger.warn(`${email}: ${reason}, suppressed`);
    }
    return { duplicate: false };
  }
}
