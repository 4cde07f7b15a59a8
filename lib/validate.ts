import Validator, { type ValidationSchema } from 'fastest-validator';
import { Errors } from 'moleculer';

const validator = new Validator({ useNewCustomCheckerFunction: true });

/** Compiles a fastest-validator schema (the one Moleculer uses for action params) for channel payloads. */
export function compilePayload<T>(schema: ValidationSchema): (value: unknown) => T {
  const check = validator.compile({ $$strict: 'remove', ...schema });
  return (value) => {
    const result = check(value as object);
    if (result !== true) {
      throw new Errors.ValidationError('invalid message payload', 'VALIDATION_ERROR', result as unknown as object);
    }
    return value as T;
  };
}

/** Whole base units as a decimal string: how amounts travel in messages and action params. */
export const unitsRule = { type: 'string', pattern: /^\d{1,78}$/ } as const;
export const idRule = { type: 'string', pattern: /^\d{1,19}$/ } as const;
export const txHashRule = { type: 'string', pattern: /^0x[0-9a-fA-F]{64}$/ } as const;
export const addressRule = { type: 'string', pattern: /^0x[0-9a-fA-F]{40}$/ } as const;
