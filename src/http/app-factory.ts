import { LoggerService, RequestMethod } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule, AppModuleOptions } from '../app.module';
import { IdempotencyRecords } from '../application/idempotency/idempotency-records';
import { BODY_LIMIT_BYTES } from './errors/error-response';
import { ErrorFilter } from './errors/error.filter';
import { fastifyPipeline } from './pipeline/fastify-pipeline';
import { RequestPipelineInterceptor } from './pipeline/request-pipeline.interceptor';

export type CreateAppOptions = AppModuleOptions & { logger: LoggerService };

/** The Fastify server options of the app (its framework-error handler apart); the benchmarks' Nest baseline uses them too. */
export const FASTIFY_SERVER_OPTIONS = {
  bodyLimit: BODY_LIMIT_BYTES,
  logger: false,
  // §0.1: exact, case-sensitive paths; a trailing slash is not stripped.
  ignoreTrailingSlash: false,
  caseSensitive: true,
  // The correlation id is the request id of record (§0.13).
  disableRequestLogging: true,
} as const;

/**
 * Builds the HTTP application with every convention of §0 in place. Used by `main.ts`, the e2e
 * tests and the benchmarks, so all of them run the same stack.
 */
export async function createApp(options: CreateAppOptions): Promise<NestFastifyApplication> {
  const { logger, ...moduleOptions } = options;
  const pipeline = fastifyPipeline(options.config, logger);
  const adapter = new FastifyAdapter({ ...FASTIFY_SERVER_OPTIONS, frameworkErrors: pipeline.frameworkErrors });
  pipeline.install(adapter.getInstance());

  const app = await NestFactory.create<NestFastifyApplication>(AppModule.register(moduleOptions), adapter, {
    bodyParser: false,
    logger,
    abortOnError: false,
  });
  app.setGlobalPrefix('api/v1', { exclude: [{ path: 'health', method: RequestMethod.GET }] });
  app.useGlobalFilters(new ErrorFilter());
  // One interceptor, after the guards (§0.14): shape validation (step 5), idempotency (step 6), then
  // the HttpResult status, which wraps idempotency so that replayed HttpResults get their status too.
  app.useGlobalInterceptors(new RequestPipelineInterceptor(app.get(IdempotencyRecords)));
  app.enableShutdownHooks();
  await app.init();
  return app;
}
