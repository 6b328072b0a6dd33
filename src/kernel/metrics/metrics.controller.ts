import { Controller, Get, Res } from '@nestjs/common';
import { type Response } from 'express';
import { Metrics } from './metrics';

/** Prometheus text format. Public, as DESIGN says: it holds counts, never addresses or content. */
@Controller()
export class MetricsController {
  constructor(private readonly metrics: Metrics) {}

  @Get('metrics')
  async scrape(@Res() res: Response): Promise<void> {
    const { contentType, body } = await this.metrics.render();
    res.status(200).set('Cache-Control', 'no-store').type(contentType).send(body);
  }
}
