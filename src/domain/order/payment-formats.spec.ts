import {
  chainIdOfNetwork,
  fractionDigits,
  isSolanaAddress,
  isSolanaTxHash,
  parseAddress,
  parseEvmTxHash,
  paymentNetworkOf,
  sameAddress,
} from './payment-formats';

const EVM = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const SOL = '4Nd1mBQtrMJVYVfKf2PJy9NZUZdTAsp7D4xWLs4gDB4T';

describe('payment formats', () => {
  it('network family: solana is Solana, anything else or nothing is EVM (§6.2)', () => {
    expect(paymentNetworkOf('solana')).toBe('solana');
    expect(paymentNetworkOf('base')).toBe('evm');
    expect(paymentNetworkOf(undefined)).toBe('evm');
  });

  it('chain ids of the network names of §7.5.4 step 6', () => {
    expect(
      ['peaq', 'peaq-agung', 'ethereum', 'base', 'base-sepolia', 'polygon', 'arbitrum', 'optimism'].map((n) => chainIdOfNetwork(n)),
    ).toEqual([3338, 9990, 1, 8453, 84532, 137, 42161, 10]);
    expect(chainIdOfNetwork('eip155:31337')).toBe(31337);
    expect(chainIdOfNetwork('eip155:0')).toBeNull();
    expect(chainIdOfNetwork('solana')).toBeNull();
    expect(chainIdOfNetwork('toString')).toBeNull();
    expect(chainIdOfNetwork(undefined)).toBeNull();
  });

  it('EVM addresses are stored EIP-55; mixed case must be a valid checksum', () => {
    expect(parseAddress('evm', EVM.toLowerCase())).toBe(EVM);
    expect(parseAddress('evm', EVM)).toBe(EVM);
    expect(parseAddress('evm', EVM.replace('a', 'A'))).toBeNull();
    expect(parseAddress('evm', '0x123')).toBeNull();
  });

  it('Solana addresses are base58 of 32–44 characters; signatures of 64–88', () => {
    expect(isSolanaAddress(SOL)).toBe(true);
    expect(parseAddress('solana', SOL)).toBe(SOL);
    expect(isSolanaAddress('0OIl' + SOL.slice(4))).toBe(false);
    expect(isSolanaAddress(SOL.slice(0, 31))).toBe(false);
    expect(isSolanaTxHash('5'.repeat(64))).toBe(true);
    expect(isSolanaTxHash('5'.repeat(89))).toBe(false);
  });

  it('EVM transaction hashes are stored lower-case', () => {
    expect(parseEvmTxHash('0x' + 'AB'.repeat(32))).toBe('0x' + 'ab'.repeat(32));
    expect(parseEvmTxHash('0x' + 'ab'.repeat(31))).toBeNull();
  });

  it('compares EVM addresses case-insensitively and Solana addresses exactly', () => {
    expect(sameAddress('evm', EVM, EVM.toLowerCase())).toBe(true);
    expect(sameAddress('solana', SOL, SOL.toLowerCase())).toBe(false);
  });

  it('counts fractional digits', () => {
    expect([fractionDigits('1'), fractionDigits('1.5'), fractionDigits('0.000001')]).toEqual([0, 1, 6]);
  });
});
