// Crash points for fault tests: with NODE_ENV=test and FAILPOINTS=<name>[,<name>…] the process SIGKILLs itself when
// it reaches a named point, the way a lost machine would stop it (no cleanup, no flushed buffers). Elsewhere a no-op.
const armed = new Set(
  process.env.NODE_ENV === 'test'
    ? (process.env.FAILPOINTS ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [],
);

export function failpoint(name: string): void {
  if (armed.has(name)) process.kill(process.pid, 'SIGKILL');
}
