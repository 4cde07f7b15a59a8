// `api`: the HTTP edge (moleculer-web). Telegram's webhook and the health probes; nothing else is exposed.
import type { ServerResponse } from 'node:http';
import { Errors, type Service } from 'moleculer';
import ApiGateway, { type IncomingRequest } from 'moleculer-web';
import { BotGatewayActions, callAction } from '../lib/contracts';
import { serviceLogger } from '../lib/logger';
import { defineService } from '../lib/runtime';
import { apiGatewayConfig } from './config';
import { readiness } from './health';

const SECRET_HEADER = 'x-telegram-bot-api-secret-token';
// Below telegraf's handler timeout is pointless and above Telegram's patience is harmful.
const WEBHOOK_CALL_TIMEOUT_MS = 25_000;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export const apiGatewayService = defineService('api', apiGatewayConfig, (runtime) => {
  const { config } = runtime;
  const log = serviceLogger('api');

  async function telegramWebhook(this: Service, req: IncomingRequest, res: ServerResponse): Promise<void> {
    const header = req.headers[SECRET_HEADER];
    const secretToken = Array.isArray(header) ? header[0] : header;
    try {
      const result = await callAction(
        this.broker,
        BotGatewayActions.handleUpdate,
        { update: (req as IncomingRequest & { body?: unknown }).body, secretToken },
        { timeout: WEBHOOK_CALL_TIMEOUT_MS },
      );
      sendJson(res, 200, result);
    } catch (error) {
      const err = error as Errors.MoleculerError;
      if (err instanceof Errors.RequestTimeoutError) {
        // The update is claimed and still being handled; a retry by Telegram would only be dropped as a duplicate.
        log.warn({ err }, 'webhook update is taking long; answered 200');
        sendJson(res, 200, { ok: true });
      } else if (typeof err.code === 'number' && err.code >= 400 && err.code < 500) {
        sendJson(res, err.code, { ok: false, error: err.type, message: err.message });
      } else {
        // Unclaimed (bot-gateway unreachable or failing): 503 makes Telegram deliver it again later.
        log.error({ err }, 'webhook update could not be handed to bot-gateway');
        sendJson(res, 503, { ok: false, error: 'UNAVAILABLE' });
      }
    }
  }

  async function ready(this: Service, _req: IncomingRequest, res: ServerResponse): Promise<void> {
    const result = await readiness(this.broker, runtime);
    sendJson(res, result.status === 'ok' ? 200 : 503, result);
  }

  return {
    name: 'api',
    mixins: [ApiGateway],
    settings: {
      $noVersionPrefix: true,
      port: config.HTTP_PORT,
      ip: config.HTTP_HOST,
      logRequest: 'debug',
      logResponse: 'debug',
      routes: [
        {
          path: '/',
          mappingPolicy: 'restrict',
          autoAliases: false,
          // Telegram updates are small JSON documents; anything larger is not one.
          bodyParsers: { json: { limit: '1mb' }, urlencoded: false },
          aliases: {
            'POST /telegram/webhook': telegramWebhook,
            'GET /health/live'(_req: IncomingRequest, res: ServerResponse) {
              sendJson(res, 200, { status: 'ok' });
            },
            'GET /health/ready': ready,
          },
        },
      ],
    },
  };
});
