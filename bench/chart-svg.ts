/**
 * A small hand-written SVG of the report (no charting dependency): four panels of bars, each
 * with its target as a dashed line; a bar is green when its target is met, red when not,
 * grey when it is the reference (the raw broker).
 */
import { writeFileSync } from 'node:fs';
import { TARGETS, type Report } from './report.js';
import { round } from './stats.js';

interface Bar {
  label: string;
  value: number;
  text: string;
  colour: string;
}

interface Panel {
  title: string;
  bars: Bar[];
  target: number;
  targetLabel: string;
}

const PASS = '#2e7d32';
const MISS = '#c62828';
const REFERENCE = '#90a4ae';
const W = 190;
const H = 250;
const PLOT_TOP = 62;
const PLOT_BOTTOM = 205;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function panel(p: Panel, x0: number): string {
  const max = Math.max(Number.isFinite(p.target) ? p.target * 1.3 : 1, ...p.bars.map((b) => (Number.isFinite(b.value) ? b.value * 1.15 : 0)));
  const y = (v: number) => PLOT_BOTTOM - (Math.max(0, v) / max) * (PLOT_BOTTOM - PLOT_TOP);
  const slot = (W - 30) / p.bars.length;
  const barW = Math.min(40, slot * 0.6);
  const parts = [`<text x="${x0 + W / 2}" y="24" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`];
  if (Number.isFinite(p.target)) {
    const ty = y(p.target);
    // The target is named under the title, where no bar or value can cover it.
    parts.push(
      `<line x1="${x0 + 12}" x2="${x0 + W - 8}" y1="${ty}" y2="${ty}" stroke="#333" stroke-dasharray="4 3"/>`,
      `<text x="${x0 + W / 2}" y="40" text-anchor="middle" font-size="10" fill="#333">target (dashed): ${esc(p.targetLabel)}</text>`,
    );
  }
  p.bars.forEach((b, i) => {
    const cx = x0 + 20 + slot * i + slot / 2;
    const top = Number.isFinite(b.value) ? y(b.value) : PLOT_BOTTOM;
    parts.push(
      `<rect x="${cx - barW / 2}" y="${top}" width="${barW}" height="${PLOT_BOTTOM - top}" fill="${b.colour}"/>`,
      `<text x="${cx}" y="${top - 5}" text-anchor="middle" font-size="11" stroke="#fff" stroke-width="3" paint-order="stroke">${esc(Number.isFinite(b.value) ? b.text : 'n/a')}</text>`,
      `<text x="${cx}" y="${PLOT_BOTTOM + 15}" text-anchor="middle" font-size="11">${esc(b.label)}</text>`,
    );
  });
  parts.push(
    `<line x1="${x0 + 12}" x2="${x0 + W - 8}" y1="${PLOT_BOTTOM}" y2="${PLOT_BOTTOM}" stroke="#999"/>`,
  );
  return parts.join('\n  ');
}

export function chartSvg(report: Report): string {
  const f = report.figures;
  const colour = (pass: boolean) => (pass ? PASS : MISS);
  const raw = f.rawBroker?.perSecond ?? Number.NaN;
  const pipe = f.pipeline?.perSecond ?? Number.NaN;
  const ratioOk = (f.pipeline?.ratioToRaw ?? 0) >= TARGETS.pipelineRatio && !!f.pipeline?.allDelivered;
  const batch = f.batchPipeline?.perSecond ?? Number.NaN;
  const batchOk = (f.batchPipeline?.ratioToRaw ?? 0) >= TARGETS.batchRatio && !!f.batchPipeline?.allDelivered;
  const lat = f.latency;
  const latOk = !!lat && lat.p99Ms <= TARGETS.p99Ms && lat.delivered === lat.sent;
  const ms = (v: number | undefined) => (v === undefined ? Number.NaN : v);
  const panels: Panel[] = [
    {
      title: 'Throughput (notif./s)',
      bars: [
        { label: 'raw broker', value: raw, text: String(Math.round(raw)), colour: REFERENCE },
        { label: 'pipeline', value: pipe, text: `${Math.round(pipe)} (${round(f.pipeline?.ratioToRaw ?? Number.NaN, 2)}×)`, colour: colour(ratioOk) },
        // Its own target (batchRatio × raw) decides its colour; the line drawn is the single sends'.
        { label: 'batch ×100', value: batch, text: `${Math.round(batch)} (${round(f.batchPipeline?.ratioToRaw ?? Number.NaN, 2)}×)`, colour: colour(batchOk) },
      ],
      target: raw * TARGETS.pipelineRatio,
      targetLabel: `${TARGETS.pipelineRatio} × raw`,
    },
    {
      title: `Latency at ${lat?.ratePerSecond ?? 200}/s (ms)`,
      bars: (['p50Ms', 'p95Ms', 'p99Ms'] as const).map((k) => ({
        label: k.slice(0, 3),
        value: ms(lat?.[k]),
        text: String(round(ms(lat?.[k]))),
        colour: k === 'p99Ms' ? colour(latOk) : REFERENCE,
      })),
      target: TARGETS.p99Ms,
      targetLabel: `p99 ≤ ${TARGETS.p99Ms}`,
    },
    {
      title: `Replay ${f.replay?.missed ?? 5000} missed (s)`,
      bars: [
        {
          label: 'reconnect',
          value: ms(f.replay?.seconds),
          text: String(round(ms(f.replay?.seconds), 2)),
          colour: colour(!!f.replay && f.replay.seconds <= TARGETS.replaySeconds && f.replay.inOrderAndComplete),
        },
      ],
      target: TARGETS.replaySeconds,
      targetLabel: `≤ ${TARGETS.replaySeconds} s`,
    },
    {
      title: 'RSS per idle socket (KB)',
      bars: [
        {
          label: `${f.idleSockets?.ready ?? 0} sockets`,
          value: ms(f.idleSockets?.kbPerSocket),
          text: String(round(ms(f.idleSockets?.kbPerSocket), 1)),
          colour: colour(!!f.idleSockets && f.idleSockets.kbPerSocket <= TARGETS.kbPerSocket && f.idleSockets.ready === f.idleSockets.requested),
        },
      ],
      target: TARGETS.kbPerSocket,
      targetLabel: `≤ ${TARGETS.kbPerSocket} KB`,
    },
  ];
  const m = report.machine;
  const footer = `${m.cpus} × ${m.cpuModel}, node ${m.node}, ${report.generatedAt.slice(0, 10)}, ${report.git.sha}${report.git.dirty ? '+dirty' : ''}`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H}" viewBox="0 0 ${W * panels.length} ${H}" font-family="sans-serif" font-size="12">
  <rect width="100%" height="100%" fill="#fff"/>
  ${panels.map((p, i) => panel(p, i * W)).join('\n  ')}
  <text x="${(W * panels.length) / 2}" y="${H - 8}" text-anchor="middle" font-size="10" fill="#555">${esc(footer)}</text>
</svg>
`;
}

export function writeChart(report: Report, path: string): void {
  writeFileSync(path, chartSvg(report));
}
