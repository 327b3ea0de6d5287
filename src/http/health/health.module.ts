import { Module } from '@nestjs/common';
import { ReadinessService } from '../../application/readiness/readiness.service';
import { HealthController } from './health.controller';
import { ReadinessController } from './readiness.controller';

@Module({
  controllers: [HealthController, ReadinessController],
  providers: [ReadinessService],
})
export class HealthModule {}
