import { Module } from '@nestjs/common';
import { ProbeDownstream } from './probe-downstream';
import { ProbeController } from './probe.controller';
import { ProbeNotesReader } from './probe-notes.reader';

export { probeNotesProjection } from './probe-notes.projection';

/** Mounted only by the e2e tests (through createApp's `imports` and `projections`). */
@Module({
  controllers: [ProbeController],
  providers: [ProbeNotesReader, ProbeDownstream],
  exports: [ProbeDownstream],
})
export class ProbeModule {}
