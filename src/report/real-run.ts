// Text summaries of real-kernel files (../shared/real-kernel): a whole run folder, or one /proc file or CSV,
// for `prsim import`.
import type { BuddyinfoRow } from '../importers/buddyinfo.js';
import type { PassRow, RssRow } from '../importers/csv.js';
import type { KpageflagsBlocks } from '../importers/kpageflags.js';
import type { Pagetypeinfo } from '../importers/pagetypeinfo.js';
import type { Run } from '../importers/run.js';
import { populatedZones, type Zoneinfo } from '../importers/zoneinfo.js';
import { formatTable } from './table.js';

const mib = (pages: number) => `${(pages / 256).toFixed(1)} MiB`;
const kibToMib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function buddyinfoFreePages(rows: readonly BuddyinfoRow[]): number {
  return rows.reduce((a, r) => a + r.counts.reduce((b, c, o) => b + c * 2 ** o, 0), 0);
}

export function buddyinfoSummary(rows: readonly BuddyinfoRow[]): string {
  const orders = rows[0]?.counts.length ?? 0;
  const header = ['zone', ...Array.from({ length: orders }, (_, o) => `o${o}`), 'free'];
  const body = rows.map((r) => [`${r.node}/${r.zone}`, ...r.counts.map(String), mib(buddyinfoFreePages([r]))]);
  return formatTable(header, body) + `total free ${mib(buddyinfoFreePages(rows))}\n`;
}

export function zoneinfoSummary(info: Zoneinfo): string {
  const rows = populatedZones(info).map((z) => [
    z.name, String(z.startPfn ?? '-'), String((z.startPfn ?? 0) + z.spanned), String(z.present), String(z.managed),
    String(z.free), `${z.min}/${z.low}/${z.high}`, z.pcp[0] ? `${z.pcp[0].high}/${z.pcp[0].batch}` : '-', String(z.pcp.length),
  ]);
  return formatTable(['zone', 'start pfn', 'end pfn', 'present', 'managed', 'free', 'min/low/high', 'pcp high/batch', 'cpus'], rows);
}

export function pagetypeinfoSummary(info: Pagetypeinfo): string {
  const rows = info.free.map((r) => [`${r.node}/${r.zone}`, r.type, mib(r.counts.reduce((a, c, o) => a + c * 2 ** o, 0))]);
  const blocks = info.blocks.map((b) => [`${b.node}/${b.zone}`, ...b.counts.map(String)]);
  return formatTable(['zone', 'type', 'free'], rows, [0, 1]) + '\n' + formatTable(['zone', ...info.blockTypes], blocks);
}

export function passesSummary(passes: readonly PassRow[]): string {
  const bytes = passes.reduce((a, p) => a + p.bytes, 0);
  return `${passes.length} passes, ${passes.reduce((a, p) => a + p.batches, 0)} batches, ${passes.reduce((a, p) => a + p.blocks, 0)} blocks, ${kibToMib(bytes / 1024)} reported`;
}

export function rssSummary(rss: readonly RssRow[]): string {
  if (!rss.length) return 'no samples';
  const peak = rss.reduce((a, r) => Math.max(a, r.vmRssKib), 0);
  return `${rss.length} samples over ${(rss[rss.length - 1]!.tHost - rss[0]!.tHost).toFixed(1)} s: peak ${kibToMib(peak)}, final ${kibToMib(rss[rss.length - 1]!.vmRssKib)}`;
}

export function kpageflagsSummary(k: KpageflagsBlocks): string {
  const orders = k.byOrder.map((c, o) => `${o}:${c}`).join(' ');
  return `${k.pfns} pfns, ${k.blocks.length} free blocks (${mib(k.freePages)}), by order ${orders}; reported ${k.reportedByOrder.reduce((a, c, o) => a + c * 2 ** o, 0)} pages`;
}

/** A whole run folder in a few lines. */
export function runSummary(run: Run): string {
  const lines: Array<[string, string]> = [];
  const s = run.summary;
  if (s) lines.push(['guest', `${s.mem_mib} MiB, ${s.smp} cpus, reporting order ${s.page_reporting_order_effective}`]);
  const zi = run.proc['pre']?.zoneinfo ?? Object.values(run.proc).find((p) => p.zoneinfo)?.zoneinfo;
  if (zi) {
    lines.push(['zones', populatedZones(zi).map((z) => `${z.name} pfn [${z.startPfn}, ${(z.startPfn ?? 0) + z.spanned}) managed ${z.managed}, wmark ${z.min}/${z.low}/${z.high}`).join('; ')]);
  }
  const tags = Object.keys(run.proc);
  if (tags.length) {
    const free = tags.filter((t) => run.proc[t]!.buddyinfo).map((t) => `${t} ${mib(buddyinfoFreePages(run.proc[t]!.buddyinfo!))}`);
    lines.push(['snapshots', `${tags.join(', ')}${free.length ? ` (buddyinfo free: ${free.join(', ')})` : ''}`]);
  }
  if (run.passes) lines.push(['reporting', passesSummary(run.passes)]);
  if (run.rss) lines.push(['host RSS', rssSummary(run.rss)]);
  if (s) {
    const t50 = num(s['t50_after_free_start_s']), t90 = num(s['t90_after_free_start_s']);
    if (t50 !== undefined || t90 !== undefined) lines.push(['RSS fall', `t50 ${t50?.toFixed(2) ?? '-'} s, t90 ${t90?.toFixed(2) ?? '-'} s after free_start`]);
    const markers = Object.entries(s.markers_guest_s).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ');
    if (markers) lines.push(['markers (guest s)', markers]);
  }
  const kpf = [...new Set([...Object.keys(run.kpageflags), ...Object.keys(run.blocks)])];
  if (kpf.length) lines.push(['kpageflags', kpf.join(', ')]);
  if (run.trace) lines.push(['trace', run.trace.path]);
  const w = Math.max(...lines.map(([k]) => k.length));
  return `${run.name} (${run.dir})\n` + lines.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n') + '\n';
}
