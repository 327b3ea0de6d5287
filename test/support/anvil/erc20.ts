import { getAddress, parseAbi, type Account, type Address, type Hash, type Hex } from 'viem';
import artifact from './contracts/TestToken.json';
import type { Anvil } from './start-anvil';

/**
 * The typed ABI of contracts/TestToken.sol (the committed artifact's `abi`, checked against this list
 * by erc20-artifact.spec.ts).
 */
export const TEST_TOKEN_ABI = parseAbi([
  'constructor(string name_, string symbol_, uint8 decimals_)',
  'function name() view returns (string)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function totalSupply() view returns (uint256)',
  'function balanceOf(address) view returns (uint256)',
  'function allowance(address, address) view returns (uint256)',
  'function mint(address to, uint256 value)',
  'function transfer(address to, uint256 value) returns (bool)',
  'function approve(address spender, uint256 value) returns (bool)',
  'function transferFrom(address from, address to, uint256 value) returns (bool)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event Approval(address indexed owner, address indexed spender, uint256 value)',
]);

export const TEST_TOKEN_BYTECODE = artifact.bytecode as Hex;

export type Erc20Options = {
  /** Default 6 (USDT-like). */
  decimals?: number;
  /** Default "USDT". */
  symbol?: string;
  /** Default `Test ${symbol}`. */
  name?: string;
  /** Default `anvil.accounts[0]`. */
  deployer?: Account;
};

export type TransferOptions = {
  /**
   * A manual gas limit skips viem's gas estimation, so a transfer that reverts (e.g. beyond the
   * sender's balance) is still sent and mined with status 0x0.
   */
  gas?: bigint;
};

export type TestErc20 = {
  address: Address;
  decimals: number;
  symbol: string;
  /** Mints `raw` units to `to` (sent by the deployer) and waits for the receipt: needs mining. */
  mint(to: Address, raw: bigint): Promise<Hash>;
  /** Sends `transfer(to, raw)` from `from` and returns the hash without waiting for a block. */
  transfer(from: Account, to: Address, raw: bigint, options?: TransferOptions): Promise<Hash>;
  balanceOf(owner: Address): Promise<bigint>;
};

/**
 * Deploys contracts/TestToken.sol (from the committed artifact) and waits for the deployment to be
 * mined. Deploy while mining is on (automine or interval mining), or `mine()` concurrently.
 */
export async function deployErc20(anvil: Anvil, options: Erc20Options = {}): Promise<TestErc20> {
  const decimals = options.decimals ?? 6;
  const symbol = options.symbol ?? 'USDT';
  const deployer = options.deployer ?? anvil.accounts[0];
  const wallet = anvil.walletClient(deployer);
  const hash = await wallet.deployContract({
    abi: TEST_TOKEN_ABI,
    bytecode: TEST_TOKEN_BYTECODE,
    args: [options.name ?? `Test ${symbol}`, symbol, decimals],
  });
  const receipt = await anvil.receipt(hash);
  if (receipt.status !== 'success' || !receipt.contractAddress) throw new Error(`TestToken deployment failed: ${hash}`);
  const address = getAddress(receipt.contractAddress);

  return {
    address,
    decimals,
    symbol,
    async mint(to, raw) {
      const minted = await wallet.writeContract({ address, abi: TEST_TOKEN_ABI, functionName: 'mint', args: [to, raw] });
      const mined = await anvil.receipt(minted);
      if (mined.status !== 'success') throw new Error(`mint failed: ${minted}`);
      return minted;
    },
    transfer: (from, to, raw, transferOptions = {}) =>
      anvil.walletClient(from).writeContract({
        address,
        abi: TEST_TOKEN_ABI,
        functionName: 'transfer',
        args: [to, raw],
        ...(transferOptions.gas !== undefined ? { gas: transferOptions.gas } : {}),
      }),
    balanceOf: (owner) => anvil.publicClient.readContract({ address, abi: TEST_TOKEN_ABI, functionName: 'balanceOf', args: [owner] }),
  };
}
