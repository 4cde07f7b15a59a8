// PostgreSQL going away under a load of deposits, on a private server: its connections terminated (what a managed
// failover or a pooler restart does), then the server stopped for seconds and started again. The process stays
// up, is not ready while PostgreSQL is away, and every deposit is credited exactly once afterwards.
import { expect } from 'chai';
import { sendToChannel } from '../../lib/runtime';
import { parseUsdt } from '../support/usdt';
import { startFaultBed, waitForCredits, type Depositor, type FaultBed } from '../support/fault-bed';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-servers';
import { eventually } from '../support/system';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a PostgreSQL restart under a load of deposits', function () {
  this.timeout(240_000);
  let postgres: PrivatePostgres;
  let bed: FaultBed;

  before(async () => {
    postgres = await startPrivatePostgres();
    bed = await startFaultBed({ prefix: 'pg-fault', postgres });
  });
  after(async () => {
    await bed?.stop();
    await postgres?.destroy();
  });

  it('keeps the process up, not ready while PostgreSQL is away, and credits every deposit once after', async () => {
    const node = bed.spawn('users,bot-gateway,ledger,chain-monitor,notifier,gateway');
    await node.started();
    const depositors = await bed.depositors(4);
    const made: bigint[] = [];
    const depositAll = async (amount: string) => {
      for (const d of depositors) {
        await bed.deposit(d, amount);
        made.push(parseUsdt(amount));
      }
      await bed.anvil.mine(2);
    };
    const creditNotices = (d: Depositor) =>
      bed.emulator
        .user({ id: Number(d.telegramId) })
        .messages()
        .filter((m) => /USDT is credited/.test(m.text));

    await depositAll('10');
    await waitForCredits(bed, 4);

    // Every connection of the database terminated, twice, while credits are in flight.
    await depositAll('11');
    expect(await postgres.terminateConnections('sigmatrade')).to.be.greaterThan(0);
    await delay(300);
    await postgres.terminateConnections('sigmatrade');
    await waitForCredits(bed, 8);
    expect(node.alive, node.stderr()).to.equal(true);

    // The server stopped for a few seconds while deposits keep arriving on chain.
    await postgres.stop();
    const downAt = Date.now();
    const notReady = await eventually(async () => {
      const answer = await bed.ready();
      return answer.status === 503 && answer;
    }, '/health/ready to answer 503');
    const notReadyAfterMs = Date.now() - downAt;
    expect(notReady.body?.failed).to.include('postgres');
    await depositAll('12');
    // Promised while PostgreSQL is away: the notifier holds them (JetStream keeps them) until it is back.
    const promised = depositors.map((d) => ({
      id: `deposit-credited:outage-${d.userId}`,
      userId: d.userId,
      template: 'deposit.credited',
      params: { amount: parseUsdt('7').toString(), level: 0 },
    }));
    for (const request of promised) await sendToChannel(bed.client, 'notifications.requested', request, request.id);
    await delay(3000);
    expect(node.alive, node.stderr()).to.equal(true);
    expect((await bed.ready()).status).to.equal(503);

    await postgres.start();
    const upAt = Date.now();
    await eventually(async () => (await bed.ready()).status === 200, '/health/ready to answer 200 again', 30_000);
    const readyAfterMs = Date.now() - upAt;
    await waitForCredits(bed, 12);
    const creditedAfterMs = Date.now() - upAt;

    expect((await bed.credited()).total).to.equal(made.reduce((sum, amount) => sum + amount, 0n));
    const check = await bed.client.call<{ ok: boolean; problems: string[] }, object>(
      'ledger.check',
      {},
      { retries: 3 },
    );
    expect(check.problems).to.deep.equal([]);
    // Every notice promised: the three deposits' and the one requested during the outage. The notifier sends one
    // message a second per chat, so a user's last one may come seconds after the credits.
    for (const d of depositors) {
      await eventually(() => Promise.resolve(creditNotices(d).length >= 4), `4 credit notices for user ${d.userId}`);
    }
    for (const d of depositors) {
      await eventually(
        () => Promise.resolve(creditNotices(d).some((m) => /deposit of 7 USDT/.test(m.text))),
        `the notice promised during the outage to user ${d.userId}`,
      );
    }
    await delay(1500);
    expect(depositors.map((d) => creditNotices(d).length)).to.deep.equal([4, 4, 4, 4]);
    expect(node.alive, node.stderr()).to.equal(true);
    expect(node.stderr()).not.to.match(/Unhandled 'error' event|Connection terminated unexpectedly\n\s+at/);
    console.log(
      `      figures: not ready ${notReadyAfterMs} ms after PostgreSQL stopped; ready ${readyAfterMs} ms and every ` +
        `deposit credited ${creditedAfterMs} ms after it started again`,
    );
  });
});
