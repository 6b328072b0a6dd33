import { Resend } from 'resend';

/** A provider's webhook event, in our own terms. */
export interface ProviderEvent {
  /** The delivery's unique id (`svix-id`): the same event retried carries the same id. */
  id: string;
  /** `email.delivered`, `email.bounced`, `email.complained`, … */
  type: string;
  /** The provider's id of the message (what its send answer returned). */
  messageId: string | null;
  /** The address it was sent to. */
  to: string | null;
  occurredAt: Date | null;
  /** Permanent bounce (`bounce.type: Permanent`): the address will never accept mail. */
  hardBounce: boolean;
  detail: string | null;
  payload: unknown;
}

export class WebhookVerificationError extends Error {}

/**
 * Verifies Resend's Svix-signed webhooks with the SDK's own `webhooks.verify` (HMAC over id, timestamp and the raw
 * body; timestamps more than five minutes off are refused) and maps the event to a `ProviderEvent`.
 */
export class ResendWebhooks {
  private readonly client = new Resend('re_webhook_verification_only');

  constructor(private readonly secret: string) {}

  verify(rawBody: string, headers: Record<string, string | string[] | undefined>): ProviderEvent {
    const header = (name: string) => {
      const value = headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const id = header('svix-id');
    const timestamp = header('svix-timestamp');
    const signature = header('svix-signature');
    if (!id || !timestamp || !signature) throw new WebhookVerificationError('missing svix-id, svix-timestamp or svix-signature header');
    let event: { type?: unknown; created_at?: unknown; data?: Record<string, unknown> };
    try {
      event = this.client.webhooks.verify({ payload: rawBody, headers: { id, timestamp, signature }, webhookSecret: this.secret }) as unknown as typeof event;
    } catch (error) {
      throw new WebhookVerificationError(`signature rejected: ${(error as Error).message}`);
    }
    const data = event.data ?? {};
    const bounce = data.bounce as { type?: string; subType?: string; message?: string } | undefined;
    const to = Array.isArray(data.to) ? String(data.to[0] ?? '') || null : typeof data.to === 'string' ? data.to : null;
    const at = typeof event.created_at === 'string' ? new Date(event.created_at) : null;
    return {
      id,
      type: typeof event.type === 'string' ? event.type : 'unknown',
      messageId: typeof data.email_id === 'string' ? data.email_id : null,
      to,
      occurredAt: at && !Number.isNaN(at.getTime()) ? at : null,
      hardBounce: event.type === 'email.bounced' && bounce?.type === 'Permanent',
      detail:
        bounce?.message ?? (typeof (data.failed as { reason?: string } | undefined)?.reason === 'string' ? (data.failed as { reason: string }).reason : null),
      payload: event,
    };
  }
}
