export type PairingMessageInput = {
  machineId: string;
  /** The machine's normalised identityRef (§4.2). */
  identityRef: string;
  /** EIP-55. */
  agentAddress: string;
  /** Supplied or derived (§5.2). */
  agentDid: string;
  agentProvider: string;
  agentRole: string;
  challengeId: string;
  nonce: string;
  issuedAt: string;
  expiresAt: string;
};

/**
 * §5.4.2, byte for byte: thirteen LF-separated lines, no trailing newline. Every value is used as
 * given (normalised by the caller); `agentProvider` and `agentRole` contain no control characters
 * (§5.1), so they cannot add lines.
 */
export function agentPairingMessage(input: PairingMessageInput): string {
  return [
    'peaqOS Machine Markets signature request',
    'Service: peaqos-machine-markets',
    'Action: agent-pairing-proof',
    `Machine ID: ${input.machineId}`,
    `Machine Identity Ref: ${input.identityRef}`,
    `Agent Address: ${input.agentAddress}`,
    `Agent DID: ${input.agentDid}`,
    `Agent Provider: ${input.agentProvider}`,
    `Agent Role: ${input.agentRole}`,
    `Challenge ID: ${input.challengeId}`,
    `Nonce: ${input.nonce}`,
    `Issued At: ${input.issuedAt}`,
    `Expires At: ${input.expiresAt}`,
  ].join('\n');
}
