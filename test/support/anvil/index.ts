export { anvilBinaryPath } from './anvil-binary';
export { ANVIL_MNEMONIC, startAnvil, type Anvil, type AnvilOptions } from './start-anvil';
export { TEST_TOKEN_ABI, TEST_TOKEN_BYTECODE, deployErc20, type Erc20Options, type TestErc20, type TransferOptions } from './erc20';
export { closedPortUrl, forwardRpc, rpcResult, startFakeRpc, type FakeReply, type FakeRpcServer, type RpcRequest } from './fake-rpc-server';
