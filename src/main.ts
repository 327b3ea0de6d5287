import 'reflect-metadata';
import { formatConfigErrors, loadConfig } from './config/app-config';
import { StartupError } from './infrastructure/core/startup-error';
import { JsonLogger, logLevels } from './infrastructure/logging/json-logger';
import { createApp } from './http/app-factory';

async function main(): Promise<void> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(formatConfigErrors(loaded.errors) + '\n');
    process.exit(1);
  }
  const logger = new JsonLogger(logLevels('default'));
  for (const w of loaded.warnings) logger.warn({ msg: `${w.variable} ${w.reason}`, variable: w.variable }, 'Config');

  let app;
  try {
    app = await createApp({ config: loaded.config, logger });
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const { host, port } = loaded.config;
  await app.listen(port, host);
  logger.log({ msg: `peaqOS Machine Markets orchestrator listening on http://${host}:${port}`, host, port }, 'Main');
}

main().catch((error: unknown) => {
  process.stderr.write(`Fatal: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
