import { defineConfig, integer, text, type CommonConfig, type ConfigOf } from '../lib/config';

export const apiGatewayConfig = defineConfig({
  HTTP_PORT: { description: 'Port of the HTTP gateway (webhook, health)', default: '3000', parse: integer(0, 65535) },
  HTTP_HOST: { description: 'Address the HTTP gateway binds to', default: '0.0.0.0', parse: text },
});
export type ApiGatewayConfig = CommonConfig & ConfigOf<typeof apiGatewayConfig.variables>;
