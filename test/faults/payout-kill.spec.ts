// The payout process SIGKILLed at each step of a payout (claimed, nonce assigned, signed and stored, broadcast,
// recorded, receipt seen, paid recorded), then started again: exactly one transfer on chain per withdrawal every
// time. Then two replicas with the writer SIGKILLed halfway through 100 payouts: the other takes the wallet over,
// nonces stay contiguous and every withdrawal is paid once.
import { expect } from 'chai';
import type { NodeProcess } from '../support/node-process';
import { startPayoutBed, type PayoutBed } from '../support/payout-bed';
import { eventually } from '../support/system';
import { parseUsdt } from '../support/usdt';

const STEPS = [
  'payout:claimed',
  'payout:nonce-assigned',
  'payout:signed-stored',
  'payout:broadcast',
  'payout:recorded',
  'payout:receipt-seen',
  'payout:paid-recorded',
];

describe('a payout process killed mid-payout', function () {
  this.timeout(300_000);
  let bed: PayoutBed;

  before(async () => {
    bed = await startPayoutBed({ prefix: 'payout_kill' });
  });
  after(async () => bed?.stop());

  async function transfersTo(wallet: string) {
    return (await bed.transfersFromHot()).filter((t) => t.to === wallet.toLowerCase());
  }

  for (const step of STEPS) {
    it(`pays once after a SIGKILL at ${step}`, async () => {
      const dying = bed.spawnPayout({ FAILPOINTS: step });
      await dying.started();
      const { userId, wallet } = await bed.user('100');
      const w = await bed.withdraw(userId, '12.5');
      const exit = await dying.exit;
      expect(exit.signal, `the process died at ${step}`).to.equal('SIGKILL');
      const again = bed.spawnPayout();
      await again.started();
      await bed.waitForStatus([w.id], 'paid', 60_000);
      const transfers = await transfersTo(wallet);
      expect(transfers.map((t) => t.amount)).to.deep.equal([parseUsdt('12.5')]);
      expect((await bed.withdrawal(w.id)).txHash).to.equal(transfers[0]!.txHash);
      await again.kill('SIGTERM');
    });
  }

  it('hands the wallet to the other replica when the writer is SIGKILLed halfway through 100 payouts', async () => {
    const replicas: NodeProcess[] = [bed.spawnPayout(), bed.spawnPayout()];
    await Promise.all(replicas.map((r) => r.started()));
    const { rows: before } = await bed.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM payout_attempts');
    const startNonce = await bed.anvil.provider.getTransactionCount(bed.hot.address, 'latest');
    const users = await Promise.all(Array.from({ length: 100 }, () => bed.user('20')));
    const withdrawals = await Promise.all(users.map((u) => bed.withdraw(u.userId, '10')));
    await eventually(async () => {
      const { rows } = await bed.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM payout_attempts');
      return Number(rows[0]!.n) - Number(before[0]!.n) >= 40;
    }, 'about half signed');
    const { rows } = await bed.db.pool.query<{ lease_holder: string }>('SELECT lease_holder FROM payout_wallets');
    // The holder's id is host-pid-random: its pid says which child it is.
    const holder = replicas.find((r) => rows[0]!.lease_holder.includes(`-${r.child.pid}-`))!;
    expect(holder, 'a child holds the wallet').to.not.equal(undefined);
    await holder.kill('SIGKILL');
    await bed.waitForStatus(
      withdrawals.map((w) => w.id),
      'paid',
      120_000,
    );
    const survivor = replicas.find((r) => r !== holder)!;
    const { rows: after } = await bed.db.pool.query<{ lease_holder: string }>(
      'SELECT lease_holder FROM payout_wallets',
    );
    expect(after[0]!.lease_holder).to.include(`-${survivor.child.pid}-`);
    for (const u of users) expect((await transfersTo(u.wallet)).map((t) => t.amount)).to.deep.equal([parseUsdt('10')]);
    const { rows: nonces } = await bed.db.pool.query<{ nonce: string }>(
      'SELECT DISTINCT nonce::text FROM payout_attempts WHERE withdrawal_id = ANY($1::bigint[]) ORDER BY 1',
      [withdrawals.map((w) => w.id)],
    );
    expect(nonces.map((n) => Number(n.nonce)).sort((a, b) => a - b)).to.deep.equal(
      Array.from({ length: 100 }, (_, i) => startNonce + i),
    );
    expect((await bed.call<{ problems: string[] }>('ledger.check')).problems).to.deep.equal([]);
    await survivor.kill('SIGTERM');
  });
});
