// A JSON-RPC proxy in front of Anvil that behaves like a real provider on a bad day: it fails some calls
// with HTTP 500 and refuses eth_getLogs ranges wider than it allows.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FlakyRpcOptions {
  target: string;
  /** Every n-th request answers HTTP 500 (0: never). */
  failEvery?: number;
  /** Widest eth_getLogs range served; wider ones get the "block range too large" error providers give. */
  maxLogRange?: number;
}

export interface FlakyRpc {
  url: string;
  /** Leave this transaction's logs out of the next `times` eth_getLogs answers, as a lagging node behind a balancer would. */
  omitLogsOf(txHash: string, times: number): void;
  omitted: number;
  /** The next `times` requests answer HTTP 429 Too Many Requests (with Retry-After: 1), as a throttling provider does. */
  rateLimitNext(times: number): void;
  requests: { method: string; failed: false | 'http-500' | 'range' | 'http-429' }[];
  close(): Promise<void>;
}

export async function startFlakyRpc(options: FlakyRpcOptions): Promise<FlakyRpc> {
  const requests: FlakyRpc['requests'] = [];
  let count = 0;
  let omit: { txHash: string; times: number } | undefined;
  let rateLimited = 0;
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const call = JSON.parse(body) as { id: number; method: string; params: { fromBlock?: string; toBlock?: string }[] };
    count++;
    if (rateLimited > 0) {
      rateLimited--;
      requests.push({ method: call.method, failed: 'http-429' });
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '1' }).end('Too Many Requests');
      return;
    }
    if (options.failEvery && count % options.failEvery === 0) {
      requests.push({ method: call.method, failed: 'http-500' });
      res.writeHead(500).end('upstream unavailable');
      return;
    }
    if (call.method === 'eth_getLogs' && options.maxLogRange) {
      const filter = call.params[0]!;
      const range = Number(BigInt(filter.toBlock!) - BigInt(filter.fromBlock!)) + 1;
      if (range > options.maxLogRange) {
        requests.push({ method: call.method, failed: 'range' });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            id: call.id,
            error: { code: -32005, message: `block range too large, max ${options.maxLogRange}` },
          }),
        );
        return;
      }
    }
    requests.push({ method: call.method, failed: false });
    const upstream = await fetch(options.target, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    let text = await upstream.text();
    if (call.method === 'eth_getLogs' && omit && omit.times > 0) {
      const answer = JSON.parse(text) as { result?: { transactionHash: string }[] };
      const kept = answer.result?.filter((log) => log.transactionHash.toLowerCase() !== omit!.txHash);
      if (kept && kept.length !== answer.result!.length) {
        omit.times--;
        handle.omitted++;
        text = JSON.stringify({ ...answer, result: kept });
      }
    }
    res.writeHead(upstream.status, { 'content-type': 'application/json' });
    res.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const handle: FlakyRpc = {
    url: `http://127.0.0.1:${port}`,
    omitted: 0,
    omitLogsOf(txHash, times) {
      omit = { txHash: txHash.toLowerCase(), times };
    },
    rateLimitNext(times) {
      rateLimited = times;
    },
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return handle;
}
