// Recovery figures under faults, on private servers and child processes (test/support/fault-bed.ts):
// - a PostgreSQL restart under deposits: how long until the node is ready again and every deposit made during
//   the outage is credited;
// - a notifier replica SIGKILLed while it holds messages: how late the last message arrives after the kill, and
//   how many recipients got more than one message;
// - a ledger replica SIGKILLed under calls: the slowest idempotent call after the kill.
import { randomBytes } from 'node:crypto';
import { sendToChannel } from '../lib/runtime';
import { startFaultBed, waitForCredits } from '../test/support/fault-bed';
import { startPrivatePostgres } from '../test/support/private-servers';
import { eventually } from '../test/support/system';
import { summarise, type LatencySummary } from './stats';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface FaultFigures {
  postgresRestart: { rounds: number; outageSeconds: number; readyMs: LatencySummary; creditedMs: LatencySummary };
  notifierKill: {
    rounds: number;
    messages: number;
    lastMessageAfterKillMs: LatencySummary;
    recipientsWithTwo: number;
  };
  ledgerKill: { rounds: number; calls: number; failed: number; slowestCallMs: LatencySummary };
}

async function postgresRestart(rounds: number, outageSeconds: number): Promise<FaultFigures['postgresRestart']> {
  const postgres = await startPrivatePostgres();
  const bed = await startFaultBed({ prefix: 'bench-pg', postgres });
  const ready: number[] = [];
  const credited: number[] = [];
  try {
    await bed.spawn('users,bot-gateway,ledger,chain-monitor,notifier,gateway').started();
    const depositors = await bed.depositors(4);
    let made = 0;
    for (let round = 0; round < rounds; round++) {
      await postgres.stop();
      await eventually(async () => (await bed.ready()).status === 503, 'not ready');
      for (const d of depositors) await bed.deposit(d, '10');
      made += depositors.length;
      await bed.anvil.mine(2);
      await delay(outageSeconds * 1000);
      await postgres.start();
      const upAt = Date.now();
      await eventually(async () => (await bed.ready()).status === 200, 'ready again', 60_000);
      ready.push(Date.now() - upAt);
      await waitForCredits(bed, made);
      credited.push(Date.now() - upAt);
    }
  } finally {
    await bed.stop();
    await postgres.destroy();
  }
  return { rounds, outageSeconds, readyMs: summarise(ready), creditedMs: summarise(credited) };
}

async function notifierKill(rounds: number, messages: number): Promise<FaultFigures['notifierKill']> {
  const bed = await startFaultBed({ prefix: 'bench-notify' });
  const late: number[] = [];
  let doubled = 0;
  try {
    await bed.spawn('users').started();
    await bed.client.waitForServices(['users'], 30_000);
    for (let round = 0; round < rounds; round++) {
      const replicas = [bed.spawn('notifier'), bed.spawn('notifier')];
      await Promise.all(replicas.map((r) => r.started()));
      const people: { tg: ReturnType<typeof bed.emulator.user>; userId: string }[] = [];
      for (let i = 0; i < messages; i++) {
        const tg = bed.emulator.user({ first_name: `R${round}-${i}`, language_code: 'en' });
        tg.sendText('/start');
        const { user } = await bed.client.call<{ user: { id: string } }, object>('users.register', {
          telegramId: String(tg.id),
          languageCode: 'en',
        });
        people.push({ tg, userId: user.id });
      }
      const sentBefore = bed.emulator.sentMessages().length;
      for (const p of people) {
        const id = `deposit-credited:${randomBytes(6).toString('hex')}`;
        await sendToChannel(
          bed.client,
          'notifications.requested',
          { id, userId: p.userId, template: 'deposit.credited', params: { amount: '1000000000000000000', level: 1 } },
          id,
        );
      }
      await eventually(async () => bed.emulator.sentMessages().length - sentBefore >= messages / 4, 'a quarter sent');
      await replicas[0]!.kill('SIGKILL');
      const killedAt = Date.now();
      await eventually(async () => people.every((p) => p.tg.messages().length >= 1), 'all delivered', 60_000);
      const lastAt = Math.max(
        ...bed.emulator
          .calls('sendMessage')
          .filter((c) => c.status === 200)
          .map((c) => c.at),
      );
      late.push(Math.max(0, lastAt - killedAt));
      doubled += people.filter((p) => p.tg.messages().length > 1).length;
      await replicas[1]!.kill('SIGTERM');
    }
  } finally {
    await bed.stop();
  }
  return { rounds, messages, lastMessageAfterKillMs: summarise(late), recipientsWithTwo: doubled };
}

async function ledgerKill(rounds: number): Promise<FaultFigures['ledgerKill']> {
  const bed = await startFaultBed({ prefix: 'bench-dead' });
  const slowest: number[] = [];
  let calls = 0;
  let failed = 0;
  try {
    await bed.spawn('users').started();
    for (let round = 0; round < rounds; round++) {
      const [doomed, survivor] = [bed.spawn('ledger'), bed.spawn('ledger')];
      await Promise.all([doomed.started(), survivor.started()]);
      await eventually(
        async () =>
          bed.client.registry.getServiceList({ onlyAvailable: true }).filter((s) => s.name === 'ledger').length === 2,
        'both ledger nodes known',
      );
      let stop = false;
      let killedAt = Infinity;
      let worst = 0;
      const caller = async () => {
        while (!stop) {
          const startedAt = Date.now();
          try {
            await bed.client.call('ledger.balance', { userId: '1' }, { retries: 3, timeout: 8000 });
          } catch {
            failed++;
          }
          const done = Date.now();
          calls++;
          if (done >= killedAt) worst = Math.max(worst, done - startedAt);
          await delay(20);
        }
      };
      const callers = Array.from({ length: 10 }, caller);
      await delay(2000);
      await doomed.kill('SIGKILL');
      killedAt = Date.now();
      await delay(6000);
      stop = true;
      await Promise.all(callers);
      slowest.push(worst);
      await survivor.kill('SIGTERM');
    }
  } finally {
    await bed.stop();
  }
  return { rounds, calls, failed, slowestCallMs: summarise(slowest) };
}

export async function benchFaults(): Promise<FaultFigures> {
  return {
    postgresRestart: await postgresRestart(5, 3),
    notifierKill: await notifierKill(3, 60),
    ledgerKill: await ledgerKill(3),
  };
}
