import { expect } from 'chai';
import type pg from 'pg';
import { answer, GroupCommit, refuse } from '../../services/ledger/group-commit';
import { createTestDatabase, type TestDatabase } from '../support/database';

interface Item {
  value: number;
  key?: string;
  /** Fails the whole transaction it runs in (division by zero in SQL). */
  poison?: boolean;
  /** Refused alone, without failing the others. */
  refused?: boolean;
}

describe('group commit on PostgreSQL', () => {
  let db: TestDatabase;
  let batches: number[][];
  let gate: Promise<void>;
  let open: () => void;

  beforeEach(async () => {
    db = await createTestDatabase('groupcommit');
    await db.pool.query('CREATE TABLE written (value INTEGER NOT NULL)');
    batches = [];
    gate = new Promise((resolve) => (open = resolve));
  });
  afterEach(async () => db.drop());

  /** One batch in flight at a time; the first waits for the gate, so the next requests gather into one batch. */
  function queue() {
    return new GroupCommit<Item, number>({
      pool: db.pool,
      inFlight: 1,
      key: (item) => item.key ?? String(item.value),
      run: async (client: pg.PoolClient, batch) => {
        batches.push(batch.map((item) => item.value));
        if (batches.length === 1) await gate;
        await client.query('INSERT INTO written SELECT unnest($1::int[])', [
          batch.filter((item) => !item.refused).map((item) => item.value),
        ]);
        if (batch.some((item) => item.poison)) await client.query('SELECT 1 / 0');
        return batch.map((item) => (item.refused ? refuse(new Error(`refused ${item.value}`)) : answer(item.value)));
      },
    });
  }
  const written = async () =>
    (await db.pool.query<{ value: number }>('SELECT value FROM written ORDER BY value')).rows.map((r) => r.value);

  it('commits what gathered meanwhile as one batch, each with its own answer, answered after the commit', async () => {
    const commits = queue();
    const first = commits.submit({ value: 1 });
    const rest = [2, 3, 4].map((value) => commits.submit({ value, refused: value === 3 }));
    const settled = Promise.allSettled(rest);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await written()).to.deep.equal([]);
    open();
    expect(await first).to.equal(1);
    // Answered only once committed: another connection sees it.
    expect(await written()).to.include(1);
    const answers = await settled;
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : (a.reason as Error).message))).to.deep.equal([
      2,
      'refused 3',
      4,
    ]);
    expect(batches).to.deep.equal([[1], [2, 3, 4]]);
    expect(await written()).to.deep.equal([1, 2, 4]);
  });

  it('runs each request of a failed batch alone, so only the one that failed it fails', async () => {
    const commits = queue();
    const first = commits.submit({ value: 1 });
    const rest = Promise.allSettled([2, 3, 4].map((value) => commits.submit({ value, poison: value === 3 })));
    open();
    await first;
    const answers = await rest;
    expect(answers.map((a) => a.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect((answers[1] as PromiseRejectedResult).reason).to.include({ code: '22012' });
    expect(batches.slice(0, 2)).to.deep.equal([[1], [2, 3, 4]]);
    expect(batches.slice(2).sort()).to.deep.equal([[2], [3], [4]]);
    expect(await written()).to.deep.equal([1, 2, 4]);
  });

  it('never puts two requests with the same key in one batch', async () => {
    const commits = queue();
    const first = commits.submit({ value: 1 });
    const rest = [2, 3, 4].map((value) =>
      commits.submit({ value, key: value === 4 ? 'k' : value === 2 ? 'k' : undefined }),
    );
    open();
    await Promise.all([first, ...rest]);
    await commits.idle();
    expect(batches).to.deep.equal([[1], [2, 3], [4]]);
  });
});
