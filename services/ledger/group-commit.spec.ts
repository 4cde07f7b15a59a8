import { expect } from 'chai';
import type pg from 'pg';
import { answer, GroupCommit, refuse } from './group-commit';

/** A pool whose transactions are only recorded: each COMMIT waits for `commits` to let it through, or fails. */
function fakePool() {
  const log: string[] = [];
  let open = 0;
  let mostOpen = 0;
  const waiting: { release(): void; fail(error: Error): void }[] = [];
  const pool = {
    async connect() {
      open++;
      mostOpen = Math.max(mostOpen, open);
      return {
        async query(text: string) {
          log.push(text);
          if (text === 'COMMIT')
            await new Promise<void>((release, fail) => waiting.push({ release, fail: (error) => fail(error) }));
          return { rows: [], rowCount: 0 };
        },
        release() {
          open--;
        },
      };
    },
  } as unknown as pg.Pool;
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  return {
    pool,
    log,
    mostOpen: () => mostOpen,
    /** Lets the oldest waiting COMMIT through (or fails it), once one waits. */
    async commit(error?: Error) {
      while (waiting.length === 0) await turn();
      const next = waiting.shift()!;
      if (error) next.fail(error);
      else next.release();
      await turn();
    },
    turn,
  };
}

interface Item {
  value: number;
  key?: string;
  refused?: boolean;
  /** Fails the whole transaction it runs in. */
  poison?: boolean;
}

function queue(fake: ReturnType<typeof fakePool>, options: { inFlight?: number; maxBatch?: number } = {}) {
  const batches: number[][] = [];
  const commits = new GroupCommit<Item, number>({
    pool: fake.pool,
    ...options,
    key: (item) => item.key ?? String(item.value),
    run: async (_client, batch) => {
      batches.push(batch.map((item) => item.value));
      if (batch.some((item) => item.poison)) throw new Error('poisoned');
      return batch.map((item) => (item.refused ? refuse(new Error(`refused ${item.value}`)) : answer(item.value * 10)));
    },
  });
  return { commits, batches };
}

const settledOf = (promises: Promise<number>[]) => {
  const seen: (number | string | undefined)[] = promises.map(() => undefined);
  promises.forEach((p, i) =>
    p.then(
      (value) => (seen[i] = value),
      (error: Error) => (seen[i] = error.message),
    ),
  );
  return seen;
};

describe('GroupCommit', () => {
  it('sends a lone request at once, and answers it only once its COMMIT went through', async () => {
    const fake = fakePool();
    const { commits, batches } = queue(fake);
    const seen = settledOf([commits.submit({ value: 1 })]);
    await fake.turn();
    expect(batches).to.deep.equal([[1]]);
    expect(seen).to.deep.equal([undefined]);
    await fake.commit();
    expect(seen).to.deep.equal([10]);
    expect(fake.log).to.deep.equal(['BEGIN', 'COMMIT']);
  });

  it('gathers what arrives while batches are in flight into the next one, each request with its own answer', async () => {
    const fake = fakePool();
    const { commits, batches } = queue(fake);
    const seen = settledOf([1, 2, 3, 4, 5].map((value) => commits.submit({ value, refused: value === 4 })));
    // Two batches in flight at once (the first two requests), the rest waiting for one of them to commit.
    await fake.turn();
    expect(batches).to.deep.equal([[1], [2]]);
    await fake.commit();
    expect(batches).to.deep.equal([[1], [2], [3, 4, 5]]);
    expect(seen).to.deep.equal([10, undefined, undefined, undefined, undefined]);
    await fake.commit();
    await fake.commit();
    expect(seen).to.deep.equal([10, 20, 30, 'refused 4', 50]);
    expect(fake.mostOpen()).to.equal(2);
    await commits.idle();
  });

  it('puts at most maxBatch requests in a batch and never two of the same key', async () => {
    const fake = fakePool();
    const { commits, batches } = queue(fake, { inFlight: 1, maxBatch: 3 });
    const all = [
      commits.submit({ value: 1 }),
      ...[2, 3, 4, 5, 6, 7].map((value) => commits.submit({ value, key: value <= 3 ? 'k' : undefined })),
    ];
    for (let i = 0; i < 3; i++) await fake.commit();
    expect(await Promise.all(all)).to.deep.equal([10, 20, 30, 40, 50, 60, 70]);
    // 3 waits for the batch after 2's, as if it came after it.
    expect(batches).to.deep.equal([[1], [2, 4, 5], [3, 6, 7]]);
    expect(fake.mostOpen()).to.equal(1);
  });

  it('runs each request of a batch that failed as a whole alone, so only the one that caused it fails', async () => {
    const fake = fakePool();
    const { commits, batches } = queue(fake, { inFlight: 1 });
    const seen = settledOf([1, 2, 3, 4].map((value) => commits.submit({ value, poison: value === 3 })));
    await fake.commit();
    // [2, 3, 4] fails before its COMMIT, then each goes alone, side by side.
    for (let i = 0; i < 2; i++) await fake.commit();
    await commits.idle();
    expect(batches.slice(0, 2)).to.deep.equal([[1], [2, 3, 4]]);
    expect(batches.slice(2).sort()).to.deep.equal([[2], [3], [4]]);
    expect(seen).to.deep.equal([10, 20, 'poisoned', 40]);
    expect(fake.log.filter((s) => s === 'ROLLBACK')).to.have.length(2);
  });

  it('answers none of a batch whose COMMIT failed, and runs each again alone', async () => {
    const fake = fakePool();
    const { commits, batches } = queue(fake, { inFlight: 1 });
    const seen = settledOf([1, 2, 3].map((value) => commits.submit({ value })));
    await fake.commit();
    await fake.commit(new Error('connection lost at COMMIT'));
    expect(seen).to.deep.equal([10, undefined, undefined]);
    await fake.commit();
    await fake.commit(new Error('connection lost at COMMIT'));
    await commits.idle();
    expect(batches).to.deep.equal([[1], [2, 3], [2], [3]]);
    expect(seen).to.deep.equal([10, 20, 'connection lost at COMMIT']);
  });

  it('refuses a run that answers a batch with another number of outcomes', async () => {
    const fake = fakePool();
    const commits = new GroupCommit<number, number>({ pool: fake.pool, run: async () => [] });
    const asked = commits.submit(1);
    void asked.catch(() => undefined);
    await fake.turn();
    expect(await asked.then(String, (error: Error) => error.message)).to.equal('0 outcomes for 1 requests');
  });
});
