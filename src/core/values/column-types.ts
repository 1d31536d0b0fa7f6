/** The column types mlpipe infers, declares and featurizes, and the normalized cell of each. */

/** The column types mlpipe infers and featurizes. */
export type ColumnType = 'number' | 'integer' | 'boolean' | 'category' | 'datetime' | 'text';

export const COLUMN_TYPES: readonly ColumnType[] = ['number', 'integer', 'boolean', 'category', 'datetime', 'text'];

/**
 * The order of day and month in a purely numeric date (`03/05/2024`): month first (`mdy`, as in the
 * US and pandas' default) or day first (`dmy`). A datetime column learns it from its values at load
 * (or has it declared), and keeps it up to serving.
 */
export type DateOrder = 'mdy' | 'dmy';

export const DATE_ORDERS: readonly DateOrder[] = ['mdy', 'dmy'];

/** How people write a date of that order: `MM/DD/YYYY` or `DD/MM/YYYY`. */
export function dateOrderPattern(order: DateOrder): string {
  return order === 'mdy' ? 'MM/DD/YYYY' : 'DD/MM/YYYY';
}

/**
 * A column type as a user (`--types`, `types:`) or a source declares it: a {@link ColumnType}, or a
 * datetime with its day/month order (`datetime:dmy`, `datetime:mdy`).
 */
export type DeclaredType = ColumnType | `datetime:${DateOrder}`;

export const DECLARED_TYPES: readonly DeclaredType[] = [...COLUMN_TYPES, 'datetime:mdy', 'datetime:dmy'];

/** The column type and the day/month order (for `datetime:mdy` and `datetime:dmy`) of a declared type. */
export function splitDeclaredType(declared: DeclaredType): { type: ColumnType; dateOrder?: DateOrder } {
  if (declared === 'datetime:mdy') return { type: 'datetime', dateOrder: 'mdy' };
  if (declared === 'datetime:dmy') return { type: 'datetime', dateOrder: 'dmy' };
  return { type: declared };
}

/**
 * Why `text` is not a {@link DeclaredType} (a sentence listing the allowed values), or undefined
 * when it is one.
 */
export function declaredTypeProblem(text: string): string | undefined {
  if ((DECLARED_TYPES as readonly string[]).includes(text)) return undefined;
  if (text.startsWith('datetime:')) {
    return `unknown date order "${text.slice('datetime:'.length)}": expected datetime:mdy (month first: 03/05/2024 is March 5) or datetime:dmy (day first: 03/05/2024 is May 3), or datetime to learn the order from the values`;
  }
  return `unknown type "${text}": expected one of ${DECLARED_TYPES.join(', ')}`;
}

/** The declared type of a column type and order (`datetime` with `dmy` is `datetime:dmy`). */
export function joinDeclaredType(type: ColumnType, dateOrder: DateOrder | undefined): DeclaredType {
  return type === 'datetime' && dateOrder !== undefined ? `datetime:${dateOrder}` : type;
}

/**
 * A normalized cell: numbers (and datetimes, as epoch milliseconds UTC) are `number`, booleans are
 * `boolean`, categories and text are `string`, a missing value is `null`.
 */
export type Cell = number | string | boolean | null;
