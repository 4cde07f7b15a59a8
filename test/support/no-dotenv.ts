// Loaded by every .mocharc (`require`): a `.env` in the checkout never changes what a test does. The mocha process
// and every child that inherits its environment (scripts/start.ts, scripts/dev.ts) skip loadDotEnv; helpers that
// spawn with a clean environment add NO_DOTENV_ENV themselves.
import { NO_DOTENV } from '../../lib/config';

export const NO_DOTENV_ENV: Readonly<Record<string, string>> = { [NO_DOTENV]: 'true' };

process.env[NO_DOTENV] = 'true';
