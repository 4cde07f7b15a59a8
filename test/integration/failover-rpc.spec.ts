// lib/chain's FailoverRpc against Anvil behind a misbehaving proxy: a provider's rate limit (HTTP 429) is answered
// by a pause and the next provider, not by ethers' in-place retries; a range refusal is the caller's to handle.
import { expect } from 'chai';
import { FailoverRpc, RangeTooLargeError } from '../../lib/chain/rpc';
import { rootLogger } from '../../lib/logger';
import { startAnvil, type AnvilHandle } from '../support/anvil';
import { startFlakyRpc, type FlakyRpc } from '../support/flaky-rpc';

describe('FailoverRpc', function () {
  this.timeout(60_000);
  let anvil: AnvilHandle;
  let flaky: FlakyRpc;

  before(async () => {
    anvil = await startAnvil();
    flaky = await startFlakyRpc({ target: anvil.rpcUrl, maxLogRange: 10 });
  });
  after(async () => {
    await flaky?.close();
    await anvil?.stop();
  });

  const rpc = (urls: string[]) =>
    new FailoverRpc({
      urls,
      chainId: anvil.chainId,
      log: rootLogger().child({ service: 'rpc-spec' }, { level: 'silent' }),
      baseDelayMs: 10,
    });

  it('moves to the next provider after one 429, pausing about a second', async () => {
    flaky.rateLimitNext(1);
    const before = flaky.requests.length;
    const client = rpc([flaky.url, anvil.rpcUrl]);
    const startedAt = Date.now();
    try {
      expect(await client.send<string>('eth_chainId', [])).to.equal('0x38');
    } finally {
      client.destroy();
    }
    const took = Date.now() - startedAt;
    expect(flaky.requests.slice(before).map((r) => r.failed)).to.deep.equal(['http-429']);
    expect(client.url).to.equal(anvil.rpcUrl);
    expect(took).to.be.at.least(900);
  });

  it('refuses a too-wide eth_getLogs range at once, without failing over', async () => {
    const client = rpc([flaky.url, anvil.rpcUrl]);
    try {
      const error = await client.send('eth_getLogs', [{ fromBlock: '0x0', toBlock: '0x64' }]).catch((e: unknown) => e);
      expect(error).to.be.instanceOf(RangeTooLargeError);
      expect(client.url).to.equal(flaky.url);
    } finally {
      client.destroy();
    }
  });
});
