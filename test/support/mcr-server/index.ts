export { behaviour, McrTestServer, newControllerAccount } from './mcr-test-server';
export type { McrBehaviour, McrMachine, McrRequest } from './mcr-test-server';
