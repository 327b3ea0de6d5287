import { ProviderAdapter, ProviderAnswer, ProviderInvocation } from '../../application/ports/provider-adapter.port';
import { RouteCandidate } from '../../domain/task/route-resolution';

/**
 * `external-handoff` services (§7.5.10 step 9): peaqOS does not execute; the run succeeds at once and
 * the outcome is the service's handoff. A service without a `handoff` block is handed off to the route's
 * URL (its first endpoint URL, §8.5.2), labelled with the service's name.
 */
export class ExternalHandoffAdapter implements ProviderAdapter {
  readonly name = 'external-handoff';

  handles(route: RouteCandidate): boolean {
    return route.target === 'handoff';
  }

  invoke({ route, service }: ProviderInvocation): Promise<ProviderAnswer> {
    const handoff = service.handoff ?? { label: service.name, url: route.url, notes: [] };
    return Promise.resolve({ kind: 'handoff', handoff: { label: handoff.label, url: handoff.url, notes: [...handoff.notes] } });
  }
}
