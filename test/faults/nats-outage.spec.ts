// NATS (and its JetStream) killed under a load of deposits, on a private server, then started again on the same
// store: readiness turns false within seconds and true again after, and every deposit made meanwhile is credited.
import { expect } from 'chai';
import { startFaultBed, waitForCredits, type FaultBed } from '../support/fault-bed';
import { startPrivateNats, type PrivateNats } from '../support/private-servers';
import { eventually } from '../support/system';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a NATS outage under a load of deposits', function () {
  this.timeout(240_000);
  let nats: PrivateNats;
  let bed: FaultBed;

  before(async () => {
    nats = await startPrivateNats();
    bed = await startFaultBed({ prefix: 'nats-fault', nats });
  });
  after(async () => {
    await bed?.stop();
    await nats?.destroy();
  });

  it('is not ready within seconds of losing NATS, ready again after, and credits what arrived meanwhile', async () => {
    const node = bed.spawn('users,bot-gateway,ledger,chain-monitor,notifier,gateway');
    await node.started();
    const depositors = await bed.depositors(3);
    for (const d of depositors) await bed.deposit(d, '10');
    await bed.anvil.mine(2);
    await waitForCredits(bed, 3);
    expect((await bed.ready()).status).to.equal(200);

    await nats.kill();
    const downAt = Date.now();
    const notReady = await eventually(async () => {
      const answer = await bed.ready();
      return answer.status === 503 && answer;
    }, '/health/ready to answer 503');
    const notReadyAfterMs = Date.now() - downAt;
    expect(notReady.body?.failed).to.include.members(['broker', 'jetstream']);
    for (const d of depositors) await bed.deposit(d, '20');
    await bed.anvil.mine(2);
    await delay(3000);
    expect((await bed.ready()).status).to.equal(503);
    expect(node.alive, node.stderr()).to.equal(true);

    await nats.start();
    const upAt = Date.now();
    await eventually(async () => (await bed.ready()).status === 200, '/health/ready to answer 200 again', 60_000);
    const readyAfterMs = Date.now() - upAt;
    await waitForCredits(bed, 6);
    const creditedAfterMs = Date.now() - upAt;
    const check = await bed.client.call<{ ok: boolean; problems: string[] }, object>(
      'ledger.check',
      {},
      { retries: 3 },
    );
    expect(check.problems).to.deep.equal([]);
    expect(node.alive, node.stderr()).to.equal(true);
    console.log(
      `      figures: not ready ${notReadyAfterMs} ms after NATS died; ready ${readyAfterMs} ms and every deposit ` +
        `credited ${creditedAfterMs} ms after it started again`,
    );
  });
});
