import { refusal } from '../../../test/support/refusal';
import { agentDidOrThrow, deriveAgentDid, resolveAgentDid } from './agent-did';

const ADDRESS = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const OTHER = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';

describe('§5.2 agentDid', () => {
  it('derives did:pkh:eip155:1:<EIP-55 address> when absent or null', () => {
    expect(deriveAgentDid(ADDRESS.toLowerCase())).toBe(`did:pkh:eip155:1:${ADDRESS}`);
    expect(resolveAgentDid(ADDRESS, undefined)).toEqual({ ok: true, value: `did:pkh:eip155:1:${ADDRESS}` });
    expect(resolveAgentDid(ADDRESS, null)).toEqual({ ok: true, value: `did:pkh:eip155:1:${ADDRESS}` });
  });

  it('stores a supplied DID with its address EIP-55 checksummed, keeping the chain id', () => {
    expect(resolveAgentDid(ADDRESS, `did:pkh:eip155:137:${ADDRESS.toLowerCase()}`)).toEqual({
      ok: true,
      value: `did:pkh:eip155:137:${ADDRESS}`,
    });
    expect(resolveAgentDid(ADDRESS, `did:pkh:eip155:1:0x${ADDRESS.slice(2).toUpperCase()}`)).toEqual({
      ok: true,
      value: `did:pkh:eip155:1:${ADDRESS}`,
    });
  });

  it('accepts the largest chain id, 9007199254740991', () =>
    expect(resolveAgentDid(ADDRESS, `did:pkh:eip155:9007199254740991:${ADDRESS}`)).toMatchObject({ ok: true }));

  it('compares the address case-insensitively with agentAddress', () =>
    expect(resolveAgentDid(ADDRESS.toLowerCase(), `did:pkh:eip155:1:${ADDRESS}`)).toMatchObject({ ok: true }));

  it.each([
    ['another method', `did:ethr:${ADDRESS}`],
    ['an upper-case prefix', `DID:PKH:EIP155:1:${ADDRESS}`],
    ['another namespace', `did:pkh:solana:1:${ADDRESS}`],
    ['no chain id', `did:pkh:eip155:${ADDRESS}`],
    ['an empty chain id', `did:pkh:eip155::${ADDRESS}`],
    ['chain id 0', `did:pkh:eip155:0:${ADDRESS}`],
    ['a leading zero', `did:pkh:eip155:01:${ADDRESS}`],
    ['a chain id above 2^53 - 1', `did:pkh:eip155:9007199254740992:${ADDRESS}`],
    ['a signed chain id', `did:pkh:eip155:+1:${ADDRESS}`],
    ['a bad checksum', `did:pkh:eip155:1:0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed`],
    ['a short address', `did:pkh:eip155:1:${ADDRESS.slice(0, 40)}`],
    ['an upper-case 0X', `did:pkh:eip155:1:0X${ADDRESS.slice(2)}`],
    ['a trailing segment', `did:pkh:eip155:1:${ADDRESS}:x`],
    ['the empty string', ''],
  ])('refuses %s with invalid_agent_did', (_label, did) =>
    expect(resolveAgentDid(ADDRESS, did)).toEqual({ ok: false, reason: 'invalid_agent_did' }),
  );

  it('refuses a DID of another address with agent_did_mismatch', () =>
    expect(resolveAgentDid(ADDRESS, `did:pkh:eip155:1:${OTHER}`)).toEqual({ ok: false, reason: 'agent_did_mismatch' }));

  it('checks the form before the address match', () =>
    expect(resolveAgentDid(ADDRESS, `did:pkh:eip155:0:${OTHER}`)).toEqual({ ok: false, reason: 'invalid_agent_did' }));

  describe('agentDidOrThrow', () => {
    it('returns the resolved DID', () => expect(agentDidOrThrow(ADDRESS, null)).toBe(`did:pkh:eip155:1:${ADDRESS}`));

    it.each([
      ['invalid_agent_did', 'did:pkh:eip155:1:nope'],
      ['agent_did_mismatch', `did:pkh:eip155:1:${OTHER}`],
    ])('refuses with 400 VALIDATION_ERROR reason %s at /agentDid', (reason, did) => {
      expect(refusal(() => agentDidOrThrow(ADDRESS, did))).toEqual({
        code: 'VALIDATION_ERROR',
        details: { reason, errors: [{ location: 'body', path: '/agentDid', message: expect.any(String) }] },
      });
    });
  });
});
