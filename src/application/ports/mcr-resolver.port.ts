/** A normalised identityRef resolved through the peaqOS MCR API (§4.3). */
export type McrResolution = {
  /** `did:peaq:` + EIP-55 checksummed address. */
  did: string;
  bondStatus: 'bonded' | 'unbonded';
  /** EIP-55; the DID's address first, then the MCR operator if present and different (§4.3 step 3). */
  controllerAddresses: string[];
};

/** Why a resolution failed; mapped to API errors by `mcrFailureOnRead` / `mcrFailureOnWrite`. */
export type McrFailure =
  | { kind: 'not_found' }
  | { kind: 'unsupported_did' }
  | { kind: 'unavailable'; reason: 'timeout' | 'network' | 'upstream_status' | 'bad_response'; upstreamStatus?: number };

export type McrResult = { ok: true; value: McrResolution } | { ok: false; failure: McrFailure };

export interface McrResolver {
  /**
   * `identityRef` is already normalised (§4.2). `fresh: true` bypasses the cache (and refreshes it):
   * challenge issuance and machine writes.
   */
  resolve(identityRef: string, options?: { fresh?: boolean }): Promise<McrResult>;
}
export const MCR_RESOLVER = Symbol('McrResolver');
