export type MessageInput = { challengeId: string; identityRef: string; nonce: string; issuedAt: string; expiresAt: string };

/**
 * §4.5.2, byte for byte: LF-separated lines, no trailing newline. `identityRef` is the normalised
 * form and the timestamps are §0.4 strings; both are used as given.
 */
export function machineIdentityMessage(challenge: MessageInput): string {
  return [
    'peaqOS Machine Markets signature request',
    'Service: peaqos-machine-markets',
    'Action: machine-identity-proof',
    `Identity Ref: ${challenge.identityRef}`,
    `Challenge ID: ${challenge.challengeId}`,
    `Nonce: ${challenge.nonce}`,
    `Issued At: ${challenge.issuedAt}`,
    `Expires At: ${challenge.expiresAt}`,
  ].join('\n');
}
