import { recoverMessageAddress } from 'viem';
import { behaviour, McrTestServer, newControllerAccount } from '.';

describe('McrTestServer', () => {
  it('serves the three MCR shapes for an added machine and logs each request', async () => {
    const mcr = await new McrTestServer().start();
    try {
      const key = newControllerAccount();
      const operator = newControllerAccount();
      const did = mcr.addMachine({ address: key.address.toLowerCase(), bondStatus: 'bonded', operator: operator.address, machineId: '7' });
      expect(did).toBe(`did:peaq:${key.address}`);

      const card = await (await fetch(`${mcr.url}/machines/7`)).json();
      const bond = await (await fetch(`${mcr.url}/mcr/${did}`)).json();
      const record = await (await fetch(`${mcr.url}/machine/${did}`)).json();

      expect(card).toMatchObject({ machine_id: '7', did });
      expect(bond).toMatchObject({ did, bond_status: 'bonded' });
      expect(record).toMatchObject({ did, peaqos: { operator: operator.address } });
      expect((await fetch(`${mcr.url}/mcr/did:peaq:0x${'0'.repeat(40)}`)).status).toBe(404);
      expect(mcr.count()).toBe(4);
      expect(mcr.count(`/mcr/${did}`)).toBe(1);
    } finally {
      await mcr.stop();
    }
  });

  it('stops promptly while a slow answer is pending', async () => {
    const mcr = await new McrTestServer().start();
    const did = mcr.addMachine({ address: newControllerAccount().address, bondStatus: 'bonded' });
    mcr.behave(did, behaviour.slow(10_000));
    const pending = fetch(`${mcr.url}/mcr/${did}`).then(
      () => 'answered',
      () => 'failed',
    );
    while (mcr.count() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await mcr.stop();
    expect(await pending).toBe('failed');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('gives real viem keys that sign EIP-191 messages', async () => {
    const key = newControllerAccount();
    const signature = await key.signMessage({ message: 'hello' });
    expect(await recoverMessageAddress({ message: 'hello', signature })).toBe(key.address);
  });
});
