// chain-monitor's TransferStore on PostgreSQL: the status rules that decide what is announced, for the cases a
// live chain rarely shows (two equal transfers in one transaction, a deep reorg, a transaction mined again).
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { TransferStore, type ObservedTransfer } from '../../services/chain-monitor/store';
import { createTestDatabase, type TestDatabase } from '../support/database';

const hash = () => `0x${randomBytes(32).toString('hex')}`;
const SENDER = '0x1111111111111111111111111111111111111111';
const SYSTEM = '0x2222222222222222222222222222222222222222';

function transfer(txHash: string, logIndex: number, blockNumber: bigint, blockHash: string): ObservedTransfer {
  return { txHash, logIndex, blockNumber, blockHash, from: SENDER, to: SYSTEM, amount: 5n * 10n ** 18n, userId: '1' };
}

describe('TransferStore', () => {
  let db: TestDatabase;
  let store: TransferStore;

  beforeEach(async () => {
    db = await createTestDatabase('store');
    store = new TransferStore(db.pool, 56);
  });
  afterEach(async () => db.drop());

  const statuses = async (txHash: string) =>
    (
      await db.pool.query<{ log_index: number; status: string }>(
        'SELECT log_index, status FROM observed_transfers WHERE tx_hash = $1 ORDER BY log_index',
        [txHash],
      )
    ).rows.map((r) => [r.log_index, r.status]);

  it('keeps two equal transfers of one transaction both confirmed, in one window or two', async () => {
    const tx = hash();
    const block = hash();
    await store.recordWindow([transfer(tx, 5, 10n, block)], { number: 10n, hash: block }, 20n, () => []);
    await store.recordWindow([transfer(tx, 6, 10n, block)], { number: 10n, hash: block }, 20n, () => []);
    expect(await statuses(tx)).to.deep.equal([
      [5, 'confirmed'],
      [6, 'confirmed'],
    ]);
  });

  it('brings both equal transfers back when their transaction is mined again at the same log indexes', async () => {
    const tx = hash();
    const oldBlock = hash();
    const announced: string[] = [];
    const record = (blockHash: string) =>
      store.recordWindow(
        [transfer(tx, 5, 10n, blockHash), transfer(tx, 6, 10n, blockHash)],
        { number: 10n, hash: blockHash },
        20n,
        (fresh) => {
          announced.push(...fresh.confirmed.map((t) => `confirmed:${t.logIndex}:r${t.revision}`));
          return [];
        },
      );
    await record(oldBlock);
    const { reorged } = await store.rewind({ number: 9n, hash: hash() }, 0n, (gone) => {
      announced.push(...gone.map((t) => `reorged:${t.logIndex}:r${t.revision}`));
      return [];
    });
    expect(reorged).to.have.length(2);
    expect(await statuses(tx)).to.deep.equal([
      [5, 'reorged_out'],
      [6, 'reorged_out'],
    ]);
    await record(hash());
    expect(await statuses(tx)).to.deep.equal([
      [5, 'confirmed'],
      [6, 'confirmed'],
    ]);
    expect(announced).to.deep.equal([
      'confirmed:5:r1',
      'confirmed:6:r1',
      'reorged:5:r2',
      'reorged:6:r2',
      'confirmed:5:r3',
      'confirmed:6:r3',
    ]);
  });

  it('takes a copy in another block at another log index for a re-mined transfer, restoring its original', async () => {
    const tx = hash();
    const oldBlock = hash();
    await store.recordWindow([transfer(tx, 0, 10n, oldBlock)], { number: 10n, hash: oldBlock }, 20n, () => []);
    await store.rewind({ number: 9n, hash: hash() }, 0n, () => []);
    const newBlock = hash();
    const fresh = await store.recordWindow(
      [transfer(tx, 1, 11n, newBlock)],
      { number: 11n, hash: newBlock },
      20n,
      () => [],
    );
    expect(fresh.duplicate.map((t) => t.logIndex)).to.deep.equal([1]);
    expect(fresh.restored.map((t) => [t.logIndex, t.blockHash])).to.deep.equal([[0, newBlock]]);
    expect(await statuses(tx)).to.deep.equal([
      [0, 'confirmed'],
      [1, 'duplicate'],
    ]);
  });
});
