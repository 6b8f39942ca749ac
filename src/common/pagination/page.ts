/**
 * The one list convention: `?limit=&cursor=` in, `{items, nextCursor}` out, keyset-paginated on
 * (a timestamp, id) so a page costs `limit + 1` index rows however deep it is.
 */
import { Type as Class } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidateBy } from 'class-validator';
import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { cursorTimestampSql, decodeCursor, encodeCursor, PageCursor } from './page-cursor';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

const IsPageCursor = (): PropertyDecorator =>
  ValidateBy({
    name: 'isPageCursor',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && decodeCursor(value) !== null,
      defaultMessage: () => 'cursor must be a nextCursor returned by this endpoint',
    },
  });

/** `limit` and `cursor`; a list with filters extends it. */
export class PageQuery {
  // No example: Swagger UI would pre-fill it, and any cursor hides the first page.
  @ApiPropertyOptional({
    description: "The previous page's `nextCursor`; omit for the first page",
    maxLength: 200,
  })
  @IsOptional()
  @IsPageCursor()
  cursor?: string;

  @ApiPropertyOptional({
    type: 'integer',
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    example: DEFAULT_PAGE_SIZE,
    description: `Items per page, 1 to ${MAX_PAGE_SIZE}`,
  })
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit: number = DEFAULT_PAGE_SIZE;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** The response schema of a list of `item`, named `name` (e.g. ChatbotPage) in the document. */
export function PageOf<T>(item: Class<T>, order: string): Class<Page<T>> {
  class PageOfItems implements Page<T> {
    @ApiProperty({ type: [item], description: order })
    items: T[];

    @ApiProperty({
      type: String,
      nullable: true,
      example: null,
      description: 'Pass as `cursor` for the next page; null on the last page',
    })
    nextCursor: string | null;
  }
  return PageOfItems;
}

/** Where the keyset of a query is: its timestamp and id columns, and the list's direction. */
export interface Keyset {
  at: string;
  id: string;
  order: 'ASC' | 'DESC';
}

const CURSOR_AT = 'page_cursor_at';

/**
 * Orders `qb` by the keyset, starts it after the cursor and fetches one row more than the page
 * (to know whether there is a next one); read the result with `toPage`.
 */
export function applyKeyset<E extends ObjectLiteral>(
  qb: SelectQueryBuilder<E>,
  keyset: Keyset,
  query: PageQuery,
): SelectQueryBuilder<E> {
  qb.addSelect(cursorTimestampSql(keyset.at), CURSOR_AT)
    .orderBy(keyset.at, keyset.order)
    .addOrderBy(keyset.id, keyset.order)
    .limit(query.limit + 1);
  const after = query.cursor ? decodeCursor(query.cursor) : null;
  if (after) {
    qb.andWhere(
      `(${keyset.at}, ${keyset.id}) ${keyset.order === 'ASC' ? '>' : '<'} (CAST(:pageAfterAt AS timestamptz), CAST(:pageAfterId AS uuid))`,
      { pageAfterAt: after.at, pageAfterId: after.id },
    );
  }
  return qb;
}

/**
 * The page of `rows` (fetched with applyKeyset; `raw[i]` is row i's raw result) and the cursor of
 * its last item when more follow.
 */
export function toPage<T extends { id: string }, R>(
  rows: T[],
  raw: Record<string, unknown>[],
  query: PageQuery,
  map: (row: T) => R,
): Page<R> {
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const cursor: PageCursor | null =
    rows.length > query.limit && last
      ? { at: String(raw[page.length - 1][CURSOR_AT]), id: last.id }
      : null;
  return { items: page.map(map), nextCursor: cursor ? encodeCursor(cursor) : null };
}

/** One page of the entities `qb` selects, in the keyset's order (applyKeyset, then toPage). */
export async function fetchPage<E extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<E>,
  keyset: Keyset,
  query: PageQuery,
): Promise<Page<E>> {
  const { entities, raw } = await applyKeyset(qb, keyset, query).getRawAndEntities();
  return toPage(entities, raw, query, (entity) => entity);
}
