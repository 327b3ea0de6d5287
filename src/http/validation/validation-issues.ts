import { ValidationError } from 'class-validator';
import { ValidationIssue } from '../../domain/shared/domain-error';

/** RFC 6901 escaping of one reference token. */
export function pointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Flattens class-validator errors into §0.8 entries; body paths are JSON Pointers. */
export function toValidationIssues(errors: ValidationError[], location: ValidationIssue['location'], parent = ''): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const error of errors) {
    const path =
      location === 'body' ? `${parent}/${pointerToken(error.property)}` : parent ? `${parent}.${error.property}` : error.property;
    for (const [constraint, message] of Object.entries(error.constraints ?? {})) {
      issues.push({
        location,
        path,
        message: constraint === 'whitelistValidation' ? `Unknown property ${error.property}` : message,
      });
    }
    if (error.children?.length) issues.push(...toValidationIssues(error.children, location, path));
  }
  return issues;
}
