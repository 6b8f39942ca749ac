/**
 * The unit of work of a use case that changes several rows together: `run` opens a transaction
 * and hands its handle to the stores the use case calls; a store method that takes a transaction
 * runs its statement inside it (row locks included). Use cases decide; stores hold the SQL.
 */
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';

export type Transaction = EntityManager;

@Injectable()
export class Transactions {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.dataSource.transaction(work);
  }
}
