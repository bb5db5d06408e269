/** Reads a V8 `.cpuprofile` (from `node --cpu-prof`) into its top functions by self time. */
import { readFileSync } from 'node:fs';
import { ROOT } from './procs.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotSpot {
  function: string;
  /** `path:line`, relative to the project (node_modules kept in), or `(native)`. */
  where: string;
  selfMs: number;
  /** Share of the busy (non-idle) samples. */
  selfPct: number;
}

function shortUrl(url: string): string {
  if (!url) return '(native)';
  const path = url.replace(/^file:\/\//, '');
  return path.startsWith(ROOT) ? path.slice(ROOT.length + 1) : path.replace(/^node:/, 'node:');
}

/**
 * Self time per function (by name and location), idle and GC reported apart. `window` keeps only
 * the samples taken within it, in µs of CLOCK_MONOTONIC (V8's profile clock, and what
 * `process.hrtime` reads in any process): the load run, without the process's start-up.
 */
export function topSelfTime(
  file: string,
  top = 15,
  window?: { fromUs: number; toUs: number },
): { busyMs: number; idleMs: number; gcMs: number; spots: HotSpot[] } {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let idleUs = 0;
  let gcUs = 0;
  let busyUs = 0;
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    const us = profile.timeDeltas[i + 1] ?? 0; // a sample's time is the delta to the next one
    if (window && (at < window.fromUs || at > window.toUs)) return;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      return;
    }
    busyUs += us;
    if (functionName === '(garbage collector)') gcUs += us;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '(native)';
    const name = functionName || '(anonymous)';
    const key = `${name}@${where}`;
    const entry = selfUs.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    selfUs.set(key, entry);
  });
  const spots = [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({
      function: e.name,
      where: e.where,
      selfMs: Math.round(e.us / 100) / 10,
      selfPct: Math.round((e.us / busyUs) * 1000) / 10,
    }));
  return { busyMs: Math.round(busyUs / 1000), idleMs: Math.round(idleUs / 1000), gcMs: Math.round(gcUs / 1000), spots };
}
