/**
 * A response whose status depends on the outcome (201 created vs 200 existing, 202 handoff, a
 * replayed status). Controllers return it; RequestPipelineInterceptor applies it.
 */
export class HttpResult<T = unknown> {
  constructor(
    readonly status: number,
    readonly body: T,
  ) {}
}
