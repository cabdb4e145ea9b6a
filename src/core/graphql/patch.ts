import { badInput } from './errors';

/**
 * Update inputs read a field three ways: absent keeps the stored value, a value sets it, and
 * null clears it. A field whose column cannot be empty has nothing to clear, so null there is
 * refused (BAD_USER_INPUT naming the field) rather than quietly read as "keep".
 */
export function refuseNull<T extends object>(input: T, fields: readonly (keyof T & string)[]): void {
  for (const field of fields) {
    if (input[field] === null) throw badInput(`${field} cannot be null; omit it to keep the current value`, field);
  }
}
