import { expect } from 'chai';
import { createServer, type Server } from 'node:net';
import { assertPortsFree } from './ports';

describe('assertPortsFree (lib/ports.ts)', () => {
  let taken: Server;
  let port: number;
  before(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as { port: number }).port;
  });
  after(() => new Promise((resolve) => taken.close(resolve)));

  it('names the variable of a port in use in one line', async () => {
    const error = await assertPortsFree([
      { variable: 'HTTP_PORT', port: 0 },
      { variable: 'METRICS_PORT', port },
    ]).catch((e: Error) => e);
    expect(error).to.be.instanceOf(Error);
    expect((error as Error).name).to.equal('StartupError');
    expect((error as Error).message).to.equal(`METRICS_PORT: port ${port} is in use; set METRICS_PORT to a free port`);
  });

  it('passes free ports and leaves them free', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const freePort = (free.address() as { port: number }).port;
    await new Promise((resolve) => free.close(resolve));
    await assertPortsFree([{ variable: 'HTTP_PORT', port: freePort, host: '127.0.0.1' }]);
    // The probe let go of it: it can be listened on at once.
    await new Promise<void>((resolve, reject) => {
      free.once('error', reject);
      free.listen(freePort, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => free.close(resolve));
  });
});
