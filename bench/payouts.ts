// Payouts signed and broadcast per second on Anvil, and how long each takes from its approval to its broadcast: N
// withdrawals waiting for an admin are approved at once through the real ledger, and one payout node (DRY_RUN=false)
// takes them from the withdrawals.approved channel, signs, stores and broadcasts them with its PayoutWriter
// (test/support/payout-bed.ts). A recording proxy in front of Anvil notes when each transaction first reaches the
// node; every payout must then be paid once, under contiguous nonces, with ledger.check clean.
import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Transaction } from 'ethers';
import type { WithdrawalRecord } from '../lib/contracts';
import { startPayoutBed } from '../test/support/payout-bed';
import { eventually } from '../test/support/system';
import { runAtRate, summarise } from './stats';

interface Recorder {
  url: string;
  /** When each transaction hash was first sent to the node (performance.now()). */
  sentAt: Map<string, number>;
  close(): Promise<void>;
}

/** A pass-through JSON-RPC proxy that notes the first eth_sendRawTransaction of each transaction. */
async function startRecorder(target: string): Promise<Recorder> {
  const sentAt = new Map<string, number>();
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const note = (call: { method?: string; params?: unknown[] }) => {
    if (call.method !== 'eth_sendRawTransaction') return;
    const hash = Transaction.from(String(call.params?.[0])).hash!.toLowerCase();
    if (!sentAt.has(hash)) sentAt.set(hash, performance.now());
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        const parsed = JSON.parse(body.toString('utf8')) as object | object[];
        for (const call of Array.isArray(parsed) ? parsed : [parsed]) note(call);
      } catch {
        // Not JSON: Anvil answers it.
      }
      const forward = httpRequest(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: upstream.pathname,
          method: 'POST',
          agent,
          headers: { 'content-type': 'application/json', 'content-length': body.length },
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json' });
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.writeHead(502).end());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sentAt,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      agent.destroy();
    },
  };
}

interface Phase {
  withdrawals: number;
  /** Signed and broadcast per second, from the first approval to the last broadcast. */
  broadcastPerSecond: number;
  firstBroadcastMs: number;
  approvalToBroadcastMs: ReturnType<typeof summarise>;
}

/**
 * `burst` withdrawals approved at once (throughput, and how long the last ones queue), then `rate` approvals per
 * second for `seconds` (latency at the offered rate).
 */
export async function benchPayouts(options: { burst: number; rate: number; seconds: number }) {
  const bed = await startPayoutBed({
    prefix: 'benchpayouts',
    // Above the auto-approval limit, so every withdrawal waits for the admin's approval that starts the clock.
    env: { WITHDRAWAL_AUTO_APPROVE_LIMIT: '5', LOG_LEVEL: 'error' },
  });
  const recorder = await startRecorder(bed.anvil.rpcUrl);
  try {
    const payout = await bed.startPayout({ BSC_RPC_URLS: recorder.url });
    await eventually(async () => {
      const status = await payout.broker.call<{ self: string; leaseHolder: string | null }>('payout.status');
      return status.leaseHolder === status.self;
    }, 'the payout node to hold the hot wallet');
    const startNonce = await bed.anvil.provider.getTransactionCount(bed.hot.address, 'latest');
    const waiting = async (count: number) => {
      const users = await Promise.all(Array.from({ length: count }, () => bed.user('20')));
      const pending = await Promise.all(users.map((u) => bed.withdraw(u.userId, '10')));
      if (pending.some((w) => w.status !== 'pending_approval')) throw new Error('a withdrawal was not left to approve');
      return pending.map((w) => w.id);
    };
    const approvedAt = new Map<string, number>();
    const approve = async (id: string) => {
      await bed.call<WithdrawalRecord>('ledger.approveWithdrawal', { withdrawalId: id, admin: '42' });
      approvedAt.set(id, performance.now());
    };
    const phase = async (ids: string[], approveAll: () => Promise<unknown>): Promise<Phase> => {
      const started = performance.now();
      await approveAll();
      await eventually(
        async () => ids.every((id) => sentOf(id) !== undefined),
        `${ids.length} payouts broadcast`,
        120_000,
      );
      const sent = ids.map((id) => sentOf(id)!);
      const last = Math.max(...sent);
      return {
        withdrawals: ids.length,
        broadcastPerSecond: Math.round((ids.length * 1000) / (last - started)),
        firstBroadcastMs: Math.round(Math.min(...sent) - started),
        approvalToBroadcastMs: summarise(ids.map((id, i) => sent[i]! - approvedAt.get(id)!)),
      };
    };
    // The payout's first signed transaction (by withdrawal), as the payout service stored it.
    const txOf = new Map<string, string>();
    const sentOf = (id: string) => {
      const tx = txOf.get(id);
      return tx === undefined ? undefined : recorder.sentAt.get(tx);
    };
    const refresh = async () => {
      const { rows } = await bed.db.pool.query<{ withdrawal_id: string; tx_hash: string }>(
        'SELECT DISTINCT ON (withdrawal_id) withdrawal_id::text, tx_hash FROM payout_attempts ORDER BY withdrawal_id, id',
      );
      for (const row of rows) txOf.set(row.withdrawal_id, row.tx_hash);
    };
    const polled = <T>(work: () => Promise<T>) => {
      const timer = setInterval(() => void refresh(), 50);
      return work().finally(() => clearInterval(timer));
    };

    const burstIds = await waiting(options.burst);
    const burst = await polled(() => phase(burstIds, () => Promise.all(burstIds.map(approve))));
    const steadyIds = await waiting(options.rate * options.seconds);
    const steady = await polled(() =>
      phase(steadyIds, () => runAtRate(options.rate, options.seconds, (i) => approve(steadyIds[i]!))),
    );
    const ids = [...burstIds, ...steadyIds];
    await bed.waitForStatus(ids, 'paid', 300_000);

    const problems: string[] = [];
    const { rows } = await bed.db.pool.query<{ nonce: string }>(
      'SELECT nonce::text FROM payout_attempts ORDER BY payout_attempts.nonce',
    );
    if (rows.length !== ids.length) problems.push(`${rows.length} signed transactions for ${ids.length} payouts`);
    rows.forEach((row, i) => {
      if (Number(row.nonce) !== startNonce + i) problems.push(`nonce ${row.nonce} where ${startNonce + i} was next`);
    });
    const transfers = await bed.transfersFromHot();
    if (transfers.length !== ids.length) problems.push(`${transfers.length} transfers on chain for ${ids.length}`);
    problems.push(...(await bed.call<{ problems: string[] }>('ledger.check')).problems);
    if (problems.length > 0) throw new Error(`payouts: ${problems.slice(0, 10).join('; ')}`);
    return {
      burst,
      steady: { ...steady, ratePerSecond: options.rate, seconds: options.seconds },
      invariants: 'ok: paid once each, contiguous nonces, ledger.check clean',
    };
  } finally {
    await bed.stop();
    await recorder.close();
  }
}
