/** The printed table, the PASS/FAIL lines and the JSON file of a benchmark run. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LatencyStats, LoadResult } from './load';

export interface TargetCheck {
  name: string;
  /** Human-readable measured value, e.g. "412 req/s = 0.46 × floor (900 req/s)". */
  measured: string;
  pass: boolean | null;
}

export const ms = (value: number | null | undefined): string =>
  value === null || value === undefined || Number.isNaN(value)
    ? '–'
    : value < 10
      ? value.toFixed(2)
      : value < 100
        ? value.toFixed(1)
        : value.toFixed(0);

export const num = (value: number | null | undefined, digits = 0): string =>
  value === null || value === undefined || Number.isNaN(value) ? '–' : value.toFixed(digits);

export const ratio = (a: number, b: number): number => (b > 0 ? a / b : NaN);

const pad = (text: string, width: number) =>
  text.length >= width ? text : text + ' '.repeat(width - text.length);
const padLeft = (text: string, width: number) =>
  text.length >= width ? text : ' '.repeat(width - text.length) + text;

/** A fixed-width table: first column left-aligned, the rest right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? pad(cell, widths[i]) : padLeft(cell, widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)]
    .map((text) => '  ' + text)
    .join('\n');
}

/**
 * Columns after the label: req/s, p50, p99, max, failed/sent, CPU milliseconds the server (with
 * its PostgreSQL) spent per answered request, and cores used by everything outside the benchmark
 * (interference from other work on the machine).
 */
export const LOAD_HEADER = [
  'req/s',
  'p50 ms',
  'p99 ms',
  'max ms',
  'failed/sent',
  'cpu ms/req',
  'other cores',
];

/** CPU milliseconds the server (and PostgreSQL) spent per answered request. */
export const cpuPerRequest = (result: LoadResult): number =>
  result.cpu && result.ok > 0
    ? ((result.cpu.server + result.cpu.database) * 1000 * result.durationSeconds) / result.ok
    : NaN;

export function loadRow(label: string, result: LoadResult | null | undefined): string[] {
  if (!result) return [label, '–', '–', '–', '–', '–', '–', '–'];
  return [
    label,
    num(result.throughput),
    ms(result.latency.p50),
    ms(result.latency.p99),
    ms(result.latency.max),
    `${result.non2xx + result.errors}/${result.sent}`,
    num(cpuPerRequest(result), 2),
    num(result.cpu?.other, 2),
  ];
}

export function latencyRow(label: string, latency: LatencyStats | null | undefined): string[] {
  if (!latency) return [label, '–', '–', '–', '–', '–'];
  return [
    label,
    String(latency.count),
    ms(latency.p50),
    ms(latency.p90),
    ms(latency.p99),
    ms(latency.max),
  ];
}

export function printTargets(checks: TargetCheck[]): string {
  return checks
    .map(
      (check) =>
        `  ${check.pass === null ? 'N/A ' : check.pass ? 'PASS' : 'FAIL'}  ${pad(check.name, 44)} ${check.measured}`,
    )
    .join('\n');
}

/** Writes bench/results/<timestamp>.json and bench/results/latest.json; returns the first path. */
export function writeResults(dir: string, startedAt: Date, results: unknown): string {
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const file = join(dir, `${stamp}.json`);
  const json = JSON.stringify(results, null, 2) + '\n';
  writeFileSync(file, json);
  writeFileSync(join(dir, 'latest.json'), json);
  return file;
}
