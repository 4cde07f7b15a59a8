// Broadcast figures against the Bot API emulator, with users, notifier and broadcaster as child processes
// (test/support/fault-bed.ts):
// - `broadcast`: a campaign over N recipients at the free limit (the emulator enforces Telegram's 30/s and answers
//   429 above it): the sustained rate, 429s, and the wait of transactional messages (notifier) sent meanwhile;
//   then the same recipients as a paid campaign at BROADCAST_PAID_RATE=1000;
// - `broadcast-100k`: a 100,000-recipient campaign: the broadcaster's RSS sampled throughout, and how soon the
//   campaign resumes after a SIGKILL halfway.
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { BroadcasterActions, callAction } from '../lib/contracts';
import { sendToChannel } from '../lib/runtime';
import { registerAudience, statusCounts, type AudienceMember } from '../test/support/broadcast';
import { startFaultBed, type FaultBed } from '../test/support/fault-bed';
import type { NodeProcess } from '../test/support/node-process';
import { eventually } from '../test/support/system';
import { summarise, type LatencySummary } from './stats';

const ADMIN_ID = '5580001';
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface CampaignFigures {
  recipients: number;
  seconds: number;
  /** Sent messages per second from the first send to the last. */
  perSecond: number;
  /** Of the configured rate. */
  percentOfRate: number;
  tooManyRequests: number;
  ambiguous: number;
}

export interface BroadcastFigures {
  free: CampaignFigures & { transactional: { messages: number; latencyMs: LatencySummary } };
  paid: CampaignFigures;
}

/** Polls the campaign's own row (cheap), not its progress (a count over its recipients). */
async function finishedCampaign(bed: FaultBed, campaignId: string): Promise<void> {
  await eventually(
    async () => {
      await delay(400);
      const { rows } = await bed.pool.query<{ status: string }>('SELECT status FROM broadcasts WHERE id = $1', [
        campaignId,
      ]);
      return rows[0]?.status === 'finished';
    },
    `campaign #${campaignId} to finish`,
    3_600_000,
  );
}

async function runCampaign(
  bed: FaultBed,
  members: AudienceMember[],
  language: string,
  paid: boolean,
  rate: number,
  meanwhile?: (done: () => boolean) => Promise<void>,
): Promise<CampaignFigures> {
  const text = `bench ${paid ? 'paid' : 'free'} ${randomBytes(3).toString('hex')}`;
  const callsBefore = bed.emulator.calls().length;
  const { campaignId } = await callAction(bed.client, BroadcasterActions.create, {
    actor: ADMIN_ID,
    content: { kind: 'text', text },
    audience: { kind: 'language', language },
    paid,
  });
  await callAction(bed.client, BroadcasterActions.start, { actor: ADMIN_ID, campaignId }, { timeout: 60_000 });
  let finished = false;
  const side = meanwhile?.(() => finished);
  await finishedCampaign(bed, campaignId);
  finished = true;
  await side;
  const chats = new Set(members.map((m) => Number(m.telegramId)));
  const calls = bed.emulator.calls().slice(callsBefore);
  const sends = calls
    .filter((c) => c.method === 'sendMessage' && c.status === 200 && chats.has(Number(c.params.chat_id)))
    .filter((c) => c.params.text === text)
    .map((c) => c.at);
  const seconds = (Math.max(...sends) - Math.min(...sends)) / 1000;
  const perSecond = Math.round(((sends.length - 1) / seconds) * 10) / 10;
  const counts = await statusCounts(bed.pool, campaignId);
  return {
    recipients: members.length,
    seconds: Math.round(seconds * 10) / 10,
    perSecond,
    percentOfRate: Math.round((perSecond / rate) * 1000) / 10,
    tooManyRequests: calls.filter((c) => c.status === 429).length,
    ambiguous: counts.ambiguous ?? 0,
  };
}

/** Credit notices to `people`, one every `everyMs`, each timed from publish to the emulator's record. */
async function transactional(bed: FaultBed, people: AudienceMember[], everyMs: number, done: () => boolean) {
  const latencies: number[] = [];
  const waits: Promise<void>[] = [];
  for (let i = 0; !done(); i++) {
    const person = people[i % people.length]!;
    const before = person.tg.messages().length;
    const id = `bench-tx:${randomBytes(6).toString('hex')}`;
    const at = Date.now();
    await sendToChannel(
      bed.client,
      'notifications.requested',
      { id, userId: person.userId, template: 'deposit.credited', params: { amount: '1000000000000000000', level: 1 } },
      id,
    );
    waits.push(
      eventually(async () => person.tg.messages().length > before, 'a transactional message', 120_000).then(() => {
        latencies.push(Date.now() - at);
      }),
    );
    await delay(everyMs);
  }
  await Promise.all(waits);
  return latencies;
}

export async function benchBroadcast(options: { recipients: number }): Promise<BroadcastFigures> {
  const bed = await startFaultBed({
    prefix: 'bench-broadcast',
    env: { ADMIN_TELEGRAM_IDS: ADMIN_ID, BROADCAST_PAID_RATE: '1000', BROADCAST_CONCURRENCY: '50' },
  });
  try {
    bed.emulator.user({ id: Number(ADMIN_ID), first_name: 'Admin' }).sendText('/start');
    await bed.spawn('users').started();
    await Promise.all([bed.spawn('notifier').started(), bed.spawn('broadcaster').started()]);
    await bed.client.waitForServices(['users', 'notifier', 'broadcaster'], 30_000);
    const members = await registerAudience(bed.emulator, bed.pool, options.recipients, 'qa');
    // Registered through users, so the notifier finds them (they are not in the broadcast's language).
    const people: AudienceMember[] = [];
    for (let i = 0; i < 20; i++) {
      const tg = bed.emulator.user({ first_name: `Tx${i}`, language_code: 'en' });
      tg.sendText('/start');
      const { user } = await bed.client.call<{ user: { id: string } }, object>('users.register', {
        telegramId: String(tg.id),
        firstName: `Tx${i}`,
        languageCode: 'en',
      });
      people.push({ tg, userId: user.id, telegramId: String(tg.id) });
    }
    let latencies: number[] = [];
    const free = await runCampaign(bed, members, 'qa', false, 30, async (done) => {
      latencies = await transactional(bed, people, 1000, done);
    });
    const paid = await runCampaign(bed, members, 'qa', true, 1000);
    return { free: { ...free, transactional: { messages: latencies.length, latencyMs: summarise(latencies) } }, paid };
  } finally {
    await bed.stop();
  }
}

export interface HundredThousandFigures {
  recipients: number;
  /**
   * The broadcaster's resident memory: idle before the campaign (a tsx-run node's baseline), and the most sampled
   * every 500 ms while it sent, before and after the kill.
   */
  rssMb: { idle: number; firstRun: number; afterRestart: number };
  /** From spawning the replacement process, and from its start-up line, to its first recorded send. */
  resumeMs: { fromSpawn: number; fromStarted: number };
  sent: number;
  ambiguous: number;
  seconds: number;
}

function rssMb(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

function sampleRss(node: NodeProcess): { stop(): number } {
  let max = 0;
  const timer = setInterval(() => (max = Math.max(max, rssMb(node.child.pid))), 500);
  return {
    stop() {
      clearInterval(timer);
      return max;
    },
  };
}

export async function benchBroadcast100k(options: { recipients: number }): Promise<HundredThousandFigures> {
  const bed = await startFaultBed({
    prefix: 'bench-broadcast-100k',
    env: {
      ADMIN_TELEGRAM_IDS: ADMIN_ID,
      TELEGRAM_GLOBAL_RATE: '1000',
      BROADCAST_CONCURRENCY: '50',
      // The V8 flags a deployment gives the broadcaster (README, "Memory"), measured as they would run.
      ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    },
  });
  try {
    // The budget (1,000/s) is the limit here; the emulator's flood limits would cap it at 30/s.
    bed.emulator.enforceLimits = false;
    bed.emulator.user({ id: Number(ADMIN_ID), first_name: 'Admin' }).sendText('/start');
    await bed.spawn('users').started();
    let node = bed.spawn('broadcaster');
    await node.started(60_000);
    await bed.client.waitForServices(['users', 'broadcaster'], 30_000);
    await registerAudience(bed.emulator, bed.pool, options.recipients, 'qb');
    const idle = rssMb(node.child.pid);
    const startedAt = Date.now();
    let rss = sampleRss(node);
    const { campaignId } = await callAction(bed.client, BroadcasterActions.create, {
      actor: ADMIN_ID,
      content: { kind: 'text', text: 'bench 100k' },
      audience: { kind: 'language', language: 'qb' },
    });
    await callAction(bed.client, BroadcasterActions.start, { actor: ADMIN_ID, campaignId }, { timeout: 60_000 });
    // The emulator's record, not a count over 100,000 rows every 100 ms (which would load the database).
    const sent = async () => bed.emulator.calls('sendMessage').length;
    await eventually(async () => (await sent()) >= options.recipients / 2, 'half sent', 3_600_000);
    await node.kill('SIGKILL');
    const firstRun = rss.stop();
    const before = await sent();
    const spawnedAt = Date.now();
    node = bed.spawn('broadcaster');
    await node.started(60_000);
    const startedLineAt = Date.now();
    rss = sampleRss(node);
    await eventually(async () => (await sent()) > before, 'the campaign to resume', 60_000);
    const resumedAt = Date.now();
    await finishedCampaign(bed, campaignId);
    const afterRestart = rss.stop();
    const counts = await statusCounts(bed.pool, campaignId);
    await node.kill('SIGTERM');
    return {
      recipients: options.recipients,
      rssMb: { idle, firstRun, afterRestart },
      resumeMs: { fromSpawn: resumedAt - spawnedAt, fromStarted: resumedAt - startedLineAt },
      sent: counts.sent ?? 0,
      ambiguous: counts.ambiguous ?? 0,
      seconds: Math.round((Date.now() - startedAt) / 100) / 10,
    };
  } finally {
    await bed.stop();
  }
}
