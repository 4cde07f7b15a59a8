// Telegram unreachable for about a minute (the emulator refuses connections) while notifications are requested of
// two notifier replicas: every one is parked in failed_notifications (the request certainly never left), none is
// lost or judged ambiguous; once Telegram is back the notification-retry job (every 2 s here, once across the
// replicas) delivers each exactly once, and later runs send nothing more.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { sendToChannel } from '../../lib/runtime';
import { startFaultBed, type FaultBed } from '../support/fault-bed';
import { consumerSettled } from '../support/jetstream';
import { creditNotice, recipients } from '../support/notification-faults';
import { eventually } from '../support/system';

const CHANNEL = 'notifications.requested';
/** A parked notification is first retried a minute after it failed (notification-log.ts): the outage ends before. */
const OUTAGE_MS = 57_000;
const RETRY_INTERVAL_MS = 2000;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Telegram down for a minute', function () {
  this.timeout(240_000);
  let bed: FaultBed;

  before(async () => {
    bed = await startFaultBed({
      prefix: 'tg-outage',
      env: { NOTIFICATION_RETRY_INTERVAL_MS: String(RETRY_INTERVAL_MS) },
    });
    await bed.spawn('users').started();
  });
  after(async () => bed?.stop());

  const failed = async () =>
    (
      await bed.pool.query<{ notification_id: string; status: string; attempts: number; error: string }>(
        'SELECT notification_id, status, attempts, error FROM failed_notifications ORDER BY notification_id',
      )
    ).rows;

  it('parks what is requested meanwhile and the retry job delivers every message once afterwards', async () => {
    const replicas = [bed.spawn('notifier'), bed.spawn('notifier')];
    await Promise.all(replicas.map((r) => r.started()));
    const people = await recipients(bed, 40, 'O');
    // A credit notice (resent after an unknown outcome) and an informational message (not resent) each: both kinds
    // are parked, since a refused connection means the request never left.
    // (Each kind in turn, so one recipient's two are not back to back for the 1/s per chat.)
    const requests = [
      ...people.map((p, i) => creditNotice(p.userId, i + 1)),
      ...people.map((p) => ({
        id: `deposit-detected:${randomBytes(6).toString('hex')}`,
        userId: p.userId,
        template: 'deposit.detected',
        params: { amount: '5000000000000000000', txHash: `0x${randomBytes(32).toString('hex')}`, confirmations: 3 },
      })),
    ];
    // Before the outage the notifiers already talk to Telegram: their kept-alive sockets are closed by it.
    const first = creditNotice(people[0]!.userId, 0);
    await sendToChannel(bed.client, CHANNEL, first, first.id);
    // Its outcome recorded: an answer cut off by the outage would be an unknown outcome (and a credit notice resent).
    await eventually(
      async () =>
        (
          await bed.pool.query("SELECT 1 FROM outgoing_messages WHERE notification_id = $1 AND status = 'sent'", [
            first.id,
          ])
        ).rowCount === 1,
      'the first message sent and recorded',
    );

    await bed.emulator.refuseConnections();
    const downAt = Date.now();
    await delay(1000);
    for (const r of requests) await sendToChannel(bed.client, CHANNEL, r, r.id);
    await eventually(async () => (await failed()).length === requests.length, 'every request parked', 40_000);
    await eventually(() => consumerSettled(bed.namespace, CHANNEL, 'notifier'), 'the notifier consumer to settle');
    const parked = await failed();
    for (const row of parked) {
      expect(row).to.include({ status: 'pending', attempts: 1 });
      expect(row.error).to.match(/ECONNREFUSED/);
    }
    const ambiguous = await bed.pool.query("SELECT 1 FROM outgoing_messages WHERE status <> 'sent'");
    expect(ambiguous.rowCount, 'attempts left sending or ambiguous').to.equal(0);

    await delay(Math.max(0, downAt + OUTAGE_MS - Date.now()));
    await bed.emulator.acceptConnections();
    const upAt = Date.now();
    await eventually(
      async () => people.every((p) => p.tg.messages().length === (p === people[0] ? 3 : 2)),
      'every parked message delivered',
      90_000,
    );
    const deliveredMs = Date.now() - upAt;
    // Later runs of the job find nothing due and send nothing again.
    await delay(3 * RETRY_INTERVAL_MS);
    for (const p of people) expect(p.tg.messages()).to.have.length(p === people[0] ? 3 : 2);
    const calls = bed.emulator.calls('sendMessage');
    expect(calls.filter((c) => c.status === 200)).to.have.length(requests.length + 1);
    expect(
      calls.filter((c) => c.status !== 200),
      'answers other than 200',
    ).to.have.length(0);
    expect((await failed()).map((r) => r.status)).to.deep.equal(requests.map(() => 'sent'));
    const sent = await bed.pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM outgoing_messages WHERE status = 'sent'",
    );
    expect(Number(sent.rows[0]!.n)).to.equal(requests.length + 1);
    console.log(
      `      figures: ${requests.length} messages parked during ${Math.round(OUTAGE_MS / 1000)} s down; all delivered ` +
        `${(deliveredMs / 1000).toFixed(1)} s after Telegram came back, none twice`,
    );
    await Promise.all(replicas.map((r) => r.kill('SIGTERM')));
  });
});
