// bot-gateway's contract: one update POSTed by Telegram to the HTTP gateway.
import { z } from 'zod';
import { defineAction } from './define';

export const BotGatewayActions = {
  // Deliberately loose: the secret is checked before anything about the update is believed (a forged call gets
  // 401 whatever its body), then the shape.
  handleUpdate: defineAction(
    'bot-gateway.handleUpdate',
    z.object({ update: z.unknown(), secretToken: z.unknown().optional() }),
    z.object({ ok: z.literal(true), duplicate: z.boolean() }),
  ),
};
