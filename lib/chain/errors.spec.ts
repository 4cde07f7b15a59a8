import { expect } from 'chai';
import { classifyRpcRefusal, describeRpcError } from './errors';

// What the major providers answer, as they word it.
const RANGE_TOO_LARGE: [string, string][] = [
  ['BNB Chain public endpoints', 'exceed maximum block range: 5000'],
  ['geth / Infura', 'query returned more than 10000 results. Try with this block range [0x1, 0x2710].'],
  [
    'Alchemy',
    'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, or you can request any block range with a cap of 10K logs in the response.',
  ],
  ['QuickNode', 'eth_getLogs is limited to a 10,000 range'],
  ['QuickNode (newer)', 'eth_getLogs and eth_newFilter are limited to a 10000 blocks range'],
  ['Ankr', 'block range is too wide'],
  ['Chainstack', 'Block range limit exceeded.'],
  ['Llamarpc', 'eth_getLogs range is too large, max is 1k blocks'],
  ['dRPC', 'ranges over 10000 blocks are not supported on freetier'],
  ['Moralis', 'query exceeds max results 20000, retry with the range 100-200'],
  ['Cloudflare', 'Query timeout exceeded. Consider reducing your block range.'],
];

const RATE_LIMITED: [string, string][] = [
  ['BNB Chain public endpoints (code -32005)', 'limit exceeded'],
  ['generic', 'rate limit exceeded'],
  ['Infura', 'project ID request rate exceeded'],
  ['Infura (daily)', 'daily request count exceeded, request rate limited'],
  [
    'Alchemy',
    'Your app has exceeded its compute units per second capacity. If you have retries enabled, you can safely ignore this message.',
  ],
  ['QuickNode', 'request limit reached - reduce calls per second or upgrade your account at quicknode.com'],
  ['Ankr', 'Too many requests, reason: call rate limit exhausted, retry in 10s'],
  ['NodeReal', 'method eth_getLogs in batch triggered rate limit'],
  ['Chainstack', "You've exceeded the RPS limit available on the current plan."],
  ['dRPC', 'Too many request, try again later'],
  ['GetBlock', 'Too Many Requests'],
];

describe('classifyRpcRefusal', () => {
  for (const [provider, message] of RANGE_TOO_LARGE) {
    it(`shrinks the window on ${provider}: "${message.slice(0, 60)}"`, () => {
      expect(classifyRpcRefusal(message)).to.equal('range-too-large');
    });
  }
  for (const [provider, message] of RATE_LIMITED) {
    it(`backs off and fails over on ${provider}: "${message.slice(0, 60)}"`, () => {
      expect(classifyRpcRefusal(message)).to.equal('rate-limited');
    });
  }

  it('takes HTTP 429 for a rate limit whatever the body says', () => {
    expect(classifyRpcRefusal('server response 429 Too Many Requests', 429)).to.equal('rate-limited');
    expect(classifyRpcRefusal('block range too large', 429)).to.equal('rate-limited');
  });

  it('leaves other failures to the ordinary retry', () => {
    for (const message of [
      'server response 500 Internal Server Error',
      'ECONNREFUSED',
      'header not found',
      'execution reverted',
    ])
      expect(classifyRpcRefusal(message), message).to.equal('other');
  });
});

describe('describeRpcError', () => {
  it("reads the provider's JSON-RPC message and the HTTP status from ethers errors", () => {
    expect(
      describeRpcError({ error: { code: -32005, message: 'limit exceeded' }, shortMessage: 'could not coalesce' }),
    ).to.deep.equal({
      message: 'limit exceeded',
      httpStatus: undefined,
    });
    expect(
      describeRpcError({
        shortMessage: 'server response 429 Too Many Requests',
        info: { responseStatus: '429 Too Many Requests' },
      }),
    ).to.deep.equal({ message: 'server response 429 Too Many Requests', httpStatus: 429 });
    expect(describeRpcError(new Error('socket hang up'))).to.deep.equal({
      message: 'socket hang up',
      httpStatus: undefined,
    });
  });
});
