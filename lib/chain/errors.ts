// What a JSON-RPC provider's refusal means. The wordings differ per provider (lib/chain/errors.spec.ts lists the
// ones of the major BSC providers); what matters is the reaction:
// - a range too large for eth_getLogs: shrink the scan window, the provider is fine;
// - a rate limit: back off and try the next provider, the range is fine;
// - anything else: retry with backoff on the next provider.

export type RpcRefusal = 'range-too-large' | 'rate-limited' | 'other';

/** Mentions a block range, or a result too large to return: the query, not the provider, is the problem. */
const RANGE_TOO_LARGE = [
  /block range/i, // "exceed maximum block range: 5000" (BNB Chain), "Block range limit exceeded" (Chainstack)
  /\brange (is )?too (wide|large|big)/i, // Ankr, Llamarpc: "eth_getLogs range is too large, max is 1k blocks"
  /query returned more than \d+ results/i, // geth, Infura
  /response size (exceeded|is larger|too large)/i, // Alchemy: "Log response size exceeded"
  /limited to (a )?[\d,]+ (blocks? )?range/i, // QuickNode: "eth_getLogs is limited to a 10,000 range"
  /ranges? over [\d,]+ blocks/i, // dRPC: "ranges over 10000 blocks are not supported"
  /exceeds? (the )?max(imum)? (results|block range|range)/i, // "query exceeds max results 20000"
  /too many (blocks|logs|results)/i,
  /max(imum)? range/i,
];

/** Says the caller asks too often, or spent its quota: another provider (or a pause) is the answer. */
const RATE_LIMITED = [
  /rate[- ]?limit/i, // "rate limit exceeded", "call rate limit exhausted" (Ankr), "triggered rate limit" (NodeReal)
  /too many requests?/i, // HTTP 429's text, dRPC "Too many request"
  /request rate exceeded/i, // Infura: "project ID request rate exceeded"
  /daily request count exceeded/i, // Infura
  /compute units per second/i, // Alchemy: "exceeded its compute units per second capacity"
  /request limit reached/i, // QuickNode
  /\brps limit\b/i, // Chainstack: "You've exceeded the RPS limit available on the current plan."
  /^limit exceeded$/i, // BNB Chain's public endpoints (code -32005)
  /credits? (quota|limit)|out of (credits|quota)|quota exceeded/i,
];

export function classifyRpcRefusal(message: string, httpStatus?: number): RpcRefusal {
  if (httpStatus === 429) return 'rate-limited';
  if (RANGE_TOO_LARGE.some((pattern) => pattern.test(message))) return 'range-too-large';
  if (RATE_LIMITED.some((pattern) => pattern.test(message))) return 'rate-limited';
  return 'other';
}

/** A JSON-RPC error object in the answer: the node answered (a refusal), as opposed to a transport failure. */
export function rpcErrorCode(error: unknown): number | undefined {
  const e = error as { error?: { code?: unknown }; info?: { error?: { code?: unknown } } };
  const code = e?.error?.code ?? e?.info?.error?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The provider's own words and HTTP status, from an ethers error. */
export function describeRpcError(error: unknown): { message: string; httpStatus?: number } {
  const e = error as {
    error?: { message?: string };
    info?: { error?: { message?: string }; responseStatus?: string };
    response?: { statusCode?: number };
    shortMessage?: string;
    message?: string;
  };
  const message =
    e?.error?.message ?? e?.info?.error?.message ?? e?.shortMessage ?? e?.message ?? String(error ?? 'unknown error');
  const status = e?.response?.statusCode ?? Number(/^(\d{3})\b/.exec(e?.info?.responseStatus ?? '')?.[1]);
  return { message, httpStatus: Number.isFinite(status) ? status : undefined };
}
