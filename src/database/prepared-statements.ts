/**
 * The webhooks' hot statements, run straight on TypeORM's `pg` pool. On PostgreSQL they are named
 * prepared statements, parsed and planned once per connection: the inbound webhook's statement
 * (five CTEs and a partitioned insert) spent more time in the planner than executing, about
 * 0.55 ms of database CPU per webhook unnamed against 0.2 ms named. On the embedded PGlite every
 * connection shares one session, where a second connection's Parse of the same name would fail,
 * so there they stay unnamed.
 */
import { Injectable, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Pool, QueryResultRow } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import type { Statement } from './statement';

export interface PreparedStatement {
  /** Unique per text: pg refuses one name for two texts on a connection. */
  name: string;
  text: string;
}

/**
 * Whether the server keeps named statements per connection. Asks the server itself: a
 * DATABASE_URL may point at a PGlite served on loopback too.
 */
export async function takesNamedStatements(
  query: (text: string) => Promise<{ version: string }[]>,
): Promise<boolean> {
  const [{ version }] = await query('SELECT version()');
  return !version.includes('PGlite');
}

/** `statement` as pg's query config: named where the server takes names, unnamed on PGlite. */
export const queryConfig = (statement: PreparedStatement, values: unknown[], named: boolean) =>
  named ? { name: statement.name, text: statement.text, values } : { text: statement.text, values };

@Injectable()
export class PreparedStatements implements OnModuleInit {
  private named = false;

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    this.named = await takesNamedStatements((text) => this.dataSource.query(text));
  }

  async query<T extends QueryResultRow>(
    statement: PreparedStatement,
    values: unknown[],
  ): Promise<T[]> {
    const pool = (this.dataSource.driver as PostgresDriver).master as Pool;
    const result = await pool.query<T>(queryConfig(statement, values, this.named));
    return result.rows;
  }

  /** A statement with named parameters (./statement.ts), called with its arguments by name. */
  run<T extends QueryResultRow, P extends object = object>(
    statement: Statement<P>,
    params: P,
  ): Promise<T[]> {
    return this.query<T>(statement, statement.values(params));
  }
}
