import { ExecutionContext, Type } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, validateSync, ValidatorOptions } from 'class-validator';
import { FastifyRequest } from 'fastify';
import { ValidationIssue, validationError } from '../../domain/shared/domain-error';
import { pointerToken, toValidationIssues } from './validation-issues';

type Kind = 'body' | 'query' | 'param';
type RouteShape = { body?: Type; query?: Type; param?: Type };

const KINDS: Partial<Record<number, Kind>> = {
  [RouteParamtypes.BODY]: 'body',
  [RouteParamtypes.QUERY]: 'query',
  [RouteParamtypes.PARAM]: 'param',
};
const LOCATION: Record<Kind, ValidationIssue['location']> = { body: 'body', query: 'query', param: 'path' };
/** §0.2: unknown body members are rejected; unknown query parameters are ignored. */
const OPTIONS: Record<Kind, ValidatorOptions> = {
  body: { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true },
  query: { whitelist: true, forbidNonWhitelisted: false, forbidUnknownValues: true },
  param: { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true },
};
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * Step 5 of §0.14, as one step for every route: path, query, headers and body are validated against
 * the DTO classes the controller method declares (`@Body() dto: X`, `@Query() q: Y`, `@Param() p: Z`).
 * RequestPipelineInterceptor runs it after the guards (agent credentials, step 4) and before
 * idempotency (step 6). Nest reads parameters only after interceptors, so the validated instances
 * replace `request.body/query/params` and controllers receive them; the raw documented input is kept
 * for the idempotency fingerprint. A route that declares no body accepts an absent body or `{}` only; a
 * route whose body members are all optional also accepts an absent body (as `{}`).
 *
 * Validation is synchronous (`validateSync`): no validator of the DTOs is asynchronous (the custom ones
 * of `registerDecorator` return booleans and none is declared `async`), so `validate` would only add
 * promises. A validator that must be asynchronous needs `validate` here again: `validateSync` skips it.
 */
export class RequestShapeValidator {
  private readonly shapes = new WeakMap<object, RouteShape>();

  /** Validates the request against its route's DTOs and puts the validated instances in its place; throws VALIDATION_ERROR. */
  apply(context: ExecutionContext, request: FastifyRequest): void {
    const shape = this.shapeOf(context);
    const issues: ValidationIssue[] = [];

    if (request.peaqos.invalidCorrelationId) {
      issues.push({
        location: 'header',
        path: 'x-correlation-id',
        message: 'x-correlation-id must be 1–128 characters of [A-Za-z0-9._:-]',
      });
    }
    const key = request.headers['idempotency-key'];
    if (key !== undefined && (request.method === 'POST' || request.method === 'PATCH')) {
      if (typeof key !== 'string' || !IDEMPOTENCY_KEY.test(key)) {
        issues.push({ location: 'header', path: 'idempotency-key', message: 'Idempotency-Key must be 1–255 printable ASCII characters' });
      }
    }

    const validated: Partial<Record<Kind, object>> = {};
    for (const kind of ['param', 'query', 'body'] as const) {
      const raw = kind === 'body' ? request.body : kind === 'query' ? request.query : request.params;
      const metatype = shape[kind];
      if (!metatype) {
        if (kind === 'body' && raw !== undefined && !isEmptyObject(raw)) {
          issues.push({ location: 'body', path: '', message: 'This endpoint takes no request body (send none or {})' });
        }
        continue;
      }
      if (kind === 'body' && (raw === undefined || raw === null)) {
        // A body whose members are all optional may be left out: it means `{}`.
        if (acceptsEmptyBody(metatype)) {
          validated.body = plainToInstance(metatype, {}, { enableImplicitConversion: false }) as object;
          continue;
        }
        issues.push({ location: 'body', path: '', message: 'A JSON object request body is required' });
        continue;
      }
      if (kind === 'query') issues.push(...repeatedParameters(raw as Record<string, unknown>, metatype));
      const instance = plainToInstance(metatype, raw ?? {}, { enableImplicitConversion: false });
      const errors = validateSync(instance as object, OPTIONS[kind]);
      issues.push(...toValidationIssues(errors, LOCATION[kind]));
      if (kind === 'body') issues.push(...droppedMembers(raw, instance, ''));
      validated[kind] = instance as object;
    }
    if (issues.length > 0) throw validationError(dedupe(issues));

    const rawQuery = (request.query ?? {}) as Record<string, unknown>;
    request.peaqos.fingerprintInput = {
      query: Object.fromEntries(
        Object.keys(validated.query ?? {})
          .filter((name) => typeof rawQuery[name] === 'string')
          .map((name) => [name, rawQuery[name] as string]),
      ),
      body: request.body ?? null,
    };
    if (validated.body) request.body = validated.body;
    if (validated.query) request.query = validated.query;
    if (validated.param) request.params = validated.param;
  }

  private shapeOf(context: ExecutionContext): RouteShape {
    const handler = context.getHandler();
    let shape = this.shapes.get(handler);
    if (shape) return shape;
    shape = {};
    const controller = context.getClass();
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ?? {}) as Record<
      string,
      { index: number; data?: unknown }
    >;
    const types = (Reflect.getMetadata('design:paramtypes', controller.prototype, handler.name) ?? []) as Type[];
    for (const [key, meta] of Object.entries(args)) {
      const kind = KINDS[Number(key.split(':')[0])];
      if (!kind) continue;
      if (meta.data !== undefined) throw new Error(`${controller.name}.${handler.name}: bind whole DTOs (@${kind}()), not single fields`);
      const type = types[meta.index];
      if (type && type !== Object) shape[kind] = type;
    }
    this.shapes.set(handler, shape);
    return shape;
  }
}

/**
 * class-transformer silently skips members whose names are inherited functions (`toString`,
 * `constructor`, …), so the whitelist never sees them. Every member of the body must survive into
 * the instance; one that did not is reported like any unknown member (§0.2), never dropped silently.
 */
function droppedMembers(raw: unknown, instance: unknown, pointer: string): ValidationIssue[] {
  if (raw === null || typeof raw !== 'object' || instance === null || typeof instance !== 'object') return [];
  const issues: ValidationIssue[] = [];
  for (const key of Object.keys(raw)) {
    const path = `${pointer}/${pointerToken(key)}`;
    if (!Object.prototype.hasOwnProperty.call(instance, key)) {
      issues.push({ location: 'body', path, message: `Unknown property ${key}` });
      continue;
    }
    issues.push(...droppedMembers((raw as Record<string, unknown>)[key], (instance as Record<string, unknown>)[key], path));
  }
  return issues;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** §0.2: a documented query parameter given more than once is a validation error. */
function repeatedParameters(query: Record<string, unknown>, metatype: Type): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const [name, value] of Object.entries(query ?? {})) {
    if (Array.isArray(value) && documentedProperties(metatype).has(name)) {
      issues.push({ location: 'query', path: name, message: `Query parameter ${name} must be given at most once` });
    }
  }
  return issues;
}

/** Per body DTO class: whether `{}` is valid, i.e. every member is optional (fixed once the class is declared). */
const emptyBodyAccepted = new WeakMap<Type, boolean>();

/** Whether a route whose body DTO is `metatype` accepts an absent body (as `{}`). */
function acceptsEmptyBody(metatype: Type): boolean {
  let accepted = emptyBodyAccepted.get(metatype);
  if (accepted === undefined) {
    const empty = plainToInstance(metatype, {}, { enableImplicitConversion: false }) as object;
    accepted = validateSync(empty, OPTIONS.body).length === 0;
    emptyBodyAccepted.set(metatype, accepted);
  }
  return accepted;
}

/** Per query DTO class: its metadata is fixed once the class is declared. */
const documented = new WeakMap<Type, Set<string>>();

/** The decorated properties of a query DTO are its documented parameters. */
function documentedProperties(metatype: Type): Set<string> {
  let names = documented.get(metatype);
  if (!names) {
    names = new Set(
      getMetadataStorage()
        .getTargetValidationMetadatas(metatype, '', true, false)
        .map((m) => m.propertyName),
    );
    documented.set(metatype, names);
  }
  return names;
}

function dedupe(issues: ValidationIssue[]): ValidationIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.location}\u0000${i.path}\u0000${i.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
