import { Controller, Get, Header } from '@nestjs/common';

/** §3.1: at the host root, never behind the API key, independent of every dependency. */
@Controller()
export class HealthController {
  @Get('health')
  @Header('Cache-Control', 'no-store')
  health(): { ok: true } {
    return { ok: true };
  }
}
