// A port this process is to listen on, checked before anything listens: Moleculer's Prometheus reporter and
// moleculer-web end the process with a stack trace on EADDRINUSE, so a busy port is named here first, in one line.
import { createServer } from 'node:net';
import { StartupError } from './startup-errors';

export interface WantedPort {
  /** The variable that sets it, named in the message. */
  variable: string;
  port: number;
  /** Address to bind (default: every interface, as the metrics server does). */
  host?: string;
}

function probe({ variable, port, host }: WantedPort): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(new StartupError(`${variable}: port ${port} is in use; set ${variable} to a free port`));
      else if (error.code === 'EACCES')
        reject(
          new StartupError(`${variable}: port ${port} needs privileges this process lacks; set ${variable} above 1023`),
        );
      else if (error.code === 'EADDRNOTAVAIL')
        reject(new StartupError(`${variable}: address ${host} is not one of this host's; correct the host`));
      else reject(new StartupError(`${variable}: cannot listen on port ${port} (${error.message})`));
    });
    server.listen({ port, ...(host ? { host } : {}), exclusive: true }, () => server.close(() => resolve()));
  });
}

/** Rejects with a StartupError naming the variable of the first wanted port that is taken (port 0 is skipped). */
export async function assertPortsFree(ports: readonly WantedPort[]): Promise<void> {
  for (const wanted of ports) if (wanted.port > 0) await probe(wanted);
}
