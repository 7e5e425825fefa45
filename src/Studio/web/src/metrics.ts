// Groups a run's metrics by meaning, from the structure of their keys, so the monitor shows a handful of charts
// instead of one per key. A key reads stage/[qualifier/]measure[/kind]:
//   select/exact_match, select/exact_match/Sorting, eval/c0-36609a2e/exact_match/Sorting, dpo/rewards/margins,
//   sft/train/loss, rm/heldout_accuracy/sorting, sample/tokens_per_second, diag/layer_similarity/3
// - A segment ending in a content hash (c0-36609a2e) names an instance, not a role: the hash is dropped, so the same
//   candidate slot lines up across rounds.
// - The last segment is a kind (one line of a "by kind" chart) when its parent key is itself recorded, when it is a
//   number (a layer, a shard), or when the parent's last segment names a measure (dpo/rewards/margins).
// - A measure's family comes from the words it is made of (loss, accuracy, win rate, reward, ...); a measure whose
//   words name no family and whose values are all whole numbers is a count (shown in a table); any other measure is
//   its own family. New keys land in the right chart without this file knowing them.
import type { MetricPoint } from './api';

/** Families in display order, each recognised by a word of a key's segment (words are separated by '_'). */
export const FAMILIES: { name: string; words: RegExp }[] = [
  { name: 'accuracy', words: /(^|_)(accuracy|accuracies|acc|exact_match|pass_at_\d+|f1)($|_)/ },
  { name: 'win rate', words: /(^|_)win_rate($|_)/ },
  { name: 'loss', words: /(^|_)(loss|losses|nll|perplexity|ppl)($|_)/ },
  { name: 'reward', words: /(^|_)(reward|rewards|margin|margins|score|scores)($|_)/ },
  { name: 'log-prob', words: /(^|_)(logp|logps|logprob|logprobs|log_prob|log_probs)($|_)/ },
  { name: 'throughput', words: /(_per_(s|sec|second)$|(^|_)throughput($|_))/ },
  { name: 'similarity', words: /(^|_)(similarity|similarities|cosine|cosines)($|_)/ },
  { name: 'entropy', words: /(^|_)entropy($|_)/ },
  { name: 'learning rate', words: /^(lr|learning_rate)$/ },
  { name: 'gradient norm', words: /(^|_)grad_norm($|_)/ },
];
export const COUNT = 'count';

export function familyOfWord(segment: string): string | null {
  const s = segment.toLowerCase();
  return FAMILIES.find((f) => f.words.test(s))?.name ?? null;
}

/** A segment with a trailing content hash (8+ hex digits) loses it: "c0-36609a2e" → "c0". */
export function withoutHash(segment: string): string {
  const stripped = segment.replace(/[-_.]?[0-9a-f]{8,}$/i, '');
  return stripped.length > 0 && /[0-9]/.test(segment.slice(stripped.length)) ? stripped : segment;
}

export interface Line {
  label: string;
  /** x (round, or training step) → the last value reported there. */
  values: Map<number, number>;
}

export interface FamilyChart {
  kind: 'family';
  id: string;
  title: string;
  x: 'round' | 'step';
  lines: Line[];
}

export interface KindChart {
  kind: 'kinds';
  id: string;
  title: string;
  x: 'round' | 'step';
  /** One set of per-kind lines per parent metric (e.g. select/exact_match, eval/baseline_exact_match); the first is shown first. */
  parents: { key: string; lines: Line[] }[];
}

export interface CountTable {
  /** Count metrics per round: rows are keys, columns rounds. */
  rows: { key: string; byRound: Map<number, number> }[];
  rounds: number[];
}

export interface OnceRow {
  family: string;
  key: string;
  value: number;
  kinds: { kind: string; value: number }[];
}

export interface Grouped {
  charts: (FamilyChart | KindChart)[];
  counts: CountTable;
  /** Metrics recorded outside the rounds (pretraining, the reward model, data), by family. */
  once: OnceRow[];
}

interface Parsed {
  point: MetricPoint;
  key: string; // normalised key
  parent: string | null; // the key this one is a kind of
  kind: string | null;
  family: string;
  series: string; // the step the value came from, without indices ("rounds/dpo[1]/train" → "dpo[1]/train")
}

export function groupMetrics(points: MetricPoint[]): Grouped {
  const keyOf = (name: string) => name.split('/').map(withoutHash).join('/');
  const keys = new Set(points.map((p) => keyOf(p.name)));
  const integral = new Map<string, boolean>();
  for (const p of points) { const k = keyOf(p.name); integral.set(k, (integral.get(k) ?? true) && Number.isInteger(p.value)); }

  const familyOfKey = (key: string): string => {
    const segs = key.split('/');
    // The measure's own words first, then its qualifiers' from the inside out; the stage names no measure unless it is all there is.
    for (const s of segs.length === 1 ? segs : segs.slice(1).reverse()) {
      const f = familyOfWord(s);
      if (f) return f;
    }
    return integral.get(key) ? COUNT : segs.length === 1 ? key : segs.slice(1).join('/');
  };

  const parsed: Parsed[] = points.map((point) => {
    const key = keyOf(point.name);
    const segs = key.split('/');
    const parent = segs.slice(0, -1).join('/');
    const last = segs[segs.length - 1];
    const isKind = segs.length >= 3 && (keys.has(parent) || /^\d+$/.test(last) || familyOfWord(segs[segs.length - 2]) !== null);
    // A kind takes its parent's family (rm/heldout_accuracy/sorting is an accuracy whatever "sorting" says).
    const family = isKind ? familyOfKey(parent) : familyOfKey(key);
    return { point, key, parent: isKind ? parent : null, kind: isKind ? last : null, family, series: seriesOf(point.stepPath) };
  });

  const perRound = parsed.filter((p) => p.point.round !== null);
  const once = parsed.filter((p) => p.point.round === null);
  const charts: (FamilyChart | KindChart)[] = [];
  const familyOrder = (f: string) => { const i = FAMILIES.findIndex((x) => x.name === f); return i < 0 ? FAMILIES.length : i; };
  const families = [...new Set(perRound.map((p) => p.family))].filter((f) => f !== COUNT)
    .sort((a, b) => familyOrder(a) - familyOrder(b) || a.localeCompare(b));

  for (const family of families) {
    const mine = perRound.filter((p) => p.family === family);
    const plain = mine.filter((p) => p.kind === null);
    if (plain.length) charts.push({ kind: 'family', id: slug(family), title: family, x: 'round', lines: lines(plain, (p) => p.key) });
    // Per-kind lines in one chart; every key of the family that has kinds is one choice of it (the shallowest and plainest first: select/exact_match before eval/baseline_exact_match).
    const kinded = mine.filter((p) => p.kind !== null);
    if (kinded.length) {
      const parents = [...new Set(kinded.map((p) => p.parent!))]
        .sort((a, b) => depth(a) - depth(b) || leaf(a).length - leaf(b).length || a.localeCompare(b));
      charts.push({
        kind: 'kinds', id: slug(`${family}-by-kind`), title: `${family} by kind`, x: 'round',
        parents: parents.map((key) => ({ key, lines: lines(kinded.filter((p) => p.parent === key), (p) => p.kind!) })),
      });
    }
  }

  const countRows = new Map<string, Map<number, number>>();
  for (const p of perRound.filter((x) => x.family === COUNT)) {
    const m = countRows.get(p.key) ?? new Map<number, number>();
    m.set(p.point.round!, p.point.value); // the last value reported in a round wins
    countRows.set(p.key, m);
  }
  const rounds = [...new Set(perRound.map((p) => p.point.round!))].sort((a, b) => a - b);

  const onceRows: OnceRow[] = [];
  const onceByKey = new Map<string, OnceRow>();
  for (const p of once.filter((x) => x.kind === null)) {
    const row = { family: p.family, key: p.key, value: p.point.value, kinds: [] };
    onceByKey.set(p.key, row);
  }
  for (const p of once.filter((x) => x.kind !== null)) {
    const row = onceByKey.get(p.parent!) ?? { family: p.family, key: p.parent!, value: NaN, kinds: [] };
    onceByKey.set(p.parent!, row);
    row.kinds = [...row.kinds.filter((k) => k.kind !== p.kind), { kind: p.kind!, value: p.point.value }];
  }
  onceRows.push(...[...onceByKey.values()].sort((a, b) => familyOrder(a.family) - familyOrder(b.family) || a.key.localeCompare(b.key)));

  return {
    charts,
    counts: { rows: [...countRows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, byRound]) => ({ key, byRound })), rounds },
    once: onceRows,
  };
}

/** One line per label and step: a key reported by two DPO variants draws two lines ("dpo/loss · dpo[1]/train"). */
function lines(ps: Parsed[], labelOf: (p: Parsed) => string): Line[] {
  const seriesPerLabel = new Map<string, Set<string>>();
  for (const p of ps) seriesPerLabel.set(labelOf(p), (seriesPerLabel.get(labelOf(p)) ?? new Set()).add(p.series));
  const result = new Map<string, Line>();
  for (const p of ps) {
    const base = labelOf(p);
    const label = (seriesPerLabel.get(base)?.size ?? 1) > 1 ? `${base} · ${p.series}` : base;
    const line = result.get(label) ?? { label, values: new Map<number, number>() };
    line.values.set(p.point.round ?? p.point.step ?? 0, p.point.value);
    result.set(label, line);
  }
  return [...result.values()].sort((a, b) => a.label.localeCompare(b.label));
}

/** "rounds[2]/dpo[1]/train" → "dpo[1]/train": the round's index goes (x is the round), the rest tells steps apart. */
function seriesOf(stepPath: string): string {
  const parts = stepPath.split('/');
  return (parts.length > 1 ? parts.slice(1) : parts).join('/');
}

const depth = (key: string) => key.split('/').length;
const leaf = (key: string) => key.split('/').pop() ?? key;

function slug(s: string) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
}
