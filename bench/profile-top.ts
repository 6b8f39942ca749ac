/**
 * Summarises a V8 .cpuprofile (from BENCH_CPU_PROFILE=1 or `node --cpu-prof`): the top frames by
 * self time and by inclusive time, and self time per package, so a hot spot can be named without
 * opening DevTools.
 *
 *   npx ts-node --transpile-only bench/profile-top.ts <file.cpuprofile> [N] [skipSeconds]
 *
 * skipSeconds leaves out the first seconds of the profile (start-up: module loading, migrations).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, skipArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-top.ts <file.cpuprofile> [N]\n');
  process.exit(1);
}
const top = Number(topArg ?? 25);
const skipMs = Number(skipArg ?? 0) * 1000;
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;

const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes)
  for (const child of node.children ?? []) parent.set(child, node.id);

const shortUrl = (url: string) =>
  url
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, '~/')
    .replace(/^.*\/dist\//, 'dist/');
const frameKey = (node: ProfileNode) =>
  `${node.callFrame.functionName || '(anonymous)'}  ${shortUrl(node.callFrame.url)}:${node.callFrame.lineNumber + 1}`;
const packageOf = (node: ProfileNode) => {
  const url = node.callFrame.url;
  if (!url)
    return node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : '(native)';
  const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (match) return match[1];
  if (url.startsWith('node:')) return 'node:internal';
  if (url.includes('/dist/')) return 'app (dist)';
  return shortUrl(url);
};

const self = new Map<string, number>();
const inclusive = new Map<string, number>();
const packages = new Map<string, number>();
let total = 0;
let elapsed = 0;
profile.samples.forEach((id, i) => {
  const ms = (profile.timeDeltas[i] ?? 0) / 1000;
  elapsed += ms;
  if (elapsed < skipMs) return;
  total += ms;
  const node = byId.get(id)!;
  self.set(frameKey(node), (self.get(frameKey(node)) ?? 0) + ms);
  packages.set(packageOf(node), (packages.get(packageOf(node)) ?? 0) + ms);
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const key = frameKey(byId.get(at)!);
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
  }
});

const print = (title: string, entries: Map<string, number>) => {
  process.stdout.write(`\n${title}\n`);
  for (const [key, ms] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(
      `  ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${key}\n`,
    );
  }
};
process.stdout.write(
  `${file}: ${(total / 1000).toFixed(1)} s sampled after skipping ${(skipMs / 1000).toFixed(0)} s\n`,
);
print('Self time by package', packages);
print('Self time by frame', self);
print('Inclusive time by frame', inclusive);
