// broadcaster processes SIGKILLed mid-campaign and restarted: the campaign resumes by itself from its per-recipient
// checkpoint and nobody gets the message twice. A recipient whose request may have been in flight at a kill is
// 'ambiguous' and not sent again (the loss is at most the in-flight window per crash); a graceful stop leaves
// none. The emulator's flood limits are off and the bot's budget is 1,000/s, so 5,000 sends take seconds.
import { expect } from 'chai';
import { BroadcasterActions, callAction } from '../../lib/contracts';
import { registerAudience, statusCounts, type AudienceMember } from '../support/broadcast';
import { startFaultBed, type FaultBed } from '../support/fault-bed';
import type { NodeProcess } from '../support/node-process';
import { eventually } from '../support/system';
import type { SimulatedUser } from '../support/telegram-emulator';

const ADMIN_ID = '5570001';
/** Requests a replica keeps in flight: the most recipients one crash can leave ambiguous. */
const CONCURRENCY = 20;
const BROADCASTER_ENV = {
  ADMIN_TELEGRAM_IDS: ADMIN_ID,
  TELEGRAM_GLOBAL_RATE: '1000',
  BROADCAST_CONCURRENCY: String(CONCURRENCY),
};

describe('a broadcaster killed mid-campaign', function () {
  this.timeout(300_000);
  let bed: FaultBed;
  let language = 0;
  let admin: SimulatedUser;

  before(async () => {
    bed = await startFaultBed({ prefix: 'broadcast-kill', env: BROADCASTER_ENV });
    bed.emulator.enforceLimits = false;
    bed.emulator.user({ id: Number(ADMIN_ID), first_name: 'Admin' }).sendText('/start');
    admin = bed.emulator.user({ id: Number(ADMIN_ID) });
    await bed.spawn('users').started();
    await bed.client.waitForServices(['users'], 30_000);
  });
  after(async () => bed?.stop());

  const spawnBroadcaster = async (): Promise<NodeProcess> => {
    const node = bed.spawn('broadcaster');
    await node.started(60_000);
    return node;
  };

  /**
   * Waits until the client sees exactly `count` broadcaster nodes: a SIGKILLed one stays in its registry until the
   * dead-node detector drops it, and a call routed to it meanwhile would be rejected.
   */
  const broadcastersSeen = (count: number) =>
    eventually(
      async () =>
        bed.client.registry
          .getNodeList({ onlyAvailable: true, withServices: true })
          .filter((n) => (n.services as { name: string }[] | undefined)?.some((s) => s.name === 'broadcaster'))
          .length === count,
      `the client to see ${count} broadcaster node(s)`,
      60_000,
    );

  async function startCampaign(
    count: number,
    replicas = 1,
  ): Promise<{ campaignId: string; members: AudienceMember[]; text: string }> {
    const lang = `q${String.fromCharCode(97 + language++)}`;
    const members = await registerAudience(bed.emulator, bed.pool, count, lang);
    await broadcastersSeen(replicas);
    const { campaignId } = await callAction(bed.client, BroadcasterActions.create, {
      actor: ADMIN_ID,
      content: { kind: 'text', text: `campaign ${lang}` },
      audience: { kind: 'language', language: lang },
    });
    await callAction(bed.client, BroadcasterActions.start, { actor: ADMIN_ID, campaignId }, { timeout: 30_000 });
    return { campaignId, members, text: `campaign ${lang}` };
  }

  const sentCount = async (campaignId: string) => (await statusCounts(bed.pool, campaignId)).sent ?? 0;

  const finished = (campaignId: string) =>
    eventually(
      async () => {
        const { rows } = await bed.pool.query<{ status: string }>('SELECT status FROM broadcasts WHERE id = $1', [
          campaignId,
        ]);
        return rows[0]?.status === 'finished';
      },
      `broadcast #${campaignId} to finish`,
      240_000,
    );

  /** Every recipient got the message once, or is ambiguous (then at most once); nobody twice. */
  async function checkOnce(
    campaignId: string,
    members: AudienceMember[],
    text: string,
  ): Promise<Record<string, number>> {
    const { rows } = await bed.pool.query<{ telegram_id: string; status: string }>(
      'SELECT telegram_id, status FROM broadcast_recipients WHERE broadcast_id = $1',
      [campaignId],
    );
    const status = new Map(rows.map((r) => [String(r.telegram_id), r.status]));
    expect(status.size).to.equal(members.length);
    let twice = 0;
    let ambiguousDelivered = 0;
    const missing: string[] = [];
    for (const m of members) {
      const got = m.tg.messages().filter((x) => x.text === text).length;
      if (got > 1) twice++;
      const s = status.get(m.telegramId);
      if (s === 'sent' && got !== 1) missing.push(`${m.telegramId}: sent but received ${got}`);
      if (got === 0 && s !== 'ambiguous') missing.push(`${m.telegramId}: ${s}, received nothing`);
      if (got === 1 && s === 'ambiguous') ambiguousDelivered++;
    }
    expect(twice, 'recipients who got the message twice').to.equal(0);
    expect(missing, 'recipients without the message and not ambiguous').to.deep.equal([]);
    return { ...(await statusCounts(bed.pool, campaignId)), ...(ambiguousDelivered ? { ambiguousDelivered } : {}) };
  }

  it('five SIGKILLs at random points of a 5,000-recipient campaign: everyone once or ambiguous, none twice', async () => {
    let node = await spawnBroadcaster();
    const { campaignId, members, text } = await startCampaign(5000);
    const resumes: number[] = [];
    for (let kill = 1; kill <= 5; kill++) {
      // A random point of the campaign: somewhere in the next stretch of sends.
      const target = (await sentCount(campaignId)) + 200 + Math.floor(Math.random() * 500);
      await eventually(
        async () => (await sentCount(campaignId)) >= Math.min(target, 4900),
        'sends before the kill',
        120_000,
      );
      await node.kill('SIGKILL');
      const before = await sentCount(campaignId);
      node = await spawnBroadcaster();
      const restartedAt = Date.now();
      await eventually(async () => (await sentCount(campaignId)) > before, 'the campaign to resume', 60_000);
      resumes.push(Date.now() - restartedAt);
    }
    await finished(campaignId);
    const counts = await checkOnce(campaignId, members, text);
    console.log(`      5 kills: ${JSON.stringify(counts)}, resumed after ${resumes.join(', ')} ms`);
    expect(counts.ambiguous ?? 0, 'ambiguous: at most the in-flight window per crash').to.be.at.most(5 * CONCURRENCY);
    expect((counts.sent ?? 0) + (counts.ambiguous ?? 0)).to.equal(5000);
    await node.kill('SIGTERM');
  });

  it('a graceful stop mid-campaign leaves nothing in flight and nothing ambiguous', async () => {
    let node = await spawnBroadcaster();
    const { campaignId, members, text } = await startCampaign(2000);
    await eventually(async () => (await sentCount(campaignId)) >= 500, 'sends before the stop', 120_000);
    const exit = await node.kill('SIGTERM');
    expect(exit.code).to.equal(0);
    const atStop = await statusCounts(bed.pool, campaignId);
    expect(atStop.sending ?? 0, 'left sending').to.equal(0);
    expect(atStop.pending ?? 0, 'still to send').to.be.above(0);
    node = await spawnBroadcaster();
    await finished(campaignId);
    const counts = await checkOnce(campaignId, members, text);
    expect(counts).to.deep.equal({ sent: 2000 });
    await node.kill('SIGTERM');
  });

  it('two replicas share a campaign; one SIGKILLed, the other finishes it without sending anyone twice', async () => {
    const [a, b] = await Promise.all([spawnBroadcaster(), spawnBroadcaster()]);
    const { campaignId, members, text } = await startCampaign(3000, 2);
    await eventually(async () => (await sentCount(campaignId)) >= 800, 'sends before the kill', 120_000);
    await a!.kill('SIGKILL');
    await finished(campaignId);
    const counts = await checkOnce(campaignId, members, text);
    expect(counts.ambiguous ?? 0).to.be.at.most(CONCURRENCY);
    expect((counts.sent ?? 0) + (counts.ambiguous ?? 0)).to.equal(3000);
    const { rows } = await bed.pool.query<{ n: string }>(
      `SELECT count(DISTINCT claimed_by) AS n FROM broadcast_recipients WHERE broadcast_id = $1 AND status = 'sent'`,
      [campaignId],
    );
    expect(Number(rows[0]!.n), 'replicas that sent').to.be.at.least(2);
    // One progress message for the admin, kept by whichever replica holds its lease, ending as the report.
    await admin.waitForMessage(new RegExp(`Broadcast #${campaignId} finished`), 60_000);
    expect(admin.messages().filter((m) => m.text.includes(`#${campaignId}`))).to.have.length(1);
    await b!.kill('SIGTERM');
  });
});
