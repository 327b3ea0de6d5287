import { registerDecorator } from 'class-validator';
import { CATALOGUE_KEY } from '../../domain/catalog/catalog-types';

/**
 * §6.1 `ProviderCredentials`: at most 20 providers keyed by catalogue keys (lower-cased before use),
 * each an object of at most 50 string members of at most 4,096 characters; a member sent as `null` is
 * absent (§0.3, "absent members allowed") and not counted.
 */
export function IsProviderCredentials(): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isProviderCredentials',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: 'providerCredentials must map at most 20 provider keys to objects of at most 50 string members of at most 4096 characters',
      },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const providers = Object.entries(value);
          if (providers.length > 20) return false;
          return providers.every(([key, members]) => {
            if (!CATALOGUE_KEY.test(key.toLowerCase())) return false;
            if (typeof members !== 'object' || members === null || Array.isArray(members)) return false;
            // §0.3, §6.1: a member sent as `null` is absent (dropped by normaliseProviderCredentials), not a field.
            const fields = Object.values(members as Record<string, unknown>).filter((v) => v !== null);
            return fields.length <= 50 && fields.every((v) => typeof v === 'string' && v.length <= 4096);
          });
        },
      },
    });
}

/** §0.5: provider keys lower-cased before use; absent (null) members dropped. */
export function normaliseProviderCredentials(
  credentials: Record<string, Record<string, string | null>>,
): Record<string, Record<string, string>> {
  return Object.fromEntries(
    Object.entries(credentials).map(([key, fields]) => [
      key.toLowerCase(),
      Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== null && entry[1] !== undefined)),
    ]),
  );
}
