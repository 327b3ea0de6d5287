import { registerDecorator, ValidationOptions } from 'class-validator';

/** C0 controls, DEL and C1 controls (Unicode general category Cc). */
const CONTROL = /\p{Cc}/u;

export type TextRule = {
  min: number;
  max: number;
  /** at least one non-whitespace character */
  nonBlank?: boolean;
  /** `\n` is allowed (free-text descriptions); every other control character is still refused */
  newlines?: boolean;
};

/** Whether `value` is a string of `min`–`max` characters (code points) without control characters. */
export function isText(value: unknown, rule: TextRule): value is string {
  if (typeof value !== 'string' || CONTROL.test(rule.newlines ? value.replace(/\n/g, '') : value)) return false;
  const length = [...value].length;
  if (length < rule.min || length > rule.max) return false;
  return !rule.nonBlank || value.trim().length > 0;
}

function describe(rule: TextRule): string {
  const blank = rule.nonBlank ? ', not only whitespace' : '';
  const controls = rule.newlines ? 'control characters other than \\n' : 'control characters';
  return `${rule.min}–${rule.max} characters without ${controls}${blank}`;
}

/** A string field of the §4.1 field table (e.g. `displayName`: 1–200, no control characters, not blank). */
export function IsText(rule: TextRule, options: ValidationOptions = {}): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isText',
      target: target.constructor,
      propertyName: propertyName as string,
      options: { message: `$property must be ${options.each ? 'a list of strings of ' : 'a string of '}${describe(rule)}`, ...options },
      validator: { validate: (value: unknown) => isText(value, rule) },
    });
}

export type StringMapRule = { maxEntries: number; key: RegExp; keyMax: number; valueMax: number };

/** A string-to-string map such as machine `labels` (§4.1): bounded entries, keys by pattern, bounded values. */
export function IsStringMap(rule: StringMapRule, options: ValidationOptions = {}): PropertyDecorator {
  return (target, propertyName) =>
    registerDecorator({
      name: 'isStringMap',
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message:
          `$property must be an object of at most ${rule.maxEntries} entries whose keys are 1–${rule.keyMax} ` +
          `characters matching ${rule.key.source} and whose values are strings of 0–${rule.valueMax} characters`,
        ...options,
      },
      validator: {
        validate(value: unknown) {
          if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
          const entries = Object.entries(value);
          if (entries.length > rule.maxEntries) return false;
          return entries.every(
            ([key, v]) => key.length <= rule.keyMax && rule.key.test(key) && typeof v === 'string' && [...v].length <= rule.valueMax,
          );
        },
      },
    });
}
