import { type BatchOutcome, type EmailSender } from '../email/email-sender.port';
import { type Metrics } from './metrics';

/**
 * Counts what the provider answers for every batch (digests and confirmation emails alike), by wrapping the sender's
 * `sendBatch` in place: the adapter keeps its class and every other method, whatever the port grows.
 */
export function meterEmailSender<T extends EmailSender>(sender: T, metrics: Metrics): T {
  const send = sender.sendBatch.bind(sender);
  sender.sendBatch = async (emails, options): Promise<BatchOutcome> => {
    const outcome = await send(emails, options);
    if (outcome.kind === 'accepted') {
      const accepted = outcome.messages.filter((m) => m.status === 'accepted').length;
      metrics.email(sender.name, 'accepted', accepted);
      metrics.email(sender.name, 'rejected', outcome.messages.length - accepted);
    } else {
      metrics.email(sender.name, outcome.kind === 'retry' || outcome.kind === 'rate-limited' || outcome.kind === 'quota' ? 'retried' : 'failed', emails.length);
    }
    return outcome;
  };
  return sender;
}
