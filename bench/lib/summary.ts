/** Targets (PASS/FAIL, never asserted) and the printed report of a run. */
import type { Settled } from './app';
import {
  cpuPerRequest,
  latencyRow,
  LOAD_HEADER,
  loadRow,
  ms,
  num,
  printTargets,
  ratio,
  table,
  TargetCheck,
} from './report';
import type { Results } from './results';
import { formatHotPath, hotPathTargets } from './scale-out';
import { formatModelSpeed, modelSpeedTargets } from './model-speed-summary';

export function evaluateTargets(results: Results): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const check = (name: string, measured: string, pass: boolean) =>
    checks.push({ name, measured, pass });
  const { app, quickstart, floor } = results.webhooks;
  for (const [other, factor] of [
    [floor, 0.7],
    [quickstart, 1.0],
  ] as const) {
    if (!app || !other) continue;
    const r = ratio(app.saturation.throughput, other.saturation.throughput);
    check(
      `throughput ≥ ${num(factor, 1)} × ${other === floor ? 'floor' : 'quickstart'}`,
      `${num(app.saturation.throughput)} vs ${num(other.saturation.throughput)} req/s = ${num(r, 2)}×`,
      r >= factor,
    );
  }
  if (app) {
    const fixed = app.fixedRate;
    const failed = fixed.non2xx + fixed.errors;
    check(
      `p99 ack ≤ 50 ms at ${fixed.offeredRate} req/s`,
      `p99 ${ms(fixed.latency.p99)} ms, ${num(fixed.throughput)} req/s answered` +
        (failed ? `, ${failed} failed` : ''),
      fixed.latency.p99 <= 50 && failed === 0,
    );
  }
  const e2e = results.endToEnd;
  if (e2e) {
    const complete = e2e.answered === e2e.messages;
    const of = complete ? '' : ` (of ${e2e.answered} answered in ${num(e2e.waitedSeconds)} s)`;
    check(
      'end-to-end p50 ≤ 150 ms',
      `${ms(e2e.endToEnd.p50)} ms${of}`,
      complete && e2e.endToEnd.p50 <= 150,
    );
    check(
      'end-to-end p99 ≤ 500 ms',
      `${ms(e2e.endToEnd.p99)} ms${of}`,
      complete && e2e.endToEnd.p99 <= 500,
    );
    check(
      'messages lost = 0',
      `${e2e.lost}` +
        (e2e.late ? ` (+ ${e2e.late} still queued after ${num(e2e.waitedSeconds)} s)` : ''),
      e2e.lost === 0 && e2e.late === 0,
    );
    check('messages answered twice = 0', String(e2e.answeredTwice), e2e.answeredTwice === 0);
  }
  const tiers = results.growth.channels;
  if (tiers.length >= 2) {
    const [first, last] = [tiers[0], tiers[tiers.length - 1]];
    const r = ratio(last.result.latency.p99, first.result.latency.p99);
    check(
      `webhook p99, ${last.channels} vs ${first.channels} channels ≤ 1.5×`,
      `${ms(last.result.latency.p99)} vs ${ms(first.result.latency.p99)} ms = ${num(r, 2)}×`,
      r <= 1.5,
    );
  }
  const history = results.growth.history;
  if (history.length >= 2) {
    const [first, last] = [history[0], history[history.length - 1]];
    const r = ratio(last.endToEnd.p99, first.endToEnd.p99);
    check(
      `reply p99, ${last.earlierMessages} vs ${first.earlierMessages} earlier messages ≤ 1.5×`,
      `${ms(last.endToEnd.p99)} vs ${ms(first.endToEnd.p99)} ms = ${num(r, 2)}×`,
      r <= 1.5 && last.lost === 0,
    );
  }
  const inbox = results.growth.inbox;
  if (inbox) {
    const r = ratio(inbox.deep.latency.p99, inbox.firstPage.latency.p99);
    check(
      `inbox p99, page ${inbox.deepPage} vs page 1 ≤ 1.5×`,
      `${ms(inbox.deep.latency.p99)} vs ${ms(inbox.firstPage.latency.p99)} ms = ${num(r, 2)}×`,
      r <= 1.5,
    );
  }
  checks.push(...hotPathTargets(results));
  if (results.modelSpeed) checks.push(...modelSpeedTargets(results.modelSpeed));
  if (results.appPeakRssMb !== null) {
    check('app peak RSS ≤ 300 MB', `${num(results.appPeakRssMb)} MB`, results.appPeakRssMb <= 300);
  }
  return checks;
}

const settledText = (settled: Settled | undefined): string => {
  if (!settled) return '–';
  if (settled.queued === 0) return 'no backlog';
  const drained =
    settled.drainedSeconds !== null
      ? `drained in ${num(settled.drainedSeconds, 1)} s`
      : `${settled.cancelled} cancelled after the budget`;
  return `${settled.queued} queued: ${settled.replies} replies at ${num(settled.repliesPerSecond, 1)}/s, ${drained}`;
};

export function formatReport(results: Results): string {
  const out: string[] = [];
  const { app, appWebOnly, quickstart, floor } = results.webhooks;
  const { config } = results;
  out.push('');
  out.push(`SMS channel benchmark — ${results.startedAt}`);
  const { build } = results;
  out.push(
    `Build: ${build.commit ? `commit ${build.commit}` : 'unknown commit'}` +
      (build.uncommittedChanges ? ' with uncommitted changes in src/ or migrations/' : ''),
  );
  out.push(
    `Machine: ${results.machine.cpus} × ${results.machine.cpuModel}, ${num(results.machine.memoryGb)} GB, ` +
      `Node ${results.machine.node}, load average at start ${results.machine.loadAverageAtStart.map((l) => num(l, 1)).join(' ')}`,
  );
  out.push(`Database: ${results.database.label} — ${results.database.version}`);
  const commit = results.database.commit;
  if (commit) {
    out.push(
      `  one single-row INSERT commit at a time: p50 ${ms(commit.p50)} ms, p99 ${ms(commit.p99)} ms`,
    );
  }
  out.push(`Floor database: ${results.database.floor}`);

  const rows: string[][] = [];
  for (const [name, runs] of [
    ['app', app],
    ['app web-only', appWebOnly],
    ['quickstart', quickstart],
    ['floor', floor],
  ] as const) {
    if (!runs) continue;
    rows.push(loadRow(`${name}, saturation (${config.connections} conn)`, runs.saturation));
    rows.push(loadRow(`${name}, ${config.fixedRate} req/s`, runs.fixedRate));
  }
  if (rows.length) {
    out.push('');
    out.push('1. Webhook acknowledgement (signed inbound SMS → 200)');
    out.push(table(['', ...LOAD_HEADER], rows));
  }
  for (const [name, runs] of [
    ['app', app],
    ['app web-only', appWebOnly],
  ] as const) {
    if (!runs || !quickstart || !floor) continue;
    const q = ratio(runs.saturation.throughput, quickstart.saturation.throughput);
    const f = ratio(runs.saturation.throughput, floor.saturation.throughput);
    out.push(
      `  ${name}: saturation throughput ${num(q, 2)} × quickstart, ${num(f, 2)} × floor; ` +
        `${num(cpuPerRequest(runs.saturation), 2)} ms CPU per webhook`,
    );
  }
  if (quickstart && floor) {
    out.push(
      `  CPU per webhook: quickstart ${num(cpuPerRequest(quickstart.saturation), 2)} ms, ` +
        `floor ${num(cpuPerRequest(floor.saturation), 2)} ms`,
    );
  }
  out.push(...formatHotPath(results));
  if (appWebOnly) {
    out.push(
      '  (web-only: the same build with REPLY_WORKER_CONCURRENCY=0, no reply work in the process;' +
        ' CPU counts PostgreSQL too when it runs on this machine)',
    );
  }
  if (app?.settled) {
    out.push(`  app replies after saturation: ${settledText(app.settled.saturation)}`);
    out.push(
      `  app replies after ${config.fixedRate} req/s: ${settledText(app.settled.fixedRate)}`,
    );
  }

  const e2e = results.endToEnd;
  if (e2e) {
    out.push('');
    out.push(
      '2. End-to-end: webhook sent → reply reaches Messages.create (Twilio double), local agent',
    );
    out.push(
      table(
        ['', 'n', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'],
        [
          latencyRow(`webhook ack at ${e2e.rate}/s`, e2e.ack.latency),
          latencyRow('end-to-end', e2e.endToEnd),
        ],
      ),
    );
    out.push(
      `  ${e2e.messages} messages: answered ${e2e.answered}, lost ${e2e.lost}, still queued ${e2e.late} ` +
        `(after ${num(e2e.waitedSeconds)} s), answered twice ${e2e.answeredTwice}, ` +
        `webhook failures ${e2e.ack.non2xx + e2e.ack.errors}`,
    );
  }

  const growth = results.growth;
  if (growth.channels.length || growth.history.length || growth.inbox) {
    out.push('');
    out.push('3. How cost grows');
  }
  if (growth.channels.length) {
    out.push(
      table(
        ['connected channels', ...LOAD_HEADER, 'set up'],
        growth.channels.map((tier) => [
          ...loadRow(String(tier.channels), tier.result),
          [
            tier.setup.api ? `${tier.setup.api} API (${num(tier.setup.apiSeconds, 1)} s)` : '',
            tier.setup.sql ? `${tier.setup.sql} SQL (${num(tier.setup.sqlSeconds, 1)} s)` : '',
          ]
            .filter(Boolean)
            .join(' + ') || '–',
        ]),
      ),
    );
    out.push('  (one webhook at a time, spread over all connected channels)');
  }
  if (growth.history.length) {
    out.push(
      table(
        ['earlier messages', 'n', 'ack p50', 'ack p99', 'reply p50', 'reply p99', 'lost'],
        growth.history.map((run) => [
          String(run.earlierMessages),
          String(run.endToEnd.count),
          ms(run.ack.p50),
          ms(run.ack.p99),
          ms(run.endToEnd.p50),
          ms(run.endToEnd.p99),
          String(run.lost),
        ]),
      ),
    );
    out.push('  (ms; one message at a time into the same conversation, the next once answered)');
  }
  if (growth.inbox) {
    const inbox = growth.inbox;
    out.push(
      table(
        [`inbox list, ${inbox.conversations} conversations`, ...LOAD_HEADER],
        [
          loadRow('page 1', inbox.firstPage),
          loadRow(`page ${inbox.deepPage} (cursor)`, inbox.deep),
        ],
      ),
    );
  }

  if (results.appPeakRssMb !== null) {
    out.push('', '4. Memory');
    out.push(
      `  app peak RSS: ${num(results.appPeakRssMb)} MB` +
        (results.database.kind === 'embedded' ? ' (includes its embedded PGlite database)' : ''),
    );
  }
  const phases = results.rssTimeline.map((p) => `${p.phase} ${num(p.currentMb)}`).join(', ');
  if (phases) out.push(`  app RSS after each phase (MB): ${phases}`);
  if (appWebOnly?.peakRssMb) {
    out.push(`  app web-only peak RSS: ${num(appWebOnly.peakRssMb)} MB`);
  }
  for (const name of ['quickstart', 'floor'] as const) {
    const peak = results.webhooks[name]?.peakRssMb;
    if (peak) out.push(`  ${name} peak RSS: ${num(peak)} MB (runs under ts-node)`);
  }

  if (results.modelSpeed) out.push(...formatModelSpeed(results.modelSpeed));

  out.push('');
  out.push('Targets (printed, not asserted)');
  out.push(printTargets(results.targets));
  for (const note of results.notes) out.push(`  note: ${note}`);
  out.push('');
  return out.join('\n');
}
