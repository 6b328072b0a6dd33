import { Global, Logger, Module } from '@nestjs/common';
import { APP_CONFIG } from './config/config.module';
import { type AppConfig } from './config/config';
import { Clock, SystemClock } from './clock/clock';
import { EmailSender } from './email/email-sender.port';
import { OutboxEmailSender } from './email/outbox-email-sender.adapter';
import { ResendEmailSender } from './email/resend-email-sender.adapter';
import { SmtpEmailSender } from './email/smtp-email-sender.adapter';
import { NarrativeWriter } from './llm/narrative-writer.port';
import { AnthropicNarrativeWriter } from './llm/anthropic-narrative-writer.adapter';
import { OfflineNarrativeWriter } from './llm/offline-narrative-writer.adapter';
import { ClaimJudge, DisabledClaimJudge } from './llm/claim-judge.port';
import { AnthropicClaimJudge } from './llm/anthropic-claim-judge.adapter';
import { EmbeddingsProvider, NoEmbeddings } from './embeddings/embeddings.port';
import { HashingEmbeddings } from './embeddings/hashing-embeddings.adapter';
import { HttpFetcher } from './http/http-fetcher.port';
import { SafeHttpFetcher } from './http/safe-http-fetcher.adapter';
import { JobRunner } from './jobs/job-runner';
import { meterEmailSender } from './metrics/metered-email-sender';
import { Metrics } from './metrics/metrics';
import { SigningKey } from './secrets/signing-key';
import { EmailTemplates } from './templates/email-templates';

/** Ports to the outside world, chosen by config (never by NODE_ENV); tests override them or point them at fakes. */
@Global()
@Module({
  providers: [
    { provide: Clock, useClass: SystemClock },
    {
      provide: EmailSender,
      inject: [APP_CONFIG, Metrics],
      useFactory: (config: AppConfig, metrics: Metrics): EmailSender => {
        const { resend, outboxDir, smtpUrl } = config.email;
        if (resend) return meterEmailSender(new ResendEmailSender({ apiKey: resend.apiKey, baseUrl: resend.baseUrl }), metrics);
        if (smtpUrl) return meterEmailSender(new SmtpEmailSender({ url: smtpUrl, messageIdDomain: new URL(config.server.publicUrl).hostname }), metrics);
        new Logger('Email').log(`no RESEND_API_KEY: emails are written to ${outboxDir}`);
        return meterEmailSender(new OutboxEmailSender(outboxDir), metrics);
      },
    },
    {
      provide: NarrativeWriter,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): NarrativeWriter => {
        const { apiKey, baseUrl, model, maxRetries, maxTokens } = config.anthropic;
        if (apiKey) return new AnthropicNarrativeWriter({ apiKey, baseUrl, model, maxRetries, maxTokens });
        new Logger('Narratives').log('no ANTHROPIC_API_KEY: narratives are offline drafts composed from the records');
        return new OfflineNarrativeWriter();
      },
    },
    {
      provide: ClaimJudge,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): ClaimJudge => {
        const { apiKey, baseUrl, judgeModel, maxRetries } = config.anthropic;
        return apiKey && config.narratives.entailmentJudge
          ? new AnthropicClaimJudge({ apiKey, baseUrl, model: judgeModel, maxRetries })
          : new DisabledClaimJudge();
      },
    },
    {
      provide: EmbeddingsProvider,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): EmbeddingsProvider => (config.narratives.embeddings === 'hashing' ? new HashingEmbeddings() : new NoEmbeddings()),
    },
    {
      provide: HttpFetcher,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig): HttpFetcher => new SafeHttpFetcher(config.fetch),
    },
    JobRunner,
    Metrics,
    SigningKey,
    { provide: EmailTemplates, useFactory: () => new EmailTemplates() },
  ],
  exports: [Clock, EmailSender, NarrativeWriter, ClaimJudge, EmbeddingsProvider, HttpFetcher, JobRunner, Metrics, SigningKey, EmailTemplates],
})
export class KernelModule {}
