import { registerDecorator, ValidationOptions } from 'class-validator';
import { canonicalJson } from '../../domain/shared/canonical-json';

/** The size of `value` as canonical JSON (§0.12), in UTF-8 bytes. */
function canonicalJsonBytes(value: unknown): number {
  return Buffer.byteLength(canonicalJson(value), 'utf8');
}

function describeLimit(maxBytes: number): string {
  return maxBytes % 1024 === 0 ? `${maxBytes / 1024} KiB` : `${maxBytes} bytes`;
}

/**
 * A free-form object (`input`, `evidence`, …) of at most `maxBytes` as canonical JSON (e.g. 64 KiB,
 * §7.5.2, §7.5.12). Part of request-shape validation (step 5 of §0.14), so an oversized value is
 * refused before the Idempotency-Key is looked at (step 6) and together with the other shape issues.
 * Only the size is judged here: the type is `@IsObject`'s, and `@IsOptional` skips `null`/absent.
 * The body is parsed JSON, so canonicalJson cannot meet a value it does not represent.
 */
export function MaxCanonicalJsonBytes(maxBytes: number, options: ValidationOptions = {}): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'maxCanonicalJsonBytes',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `$property must be at most ${describeLimit(maxBytes)} as canonical JSON`, ...options },
      validator: { validate: (value: unknown) => value === undefined || canonicalJsonBytes(value) <= maxBytes },
    });
}
