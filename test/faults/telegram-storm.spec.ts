// A 429 storm against two notifier processes on one bot: the emulator answers bursts of sendMessage calls with
// 429 and retry_after, twice; the second pause is longer than a send may wait in place, so the sends that met it
// are parked in failed_notifications for the retry job (every 2 s here) instead of sleeping in a handler. Read from
// the emulator's call record: no request arrived during any retry_after pause (past the requests already on the
// wire when the 429 came back), every message arrived exactly once, and the replicas together kept to Telegram's
// global limit (its flood control refused nothing; at most 30/s plus one straddling slot in any second).
import { expect } from 'chai';
import { sendToChannel } from '../../lib/runtime';
import { startFaultBed, type FaultBed } from '../support/fault-bed';
import { consumerSettled } from '../support/jetstream';
import { creditNotice, maxInWindow, recipients, retryAfterOf } from '../support/notification-faults';
import { eventually } from '../support/system';

const CHANNEL = 'notifications.requested';
/** Requests that took their slot before the 429 came back may still land this long after it. */
const ON_THE_WIRE_MS = 300;
/** The second pause is longer than a send may wait in place (5 s): the deliveries are rescheduled, not slept. */
const STORMS = [
  { retryAfter: 2, times: 6 },
  { retryAfter: 8, times: 5 },
];

describe('a 429 storm against two notifier replicas', function () {
  this.timeout(240_000);
  let bed: FaultBed;

  before(async () => {
    bed = await startFaultBed({ prefix: 'tg-storm', env: { NOTIFICATION_RETRY_INTERVAL_MS: '2000' } });
    await bed.spawn('users').started();
  });
  after(async () => bed?.stop());

  it('sends nothing during any retry_after, delivers every message once, and stays under 30/s together', async () => {
    const replicas = [bed.spawn('notifier'), bed.spawn('notifier')];
    await Promise.all(replicas.map((r) => r.started()));
    const people = await recipients(bed, 120, 'S');
    // 150 messages: 30 recipients get two.
    const requests = [
      ...people.map((p) => creditNotice(p.userId, 1)),
      ...people.slice(0, 30).map((p) => creditNotice(p.userId, 2)),
    ];
    const expected = (i: number) => (i < 30 ? 2 : 1);

    bed.emulator.failNext('sendMessage', {
      error_code: 429,
      retry_after: STORMS[0]!.retryAfter,
      times: STORMS[0]!.times,
    });
    const started = Date.now();
    for (const r of requests) await sendToChannel(bed.client, CHANNEL, r, r.id);
    // The second storm in the middle of the run.
    await eventually(async () => bed.emulator.sentMessages().length >= 60, '60 messages sent', 60_000);
    bed.emulator.failNext('sendMessage', {
      error_code: 429,
      retry_after: STORMS[1]!.retryAfter,
      times: STORMS[1]!.times,
    });

    await eventually(
      async () => people.every((p, i) => p.tg.messages().length >= expected(i)),
      'every message delivered',
      150_000,
    );
    await eventually(() => consumerSettled(bed.namespace, CHANNEL, 'notifier'), 'the notifier consumer to settle');
    const took = Date.now() - started;
    const calls = bed.emulator.calls('sendMessage');

    // Exactly once: each recipient has what was requested for them, and each request one sent attempt.
    for (const [i, p] of people.entries()) expect(p.tg.messages(), `recipient ${i}`).to.have.length(expected(i));
    const { rows } = await bed.pool.query<{ status: string; n: string }>(
      'SELECT status, count(*) AS n FROM outgoing_messages GROUP BY status',
    );
    expect(rows).to.deep.equal([{ status: 'sent', n: String(requests.length) }]);
    expect(calls.filter((c) => c.status === 200)).to.have.length(requests.length);

    // The only 429s are the injected ones: Telegram's own flood control (30/s, 1/s per chat) refused nothing.
    const tooMany = calls.filter((c) => c.status === 429);
    const injected = STORMS.reduce((n, s) => n + s.times, 0);
    expect(tooMany).to.have.length(injected);
    for (const c of tooMany) expect(retryAfterOf(c)).to.be.oneOf(STORMS.map((s) => s.retryAfter));

    // No request during any retry_after, once what was already on the wire has landed.
    let onTheWire = 0;
    for (const c of tooMany) {
      const pauseEnds = c.at + retryAfterOf(c)! * 1000;
      const during = calls.filter((d) => d.at > c.at && d.at < pauseEnds - 20);
      onTheWire = Math.max(onTheWire, ...during.map((d) => d.at - c.at));
      expect(
        during.filter((d) => d.at > c.at + ON_THE_WIRE_MS).map((d) => d.at - c.at),
        `requests during the pause after the 429 at +${c.at - started} ms`,
      ).to.deep.equal([]);
    }

    // Together under the global limit, counted where requests land: a window of 1 s overlaps at most 4 slots of
    // 334 ms (40 grants), and one more slot's 10 granted just before it may land inside it; likewise 3 s overlap at
    // most 10 slots. Telegram's own bucket, above (no flood-control 429), is what decides.
    const perSecond = maxInWindow(calls, 1000);
    const perThree = maxInWindow(calls, 3000);
    expect(perSecond, 'messages in the busiest second').to.be.at.most(4 * 10 + 10);
    expect(perThree, 'messages in the busiest 3 s').to.be.at.most(10 * 10 + 10);
    // Both replicas did the work.
    const sentBy = replicas.map((r) => r.logLines().filter((l) => l.msg === 'notification sent').length);
    for (const n of sentBy) expect(n).to.be.above(0);
    const parked = await bed.pool.query('SELECT 1 FROM failed_notifications');
    console.log(
      `      figures: ${requests.length} messages in ${(took / 1000).toFixed(1)} s through ${injected} injected 429s; ` +
        `replicas sent ${sentBy.join(' + ')}; busiest second ${perSecond}, busiest 3 s ${perThree}; last request on the wire ` +
        `${onTheWire} ms after a 429; ${parked.rowCount} parked for the retry job`,
    );
    await Promise.all(replicas.map((r) => r.kill('SIGTERM')));
  });
});
