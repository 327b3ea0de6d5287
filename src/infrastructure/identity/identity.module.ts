import { Module } from '@nestjs/common';
import { IssueMachineIdentityChallengeHandler } from '../../application/identity/issue-machine-identity-challenge';
import { CLOCK, Clock } from '../../application/ports/clock.port';
import { MCR_RESOLVER } from '../../application/ports/mcr-resolver.port';
import { SIGNATURE_VERIFIER } from '../../application/ports/signature-verifier.port';
import { APP_CONFIG, AppConfig } from '../../config/app-config';
import { MachineIdentityController } from '../../http/identity/machine-identity.controller';
import { HttpMcrResolver } from './mcr-resolver.http';
import { ViemSignatureVerifier } from './signature-verifier.viem';

/** Machine identity (§4.3–§4.6.1): the MCR and signature ports, and the challenge endpoint. */
@Module({
  controllers: [MachineIdentityController],
  providers: [
    {
      provide: MCR_RESOLVER,
      inject: [APP_CONFIG, CLOCK],
      useFactory: (config: AppConfig, clock: Clock) =>
        new HttpMcrResolver({ baseUrl: config.mcrApiUrl, timeoutMs: config.mcrTimeoutMs, cacheTtlMs: config.mcrCacheTtlMs, clock }),
    },
    { provide: SIGNATURE_VERIFIER, useValue: new ViemSignatureVerifier() },
    IssueMachineIdentityChallengeHandler,
  ],
  exports: [MCR_RESOLVER, SIGNATURE_VERIFIER],
})
export class IdentityModule {}
