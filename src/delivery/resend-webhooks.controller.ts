import { Controller, HttpCode, Post, Req } from '@nestjs/common';
import { type RawBodyRequest } from '@nestjs/common';
import { type Request } from 'express';
import { DeliveryWebhooksService } from './delivery-webhooks.service';

/** Resend's webhook deliveries (Svix-signed). Configure the endpoint `${PUBLIC_URL}/webhooks/resend` in Resend. */
@Controller('webhooks')
export class ResendWebhooksController {
  constructor(private readonly webhooks: DeliveryWebhooksService) {}

  @Post('resend')
  @HttpCode(200)
  async receive(@Req() req: RawBodyRequest<Request>): Promise<{ received: true; duplicate: boolean }> {
    const { duplicate } = await this.webhooks.receive(req.rawBody?.toString('utf8') ?? null, req.headers);
    return { received: true, duplicate };
  }
}
