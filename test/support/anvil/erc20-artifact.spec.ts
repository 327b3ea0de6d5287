import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Abi } from 'viem';
import artifact from './contracts/TestToken.json';
import { TEST_TOKEN_ABI } from './erc20';

type Param = { type: string; indexed?: boolean };
type Entry = { type: string; name?: string; inputs?: readonly Param[]; outputs?: readonly Param[]; stateMutability?: string };

/** One comparable line per ABI entry: kind, name, parameter types (and indexing), mutability, outputs. */
function signatures(abi: Abi): string[] {
  const params = (list: readonly Param[] | undefined) => (list ?? []).map((p) => `${p.type}${p.indexed ? ' indexed' : ''}`).join(',');
  return (abi as readonly Entry[])
    .map((entry) => `${entry.type} ${entry.name ?? ''}(${params(entry.inputs)}) ${entry.stateMutability ?? ''} (${params(entry.outputs)})`)
    .sort();
}

describe('TestToken artifact', () => {
  it('was compiled from the current TestToken.sol (else run node scripts/compile-test-erc20.js)', () => {
    const source = readFileSync(resolve(__dirname, 'contracts/TestToken.sol'), 'utf8');
    expect(createHash('sha256').update(source).digest('hex')).toBe(artifact.sourceSha256);
    expect(artifact.bytecode).toMatch(/^0x(?:[0-9a-f]{2})+$/);
  });

  it('has exactly the ABI that TEST_TOKEN_ABI types', () => {
    expect(signatures(TEST_TOKEN_ABI)).toEqual(signatures(artifact.abi as Abi));
  });
});
