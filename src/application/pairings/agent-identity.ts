import { parseEip55Address } from '../../domain/machine/eip55-address';
import { agentDidOrThrow } from '../../domain/pairing/agent-did';
import { validationError } from '../../domain/shared/domain-error';

/** The agent a challenge or a pairing is for, as requested. */
export type AgentIdentityInput = { agentAddress: string; agentProvider: string; agentRole: string; agentDid?: string | null };

export type AgentIdentity = { agentAddress: string; agentDid: string; agentProvider: string; agentRole: string };

/** §5.1 `agentAddress` (EIP-55) and §5.2 `agentDid` (supplied or derived): 400 on violations. */
export function normaliseAgentIdentity(input: AgentIdentityInput): AgentIdentity {
  const agentAddress = parseEip55Address(input.agentAddress);
  if (!agentAddress) {
    throw validationError([
      {
        location: 'body',
        path: '/agentAddress',
        message: 'agentAddress must be 0x + 40 hex characters (mixed case must be a valid EIP-55 checksum)',
      },
    ]);
  }
  return {
    agentAddress,
    agentDid: agentDidOrThrow(agentAddress, input.agentDid),
    agentProvider: input.agentProvider,
    agentRole: input.agentRole,
  };
}
