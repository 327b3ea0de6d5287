import { Controller, Get, Header, Res } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { ReadinessService } from '../../application/readiness/readiness.service';
import { HttpResult } from '../shared/http-result';

/** §3.2: `{ status, checks }`, 200 when ready or degraded, 503 with Retry-After when not ready. */
@Controller()
export class ReadinessController {
  constructor(private readonly readiness: ReadinessService) {}

  @Get('readiness')
  @Header('Cache-Control', 'no-store')
  async report(@Res({ passthrough: true }) reply: FastifyReply) {
    const report = await this.readiness.report();
    if (report.status === 'not_ready') reply.header('Retry-After', '5');
    return new HttpResult(report.status === 'not_ready' ? 503 : 200, report);
  }
}
