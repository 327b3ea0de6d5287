import { parseEip55Address, toEip55Address } from '../machine/eip55-address';
import { DomainError, validationError } from '../shared/domain-error';

const PREFIX = 'did:pkh:eip155:';
/** §5.2: a decimal integer 1..9007199254740991 without leading zeros. */
const CHAIN_ID = /^[1-9][0-9]{0,15}$/;
const MAX_CHAIN_ID = 9007199254740991n;

export type AgentDidReason = 'invalid_agent_did' | 'agent_did_mismatch';

export type AgentDidResult = { ok: true; value: string } | { ok: false; reason: AgentDidReason };

/** §5.2: the DID derived from an agent address, `did:pkh:eip155:1:` + the EIP-55 address. */
export function deriveAgentDid(agentAddress: string): string {
  return `${PREFIX}1:${toEip55Address(agentAddress)}`;
}

/**
 * §5.2 for a (valid) `agentAddress` and the request's `agentDid`: absent or `null` → derived;
 * supplied → `did:pkh:eip155:<chainId>:<address>` with the address EIP-55 checksummed, which must be
 * the agent's address (case-insensitive). The method prefix is case-sensitive, like every DID method
 * name.
 */
export function resolveAgentDid(agentAddress: string, supplied: string | null | undefined): AgentDidResult {
  if (supplied === undefined || supplied === null) return { ok: true, value: deriveAgentDid(agentAddress) };
  if (typeof supplied !== 'string' || !supplied.startsWith(PREFIX)) return { ok: false, reason: 'invalid_agent_did' };
  const rest = supplied.slice(PREFIX.length);
  const colon = rest.indexOf(':');
  if (colon === -1) return { ok: false, reason: 'invalid_agent_did' };
  const chainId = rest.slice(0, colon);
  if (!CHAIN_ID.test(chainId) || BigInt(chainId) > MAX_CHAIN_ID) return { ok: false, reason: 'invalid_agent_did' };
  const address = parseEip55Address(rest.slice(colon + 1));
  if (!address) return { ok: false, reason: 'invalid_agent_did' };
  if (address.toLowerCase() !== agentAddress.toLowerCase()) return { ok: false, reason: 'agent_did_mismatch' };
  return { ok: true, value: `${PREFIX}${chainId}:${address}` };
}

/** `resolveAgentDid`, refusing with `400 VALIDATION_ERROR` and the §5.2 reason at body path `/agentDid`. */
export function agentDidOrThrow(agentAddress: string, supplied: string | null | undefined): string {
  const result = resolveAgentDid(agentAddress, supplied);
  if (result.ok) return result.value;
  throw agentDidError(result.reason);
}

export function agentDidError(reason: AgentDidReason): DomainError {
  const message =
    reason === 'invalid_agent_did'
      ? 'agentDid must be did:pkh:eip155:<chainId>:<0x address>'
      : 'agentDid must name the same address as agentAddress';
  return validationError([{ location: 'body', path: '/agentDid', message }], reason);
}
