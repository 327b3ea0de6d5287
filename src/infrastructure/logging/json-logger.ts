import { LoggerService, LogLevel } from '@nestjs/common';
import { redactSecrets } from '../../domain/shared/redaction';

type Sink = (line: string) => void;

/**
 * Structured logs: one JSON object per line. Objects are redacted (§9 secret-named members) before
 * they are written; configuration secrets and API keys are never passed to the logger at all.
 */
export class JsonLogger implements LoggerService {
  constructor(
    private readonly levels: ReadonlySet<LogLevel> = new Set<LogLevel>(['log', 'warn', 'error', 'fatal']),
    private readonly out: Sink = (line) => process.stdout.write(line + '\n'),
    private readonly err: Sink = (line) => process.stderr.write(line + '\n'),
  ) {}

  log(message: unknown, ...rest: unknown[]) {
    this.write('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.write('verbose', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]) {
    this.write('fatal', message, rest);
  }

  private write(level: LogLevel, message: unknown, rest: unknown[]) {
    if (!this.levels.has(level)) return;
    // Nest passes the context as the last string argument (and a stack before it for errors).
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = level === 'error' && typeof rest[0] === 'string' && rest.length > 1 ? rest[0] : undefined;
    const fields =
      message instanceof Error
        ? { msg: message.message, error: message.name, stack: message.stack }
        : typeof message === 'object' && message !== null
          ? redactSecrets(message as Record<string, unknown>)
          : { msg: String(message) };
    const line = JSON.stringify({ level: level === 'log' ? 'info' : level, time: new Date().toISOString(), context, stack, ...fields });
    (level === 'error' || level === 'fatal' || level === 'warn' ? this.err : this.out)(line);
  }
}

/** The service logs info and above; tests pass `silent`. */
export function logLevels(kind: 'default' | 'silent' | 'debug'): Set<LogLevel> {
  if (kind === 'silent') return new Set();
  if (kind === 'debug') return new Set(['log', 'warn', 'error', 'fatal', 'debug', 'verbose']);
  return new Set(['log', 'warn', 'error', 'fatal']);
}
