import { expect } from 'chai';
import { parseUsdt } from '../support/usdt';
import { startPayoutBed, type PayoutBed } from '../support/payout-bed';
import { channelMessages } from '../support/jetstream';
import { eventually } from '../support/system';
import type { AddressInfo } from 'node:net';
import { apiGatewayService } from '../../gateway/api.service';
import { startNode, type Node } from '../../lib/runtime';

/** Which of the replicas holds the hot wallet now. */
async function writerOf(replicas: Node[]): Promise<number> {
  return eventually(async () => {
    for (const [i, node] of replicas.entries()) {
      const status = (await node.broker.call('payout.status', {}, { nodeID: node.broker.nodeID })) as {
        self: string;
        leaseHolder: string | null;
      };
      if (status.leaseHolder === status.self) return i;
    }
    return undefined;
  }, 'a replica to hold the hot wallet');
}

interface AttemptRow {
  withdrawal_id: string;
  nonce: string;
  gas_price: string;
  tx_hash: string;
}

async function attempts(bed: PayoutBed): Promise<AttemptRow[]> {
  const { rows } = await bed.db.pool.query<AttemptRow>(
    'SELECT withdrawal_id::text, nonce::text, gas_price::text, tx_hash FROM payout_attempts ORDER BY id',
  );
  return rows;
}

/** What an HTTP edge node of this bed answers on /health/ready. */
async function readiness(bed: PayoutBed): Promise<{ status: string; dryRun: boolean | null }> {
  const edge = await startNode(bed.config, [apiGatewayService], { db: bed.db, redis: bed.redis });
  try {
    await edge.broker.waitForServices(['payout'], 10_000);
    const { port } = (
      edge.broker.getLocalService('api') as unknown as { server: { address(): AddressInfo } }
    ).server.address();
    return (await (await fetch(`http://127.0.0.1:${port}/health/ready`)).json()) as {
      status: string;
      dryRun: boolean | null;
    };
  } finally {
    await edge.stop();
  }
}

/** One transfer of the right amount to each withdrawal's wallet, and nothing else from the hot wallet. */
async function expectPaidOnce(bed: PayoutBed, expected: { wallet: string; amount: string }[]) {
  const transfers = await bed.transfersFromHot();
  expect(transfers.map((t) => [t.to, t.amount]).sort()).to.deep.equal(
    expected.map((e) => [e.wallet.toLowerCase(), parseUsdt(e.amount)]).sort(),
  );
}

describe('payout on Anvil', function () {
  this.timeout(180_000);
  let bed: PayoutBed;
  afterEach(async () => bed?.stop());

  it('pays an approved withdrawal once, at depth, and the ledger posts it', async () => {
    bed = await startPayoutBed({ prefix: 'payout_one' });
    await bed.startPayout();
    const { userId, wallet } = await bed.user('100');
    const w = await bed.withdraw(userId, '40');
    await bed.waitForStatus([w.id], 'paid');
    await expectPaidOnce(bed, [{ wallet, amount: '40' }]);
    const paid = await bed.withdrawal(w.id);
    const [transfer] = await bed.transfersFromHot();
    expect(paid.txHash).to.equal(transfer!.txHash);
    expect(await bed.call('ledger.balance', { userId })).to.include({
      available: parseUsdt('60').toString(),
      held: '0',
    });
    const check = await bed.call<{ ok: boolean; problems: string[] }>('ledger.check');
    expect(check.problems).to.deep.equal([]);
    // The receipt was at least BSC_CONFIRMATION_BLOCKS deep when it was declared paid.
    const { rows } = await bed.db.pool.query<{ block_number: string }>('SELECT block_number::text FROM payouts');
    expect(Number(rows[0]!.block_number)).to.equal(transfer!.blockNumber);
    expect(await readiness(bed)).to.include({ status: 'ok', dryRun: false });
  });

  it('pays 100 withdrawals with two replicas under contiguous nonces, the writer stopped halfway', async () => {
    bed = await startPayoutBed({ prefix: 'payout_many' });
    const replicas = [await bed.startPayout(), await bed.startPayout()];
    const users = await Promise.all(Array.from({ length: 100 }, () => bed.user('20')));
    const startNonce = await bed.anvil.provider.getTransactionCount(bed.hot.address, 'latest');
    const withdrawals = await Promise.all(users.map((u) => bed.withdraw(u.userId, '10')));
    await eventually(async () => (await attempts(bed)).length >= 30 && true, 'a first part signed');
    const holder = await writerOf(replicas);
    await replicas[holder]!.stop();
    await bed.waitForStatus(
      withdrawals.map((w) => w.id),
      'paid',
      120_000,
    );
    expect(await writerOf(replicas.filter((_, i) => i !== holder))).to.equal(0);
    await expectPaidOnce(
      bed,
      users.map((u) => ({ wallet: u.wallet, amount: '10' })),
    );
    // One nonce per withdrawal, none shared, none skipped. A withdrawal may hold more than one attempt at its nonce:
    // on a loaded machine a transfer can wait PAYOUT_STUCK_BLOCKS and be replaced, which is no second payout.
    const nonceOf = new Map<string, Set<number>>();
    for (const a of await attempts(bed))
      nonceOf.set(a.withdrawal_id, (nonceOf.get(a.withdrawal_id) ?? new Set()).add(Number(a.nonce)));
    expect([...nonceOf.values()].every((set) => set.size === 1)).to.equal(true);
    const nonces = [...nonceOf.values()].map((set) => [...set][0]!).sort((a, b) => a - b);
    expect(nonces).to.deep.equal(Array.from({ length: 100 }, (_, i) => startNonce + i));
    expect((await bed.call<{ problems: string[] }>('ledger.check')).problems).to.deep.equal([]);
  });

  it('replaces a transaction the node keeps dropping with more gas price at the same nonce, paid once', async () => {
    bed = await startPayoutBed({ prefix: 'payout_stuck', blockEveryMs: 0 });
    await bed.startPayout();
    await bed.anvil.setAutomine(false);
    const { userId, wallet } = await bed.user('100');
    const w = await bed.withdraw(userId, '25');
    await eventually(async () => (await attempts(bed)).length === 1, 'the first attempt');
    // The pool loses the first attempt every block: it never mines.
    while ((await attempts(bed)).length < 2) {
      await bed.anvil.send('anvil_dropAllTransactions', []);
      await bed.anvil.mine(1);
      await new Promise((resolve) => setTimeout(resolve, 120));
    }
    bed.startMiner(100);
    await bed.waitForStatus([w.id], 'paid');
    await expectPaidOnce(bed, [{ wallet, amount: '25' }]);
    const [a, b] = await attempts(bed);
    expect(b!.nonce).to.equal(a!.nonce);
    expect(BigInt(b!.gas_price) * 1000n >= BigInt(a!.gas_price) * 1125n, 'a 12.5% bump').to.equal(true);
  });

  it('sends again, once, a payout whose block a reorg removed before its depth', async () => {
    bed = await startPayoutBed({ prefix: 'payout_reorg', blockEveryMs: 0, env: { BSC_CONFIRMATION_BLOCKS: '5' } });
    await bed.startPayout();
    const { userId, wallet } = await bed.user('100');
    const w = await bed.withdraw(userId, '30');
    await eventually(async () => (await bed.transfersFromHot()).length === 1, 'the payout mined');
    await bed.anvil.mine(1);
    // Replace the last two blocks, without the payout: it left the chain and the pool.
    await bed.anvil.reorg(2);
    expect(await bed.transfersFromHot()).to.have.length(0);
    bed.startMiner(100);
    await bed.waitForStatus([w.id], 'paid');
    await expectPaidOnce(bed, [{ wallet, amount: '30' }]);
    expect(await attempts(bed)).to.have.length(1); // the same bytes, sent again
  });

  it('dead-letters a payout the hot wallet cannot cover, tells admins, and pays it once after an admin retry', async () => {
    bed = await startPayoutBed({ prefix: 'payout_dead', hotWalletUsdt: '5' });
    await bed.startPayout();
    const { userId, wallet } = await bed.user('100');
    const w = await bed.withdraw(userId, '50');
    await eventually(async () => {
      const p = await bed.call<{ status: string; attempts: number } | null>('payout.get', { withdrawalId: w.id });
      return p?.status === 'dead' && p;
    }, 'the payout to be dead');
    expect(await bed.transfersFromHot()).to.have.length(0);
    expect((await bed.withdrawal(w.id)).status).to.equal('approved');
    expect(await bed.call('ledger.balance', { userId })).to.include({ held: parseUsdt('50').toString() });
    const alerts = await eventually(async () => {
      const found = (
        await channelMessages<{ template: string; params: { withdrawalId: string } }>(bed.namespace, 'alerts.raised')
      )
        .map((m) => m.data)
        .filter((a) => a.params.withdrawalId === w.id);
      return found.length > 0 && found;
    }, 'the admins alerted');
    expect(alerts.map((a) => a.template)).to.deep.equal(['admin.payout_dead']);
    const retries = await channelMessages<{ template: string; params: { withdrawalId: string } }>(
      bed.namespace,
      'notifications.requested',
    );
    expect(retries.map((m) => m.data.template)).to.include.members(['withdrawal.retrying', 'withdrawal.delayed']);
    await bed.usdt.mint(bed.hot.address, parseUsdt('100'));
    await bed.call('payout.retry', { withdrawalId: w.id, admin: '42' });
    await bed.waitForStatus([w.id], 'paid');
    await expectPaidOnce(bed, [{ wallet, amount: '50' }]);
  });

  it('simulates in DRY_RUN: the hot wallet sends nothing, the withdrawal is reported simulated and its hold returned', async () => {
    bed = await startPayoutBed({ prefix: 'payout_dry', env: { DRY_RUN: 'true' } });
    await bed.startPayout();
    const nonceBefore = await bed.anvil.provider.getTransactionCount(bed.hot.address, 'latest');
    const { userId } = await bed.user('100');
    const w = await bed.withdraw(userId, '40');
    await bed.waitForStatus([w.id], 'simulated');
    expect(await bed.anvil.provider.getTransactionCount(bed.hot.address, 'latest')).to.equal(nonceBefore);
    expect(await bed.transfersFromHot()).to.have.length(0);
    expect(await bed.call('ledger.balance', { userId })).to.include({ available: parseUsdt('100').toString() });
    expect(await bed.call('payout.status')).to.include({ dryRun: true });
    expect(await readiness(bed)).to.include({ status: 'ok', dryRun: true });
  });
});
