import type { Provider } from '@nestjs/common';
import { PROVIDER_ADAPTERS, ProviderAdapter, ProviderAnswer, ProviderInvocation } from '../../src/application/ports/provider-adapter.port';
import { RouteCandidate } from '../../src/domain/task/route-resolution';
import { ExternalHandoffAdapter } from '../../src/infrastructure/providers/external-handoff.adapter';

/** A JSON `200` with `body`, as an adapter reports it. */
export function jsonAnswer(body: unknown, status = 200): ProviderAnswer {
  const text = JSON.stringify(body);
  return {
    kind: 'attempt',
    result: { kind: 'response', status, contentType: 'application/json', body: text, sizeBytes: Buffer.byteLength(text) },
    extras: { paymentResponse: null, challengeHeaders: {} },
  };
}

/**
 * The test adapter of `execute` (issue #7): answers provider routes in process with whatever `reply`
 * returns (a JSON `200` echoing the operation by default), and records what it was asked without the
 * secrets. Mounted over PROVIDER_ADAPTERS by tests and the orders benchmark, after the external-handoff
 * adapter.
 */
export class ScriptedProviderAdapter implements ProviderAdapter {
  readonly name = 'scripted';
  readonly invocations: Array<Omit<ProviderInvocation, 'paymentHeaders' | 'providerCredentials'>> = [];

  constructor(
    private readonly reply: (invocation: ProviderInvocation) => ProviderAnswer | Promise<ProviderAnswer> = (invocation) =>
      jsonAnswer({ operation: invocation.operation, attempt: invocation.attempt }),
  ) {}

  handles(route: RouteCandidate): boolean {
    return route.target === 'provider';
  }

  async invoke(invocation: ProviderInvocation): Promise<ProviderAnswer> {
    const { paymentHeaders: _headers, providerCredentials: _credentials, ...recorded } = invocation;
    this.invocations.push(recorded);
    return this.reply(invocation);
  }
}

/** PROVIDER_ADAPTERS as the app mounts them, with `adapter` in place of the HTTP provider adapter (for startTestApp `providers`). */
export function scriptedProviderAdapters(adapter: ScriptedProviderAdapter): Provider {
  return { provide: PROVIDER_ADAPTERS, useValue: [new ExternalHandoffAdapter(), adapter] };
}
