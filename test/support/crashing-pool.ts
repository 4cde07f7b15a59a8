// A pg.Pool stand-in that crashes one transaction on purpose: the process dies mid-way (its connection terminated
// by the server, or an exception inside the transaction), or the commit goes through and its answer is lost.
import type pg from 'pg';

export interface CrashPlan {
  /** `before`: the transaction never commits; `after`: it commits and the caller hears only an error. */
  when: 'before' | 'after';
  /** `terminate`: pg_terminate_backend on the transaction's connection; `throw`: an exception in the process. */
  how: 'terminate' | 'throw';
  /** Which of the work's transactions crashes (1-based); a work with fewer transactions does not crash. */
  transaction: number;
  /** With `before`: the statement (1-based, COMMIT included) that does not go through, or COMMIT if fewer. */
  statement: number;
}

export class InjectedCrash extends Error {}

export interface Crashed {
  /** The transaction (1-based) that crashed, undefined while none did. */
  transaction: number | undefined;
}

/**
 * A pool whose transactions (`connect()`) follow `plan`; plain `query()` calls pass through. `killer` is another
 * pool, used to terminate the victim's connection from outside as an operator or a failover would.
 */
export function crashingPool(pool: pg.Pool, killer: pg.Pool, plan: CrashPlan): { pool: pg.Pool; crashed: Crashed } {
  const crashed: Crashed = { transaction: undefined };
  let transactions = 0;

  async function terminate(client: pg.PoolClient) {
    const pid = (client as unknown as { processID: number }).processID;
    const gone = new Promise<void>((resolve) => {
      client.once('end', resolve);
      client.once('error', () => resolve());
      setTimeout(resolve, 2_000).unref();
    });
    await killer.query('SELECT pg_terminate_backend($1)', [pid]);
    await gone;
  }

  function intercept(client: pg.PoolClient, transaction: number): pg.PoolClient {
    let statements = 0;
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    const crashing = async (...args: unknown[]) => {
      const first = args[0];
      const text = (typeof first === 'string' ? first : (first as { text: string }).text).trim().toUpperCase();
      if (
        crashed.transaction !== undefined ||
        transaction !== plan.transaction ||
        text === 'BEGIN' ||
        text === 'ROLLBACK'
      )
        return query(...args);
      statements++;
      const commit = text === 'COMMIT';
      if (plan.when === 'after') {
        if (!commit) return query(...args);
        await query(...args);
        crashed.transaction = transaction;
        if (plan.how === 'terminate') await terminate(client);
        throw new InjectedCrash('the answer to COMMIT was lost (injected)');
      }
      if (statements < plan.statement && !commit) return query(...args);
      crashed.transaction = transaction;
      if (plan.how === 'throw') throw new InjectedCrash(`crashed before statement ${statements} (injected)`);
      await terminate(client);
      return query(...args);
    };
    return new Proxy(client, {
      get(target, property, receiver) {
        if (property === 'query') return crashing;
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  const wrapper = {
    query: (...args: unknown[]) => (pool.query as (...a: unknown[]) => Promise<unknown>)(...args),
    async connect() {
      const client = await pool.connect();
      return intercept(client, ++transactions);
    },
  };
  return { pool: wrapper as unknown as pg.Pool, crashed };
}
