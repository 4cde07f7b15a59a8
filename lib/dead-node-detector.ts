// Moleculer learns that a node died only when its heartbeats stop arriving (NATS says nothing when a peer is
// SIGKILLed), so until then calls keep going to it and wait out their whole timeout. This middleware suspects the
// node of any remote call still unanswered after `suspectAfterMs`, pings it, and declares it gone when the ping is
// not answered either: Moleculer then rejects every pending request to it with a retryable error, the retry
// middleware calls another node at once, and the balancer stops choosing it. No library does this for Moleculer.
import type { Context, Middleware, ServiceBroker } from 'moleculer';
import type { Logger } from './logger';

export interface DeadNodeDetectorOptions {
  /** A call this old makes its node a suspect (well above a healthy call's latency). */
  suspectAfterMs?: number;
  /** How long a suspect has to answer a ping before it is declared gone. */
  pingTimeoutMs?: number;
}

interface Registry {
  nodes: {
    get(nodeID: string): { available: boolean } | undefined;
    disconnected(nodeID: string, unexpected: boolean): void;
  };
}

export function deadNodeDetector(log: Logger, options: DeadNodeDetectorOptions = {}): Middleware {
  const suspectAfterMs = options.suspectAfterMs ?? 1_000;
  const pingTimeoutMs = options.pingTimeoutMs ?? 1_500;
  const probing = new Set<string>();
  let broker: ServiceBroker | undefined;

  async function probe(nodeID: string): Promise<void> {
    if (!broker || probing.has(nodeID)) return;
    // Without our own bus nobody can answer; that says nothing about the other node.
    const connected = () => (broker as unknown as { transit?: { connected?: boolean } }).transit?.connected === true;
    if (!connected()) return;
    probing.add(nodeID);
    try {
      const pong = await broker.ping(nodeID, pingTimeoutMs);
      if (pong || !connected()) return;
      const registry = (broker as unknown as { registry: Registry }).registry;
      if (!registry.nodes.get(nodeID)?.available) return;
      log.warn(
        { node: nodeID, waited_ms: suspectAfterMs + pingTimeoutMs },
        'node does not answer; treating it as gone',
      );
      registry.nodes.disconnected(nodeID, true);
    } catch (error) {
      log.debug({ err: error, node: nodeID }, 'could not probe a slow node');
    } finally {
      probing.delete(nodeID);
    }
  }

  return {
    name: 'DeadNodeDetector',
    created(created: ServiceBroker) {
      broker = created;
    },
    remoteAction(next: (ctx: Context) => Promise<unknown>) {
      return function detectDeadNode(ctx: Context) {
        const nodeID = ctx.nodeID;
        if (!nodeID || nodeID === broker?.nodeID) return next(ctx);
        const timer = setTimeout(() => void probe(nodeID), suspectAfterMs);
        return next(ctx).finally(() => clearTimeout(timer));
      };
    },
  } as Middleware;
}
