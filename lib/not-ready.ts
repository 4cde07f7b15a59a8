// Reasons this process cannot serve although it runs (a dependency a service waits for, e.g. Telegram at start-up):
// the HTTP gateway's readiness (gateway/health.ts) reports them, so the node is not ready rather than dead.
const reasons = new Map<string, string>();

export function markNotReady(key: string, reason: string): void {
  reasons.set(key, reason);
}

export function clearNotReady(key: string): void {
  reasons.delete(key);
}

/** What keeps this process from being ready, by key. */
export function notReadyReasons(): Record<string, string> {
  return Object.fromEntries(reasons);
}
