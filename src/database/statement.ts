/**
 * SQL statements with named parameters. `statement('name', (p) => `… ${p.organizationId} …`)`
 * numbers each parameter ($1, $2, …) where the text first names it, and `values(args)` lists the
 * arguments in that order: a statement of twenty parameters is written and called by name, and a
 * fragment from another store takes the caller's placeholders as its arguments.
 */
import type { PreparedStatement } from './prepared-statements';

/** `p.name` in a statement's text: its `$n`. */
export type Placeholders<P> = { readonly [K in keyof P]-?: string };

export interface Statement<P> extends PreparedStatement {
  /** The arguments in the statement's parameter order. */
  values(params: P): unknown[];
}

export function statement<P extends object>(
  name: string,
  build: (p: Placeholders<P>) => string,
): Statement<P> {
  const order: string[] = [];
  const placeholders = new Proxy(
    {},
    {
      get: (_target, key) => {
        if (typeof key !== 'string')
          throw new TypeError(`${name}: parameters are named by strings`);
        if (!order.includes(key)) order.push(key);
        return `$${order.indexOf(key) + 1}`;
      },
    },
  ) as Placeholders<P>;
  const text = build(placeholders);
  return {
    name,
    text,
    values: (params) => order.map((key) => (params as Record<string, unknown>)[key] ?? null),
  };
}
