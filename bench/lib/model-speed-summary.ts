/** Targets and the printed section of the replies-at-the-model's-speed scenarios (issue #13). */
import { ms, num, table, TargetCheck } from './report';
import type { BurstRun, ModelSpeedResults } from './model-speed';

/** Webhook → Messages.create p99 targets of the bursts, by scenario name. */
const BURST_P99_MS: Record<string, number> = {
  '200 SMS at 20/s': 3_000,
  '1,000 SMS at 50/s': 4_000,
  '1,000 SMS at 50/s, two instances': 4_000,
};
/** "Several hundred per second" for a 20,000-job backlog with the local agent. */
const DRAIN_PER_SECOND = 300;
/** Flat: the last quarter of a drain, or the drain beside a million completed jobs, this close. */
const FLAT_RATIO = 0.7;

export function modelSpeedTargets(results: ModelSpeedResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const check = (name: string, measured: string, pass: boolean) =>
    checks.push({ name, measured, pass });
  for (const run of results.bursts) {
    const all = run.streams;
    const lost = all.reduce((sum, s) => sum + s.lost + s.late, 0);
    const twice = all.reduce((sum, s) => sum + s.answeredTwice, 0);
    const target = BURST_P99_MS[run.name];
    if (target !== undefined) {
      const worst = Math.max(...all.map((s) => s.endToEnd.p99));
      check(
        `${run.name}: webhook → Messages.create p99 ≤ ${num(target / 1000)} s`,
        `p99 ${ms(worst)} ms (model ${run.modelLatencyMs} ms)`,
        worst <= target && lost === 0,
      );
    }
    if (run.name.startsWith('fairness')) {
      const b = all.find((s) => s.label === 'organization B');
      const limit = 1.5 * run.modelLatencyMs + 1_000;
      check(
        `${run.name}: B p99 ≤ 1.5 × model latency + 1 s (${num(limit)} ms)`,
        `B p99 ${ms(b?.endToEnd.p99)} ms, A p99 ${ms(all[0].endToEnd.p99)} ms`,
        b !== undefined && b.endToEnd.p99 <= limit && lost === 0,
      );
    }
    const failed = all.reduce((sum, s) => sum + s.notAcknowledged, 0);
    check(
      `${run.name}: 0 lost, 0 answered twice`,
      `${lost} lost, ${twice} twice` +
        (failed
          ? ` (${failed} webhooks failed at the load generator, not stored, not counted)`
          : ''),
      !lost && !twice,
    );
    if (run.instances > 1) {
      check(
        `${run.name}: every instance called the model`,
        run.modelCallsPerInstance.join(' + ') + ' calls',
        run.modelCallsPerInstance.every((calls) => calls > 0),
      );
    }
  }
  const drains = results.drains;
  const largest = drains.filter((d) => d.completedJobsBefore < 500_000).at(-1);
  if (largest) {
    check(
      `drain of ${largest.jobs} jobs ≥ ${DRAIN_PER_SECOND}/s, flat (last quarter ≥ ${FLAT_RATIO} × first)`,
      `${num(largest.perSecond)}/s (first quarter ${num(largest.firstQuarterPerSecond)}/s, last ${num(largest.lastQuarterPerSecond)}/s)`,
      (largest.perSecond ?? 0) >= DRAIN_PER_SECOND &&
        (largest.lastQuarterPerSecond ?? 0) >= FLAT_RATIO * (largest.firstQuarterPerSecond ?? 0),
    );
  }
  const crowded = drains.find((d) => d.completedJobsBefore >= 500_000);
  const plain = drains.find((d) => crowded && d.jobs === crowded.jobs && d !== crowded);
  if (crowded && plain) {
    check(
      `drain of ${crowded.jobs} with ${crowded.completedJobsBefore} completed jobs ≥ ${FLAT_RATIO} × without`,
      `${num(crowded.perSecond)}/s vs ${num(plain.perSecond)}/s`,
      (crowded.perSecond ?? 0) >= FLAT_RATIO * (plain.perSecond ?? 0),
    );
  }
  for (const drain of drains) {
    check(
      `drain of ${drain.jobs} (${drain.completedJobsBefore} completed before): 0 lost, 0 twice`,
      `${drain.lost} lost, ${drain.answeredTwice} twice`,
      drain.lost === 0 && drain.answeredTwice === 0,
    );
  }
  return checks;
}

const burstRows = (run: BurstRun): string[][] =>
  run.streams.map((s) => [
    run.streams.length > 1 ? `${run.name} — ${s.label}` : run.name,
    String(s.messages),
    ms(s.endToEnd.p50),
    ms(s.endToEnd.p99),
    ms(s.endToEnd.max),
    ms(s.ack.latency.p99),
    `${s.answered}/${s.lost + s.late}/${s.answeredTwice}/${s.notAcknowledged}`,
    String(run.maxModelCallsInFlight),
  ]);

export function formatModelSpeed(results: ModelSpeedResults): string[] {
  const out: string[] = ['', "5. Replies at the model's speed"];
  if (results.bursts.length) {
    const latency = results.bursts[0].modelLatencyMs;
    out.push(
      `  webhook sent → reply's Messages.create, AGENT_PROVIDER=openai against a local model ` +
        `server answering after ${latency} ms`,
    );
    out.push(
      table(
        [
          '',
          'n',
          'p50 ms',
          'p99 ms',
          'max ms',
          'ack p99',
          'ok/lost/twice/no ack',
          'model calls at once',
        ],
        results.bursts.flatMap(burstRows),
      ),
    );
  }
  if (results.drains.length) {
    out.push('  backlog drain, local agent (queued through a web-only instance, then one worker)');
    out.push(
      table(
        [
          'jobs',
          'completed in table',
          'seconds',
          'jobs/s',
          'first ¼ /s',
          'last ¼ /s',
          'lost/twice',
          'fill not acknowledged',
        ],
        results.drains.map((d) => [
          String(d.jobs),
          String(d.completedJobsBefore),
          num(d.seconds, 1),
          num(d.perSecond),
          num(d.firstQuarterPerSecond),
          num(d.lastQuarterPerSecond),
          `${d.lost}/${d.answeredTwice}`,
          d.notAcknowledged
            ? `${d.notAcknowledged} (${Object.entries(d.fillStatuses ?? {})
                .filter(([status]) => status !== '200')
                .map(([status, n]) => `${status}: ${n}`)
                .join(', ')})`
            : '0',
        ]),
      ),
    );
  }
  if (results.claimPlan?.length) {
    out.push('  claim statement plan (EXPLAIN, 20,000-job backlog):');
    for (const line of results.claimPlan) out.push(`    ${line}`);
  }
  return out;
}
