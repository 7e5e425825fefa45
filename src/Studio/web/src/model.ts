// The workflow document exactly as it is stored in workflows/*.json, and the helpers that walk it.
// The designer edits this document; the canvas is derived from it, never the other way round.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface NodeDoc {
  id: string;
  type: string;
  pool?: string;
  description?: string;
  inputs?: Record<string, Json>;
  retry?: { maxAttempts?: number; backoffSeconds?: number };
  count?: Json;
  items?: Json;
  body?: NodeDoc[];
  outputs?: Record<string, Json>;
}

export interface ParamDoc {
  type: string;
  default?: Json;
  min?: number;
  max?: number;
  description?: string;
}

/** Where a node sits on the canvas, relative to its container (or the canvas at the top level). */
export interface Position {
  x: number;
  y: number;
}

export interface WorkflowDoc {
  $schema?: string;
  id: string;
  version?: number;
  description?: string;
  parameters?: Record<string, ParamDoc>;
  triggers?: Json[];
  activities: NodeDoc[];
  connections?: { from: string; to: string }[];
  outputs?: Record<string, Json>;
  /** Node positions the user placed in the designer, by node id; the engine ignores them. */
  layout?: Record<string, Position>;
}

export interface PortDescriptor {
  name: string;
  type: string;
  description: string;
  required: boolean;
  default?: Json;
  allowed?: string[] | null;
}

export interface ActivityDescriptor {
  type: string;
  category: string;
  description: string;
  pool: string;
  inputs: PortDescriptor[];
  outputs: PortDescriptor[];
  container?: boolean;
}

export interface Problem {
  path: string;
  message: string;
  line?: number | null;
  position?: number | null;
}

export const REPEAT = 'repeat';
export const FOREACH = 'forEach';
export const isContainer = (n: NodeDoc) => n.type === REPEAT || n.type === FOREACH;

/** A node with where it sits: its JSON path, the chain of containers around it (outermost first). */
export interface Located {
  node: NodeDoc;
  path: string;
  ancestors: NodeDoc[];
  scope: NodeDoc[];
}

export function walk(doc: WorkflowDoc): Located[] {
  const out: Located[] = [];
  const visit = (nodes: NodeDoc[], base: string, ancestors: NodeDoc[]) => {
    nodes.forEach((node, i) => {
      const path = `${base}[${i}]`;
      out.push({ node, path, ancestors, scope: nodes });
      if (isContainer(node)) visit(node.body ?? [], `${path}.body`, [...ancestors, node]);
    });
  };
  visit(doc.activities ?? [], '$.activities', []);
  return out;
}

export function find(doc: WorkflowDoc, id: string): Located | undefined {
  return walk(doc).find((l) => l.node.id === id);
}

/** Deep copy (documents are plain JSON). */
export const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

export function uniqueId(doc: WorkflowDoc, type: string): string {
  const base = type.replace(/[^A-Za-z0-9]/g, '').replace(/^./, (c) => c.toLowerCase()) || 'node';
  const taken = new Set(walk(doc).map((l) => l.node.id));
  for (let i = 1; ; i++) if (!taken.has(`${base}${i}`)) return `${base}${i}`;
}

/** A reference written in a definition. */
export type Ref =
  | { kind: 'from'; activity: string; output: string }
  | { kind: 'fromPrevious'; activity: string; output: string; initial: Json }
  | { kind: 'param'; name: string }
  | { kind: 'var'; name: string };

export function asRef(v: Json | undefined): Ref | null {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return null;
  const keys = Object.keys(v);
  const split = (s: Json) => {
    const t = String(s);
    const dot = t.indexOf('.');
    return dot < 0 ? { activity: t, output: '' } : { activity: t.slice(0, dot), output: t.slice(dot + 1) };
  };
  if (keys.length === 1 && typeof v.from === 'string') return { kind: 'from', ...split(v.from) };
  if (typeof v.fromPrevious === 'string' && keys.every((k) => k === 'fromPrevious' || k === 'initial'))
    return { kind: 'fromPrevious', ...split(v.fromPrevious), initial: v.initial ?? null };
  if (keys.length === 1 && typeof v.param === 'string') return { kind: 'param', name: v.param };
  if (keys.length === 1 && typeof v.var === 'string') return { kind: 'var', name: v.var };
  return null;
}

/** Every value slot of a node that may hold a reference: inputs, count, items, outputs. */
export function slots(node: NodeDoc): { field: string; value: Json }[] {
  const result: { field: string; value: Json }[] = [];
  for (const [k, v] of Object.entries(node.inputs ?? {})) result.push({ field: `inputs.${k}`, value: v });
  if (node.count !== undefined) result.push({ field: 'count', value: node.count });
  if (node.items !== undefined) result.push({ field: 'items', value: node.items });
  for (const [k, v] of Object.entries(node.outputs ?? {})) result.push({ field: `outputs.${k}`, value: v });
  return result;
}

/** Activity ids a value refers to (from / fromPrevious, and the initial of a fromPrevious). */
export function referencedActivities(v: Json | undefined): { activity: string; output: string; previous: boolean }[] {
  const r = asRef(v);
  if (!r) return [];
  if (r.kind === 'from') return [{ activity: r.activity, output: r.output, previous: false }];
  if (r.kind === 'fromPrevious')
    return [{ activity: r.activity, output: r.output, previous: true }, ...referencedActivities(r.initial)];
  return [];
}

export interface OutputOption {
  value: string; // "activity.output"
  type: string;
  label: string;
}

/** Outputs a node may read: siblings in its scope and in every enclosing scope, never itself or its containers. */
export function visibleOutputs(doc: WorkflowDoc, nodeId: string, descriptors: Map<string, ActivityDescriptor>): OutputOption[] {
  const here = find(doc, nodeId);
  if (!here) return [];
  const scopes: NodeDoc[][] = [doc.activities, ...here.ancestors.map((a) => a.body ?? [])];
  const excluded = new Set([nodeId, ...here.ancestors.map((a) => a.id)]);
  const options: OutputOption[] = [];
  for (const scope of scopes)
    for (const n of scope) {
      if (excluded.has(n.id)) continue;
      for (const o of outputsOf(n, descriptors))
        options.push({ value: `${n.id}.${o.name}`, type: o.type, label: `${n.id}.${o.name} : ${o.type}` });
    }
  return options;
}

/** Outputs of the body of the repeat that encloses the node: candidates for fromPrevious. */
export function previousOutputs(doc: WorkflowDoc, nodeId: string, descriptors: Map<string, ActivityDescriptor>): OutputOption[] {
  const here = find(doc, nodeId);
  const repeat = here && [...here.ancestors].reverse().find((a) => a.type === REPEAT);
  if (!repeat) return [];
  const options: OutputOption[] = [];
  const visit = (nodes: NodeDoc[]) => {
    for (const n of nodes) {
      for (const o of outputsOf(n, descriptors))
        options.push({ value: `${n.id}.${o.name}`, type: o.type, label: `${n.id}.${o.name} : ${o.type} (previous round)` });
    }
  };
  visit(repeat.body ?? []);
  return options;
}

export function outputsOf(n: NodeDoc, descriptors: Map<string, ActivityDescriptor>): { name: string; type: string }[] {
  if (isContainer(n)) {
    return Object.entries(n.outputs ?? {}).map(([name, v]) => {
      const r = asRef(v);
      let type = 'json';
      if (r && r.kind === 'from') {
        const inner = (n.body ?? []).flatMap((b) => (b.id === r.activity ? outputsOf(b, descriptors) : []));
        type = inner.find((o) => o.name === r.output)?.type ?? 'json';
      }
      return { name, type: n.type === FOREACH ? `${type}[]` : type };
    });
  }
  return (descriptors.get(n.type)?.outputs ?? []).map((o) => ({ name: o.name, type: o.type }));
}

/** Loop variables visible inside the node's containers. */
export function visibleVars(doc: WorkflowDoc, nodeId: string): string[] {
  const here = find(doc, nodeId);
  if (!here) return [];
  const vars = new Set<string>();
  for (const a of here.ancestors) {
    vars.add('index');
    if (a.type === REPEAT) vars.add('round');
    if (a.type === FOREACH) {
      vars.add('item');
      if (Array.isArray(a.items) && a.items.length > 0 && a.items[0] && typeof a.items[0] === 'object' && !Array.isArray(a.items[0]))
        for (const k of Object.keys(a.items[0] as JsonObject)) vars.add(`item.${k}`);
    }
  }
  return [...vars];
}

/** Same rule as the engine's PortTypes.IsAssignable. */
export function isAssignable(from: string, to: string): boolean {
  if (from === to || to === 'json' || from === 'json') return true;
  if (from === 'int' && to === 'number') return true;
  if (from === 'string' && to === 'artifact') return true;
  if (from.endsWith('[]') && to.endsWith('[]')) return isAssignable(from.slice(0, -2), to.slice(0, -2));
  return false;
}

/** Renames a node id and every reference to it. */
export function renameNode(doc: WorkflowDoc, from: string, to: string): WorkflowDoc {
  const d = clone(doc);
  const fix = (v: Json): Json => {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return v;
    const r = asRef(v);
    if (!r) return v;
    const o = { ...(v as JsonObject) };
    for (const key of ['from', 'fromPrevious'])
      if (typeof o[key] === 'string' && (o[key] as string).startsWith(`${from}.`)) o[key] = `${to}${(o[key] as string).slice(from.length)}`;
    if ('initial' in o) o.initial = fix(o.initial);
    return o;
  };
  const fixNode = (n: NodeDoc) => {
    if (n.id === from) n.id = to;
    if (n.inputs) for (const k of Object.keys(n.inputs)) n.inputs[k] = fix(n.inputs[k]);
    if (n.outputs) for (const k of Object.keys(n.outputs)) n.outputs[k] = fix(n.outputs[k]);
    if (n.count !== undefined) n.count = fix(n.count);
    if (n.items !== undefined) n.items = fix(n.items);
    (n.body ?? []).forEach(fixNode);
  };
  d.activities.forEach(fixNode);
  if (d.outputs) for (const k of Object.keys(d.outputs)) d.outputs[k] = fix(d.outputs[k]);
  d.connections = (d.connections ?? []).map((c) => ({ from: c.from === from ? to : c.from, to: c.to === from ? to : c.to }));
  if (d.layout?.[from]) { d.layout[to] = d.layout[from]; delete d.layout[from]; }
  return d;
}

/** Removes a node, the connections that touch it, and references to it (they become unset). */
export function removeNode(doc: WorkflowDoc, id: string): WorkflowDoc {
  const d = clone(doc);
  const removed = new Set<string>();
  const collect = (n: NodeDoc) => { removed.add(n.id); (n.body ?? []).forEach(collect); };
  const prune = (nodes: NodeDoc[]): NodeDoc[] =>
    nodes.filter((n) => {
      if (n.id === id) { collect(n); return false; }
      if (n.body) n.body = prune(n.body);
      return true;
    });
  d.activities = prune(d.activities);
  const refersRemoved = (v: Json) => referencedActivities(v).some((r) => removed.has(r.activity));
  const clean = (n: NodeDoc) => {
    if (n.inputs) for (const k of Object.keys(n.inputs)) if (refersRemoved(n.inputs[k])) delete n.inputs[k];
    if (n.outputs) for (const k of Object.keys(n.outputs)) if (refersRemoved(n.outputs[k])) delete n.outputs[k];
    (n.body ?? []).forEach(clean);
  };
  d.activities.forEach(clean);
  d.connections = (d.connections ?? []).filter((c) => !removed.has(c.from) && !removed.has(c.to));
  if (d.connections.length === 0) delete d.connections;
  if (d.layout) {
    for (const r of removed) delete d.layout[r];
    if (Object.keys(d.layout).length === 0) delete d.layout;
  }
  return d;
}

/** Applies a change to one node (found by id) on a copy of the document. */
export function updateNode(doc: WorkflowDoc, id: string, change: (n: NodeDoc) => void): WorkflowDoc {
  const d = clone(doc);
  const l = find(d, id);
  if (l) change(l.node);
  return d;
}

/** Adds a node to the top level or to a container's body. */
export function addNode(doc: WorkflowDoc, node: NodeDoc, containerId: string | null): WorkflowDoc {
  const d = clone(doc);
  if (containerId) {
    const c = find(d, containerId);
    if (c && isContainer(c.node)) { c.node.body = [...(c.node.body ?? []), node]; return d; }
  }
  d.activities = [...(d.activities ?? []), node];
  return d;
}

/** Which node (and which field of it) a problem's JSON path points at: the longest node path that prefixes it. */
export function locateProblem(doc: WorkflowDoc, p: Problem): { nodeId: string | null; field: string | null } {
  let best: Located | null = null;
  for (const l of walk(doc))
    if ((p.path === l.path || p.path.startsWith(`${l.path}.`) || p.path.startsWith(`${l.path}[`)) && (!best || l.path.length > best.path.length))
      best = l;
  if (!best) {
    const conn = /^\$\.connections\[(\d+)\]/.exec(p.path);
    if (conn) {
      const c = doc.connections?.[Number(conn[1])];
      if (c) return { nodeId: c.to, field: null };
    }
    return { nodeId: null, field: null };
  }
  const rest = p.path.slice(best.path.length).replace(/^\./, '');
  // "missing required input 'x'" is reported on the node's inputs object: it concerns field x.
  const missing = /missing required input '([^']+)'/.exec(p.message);
  if (rest === 'inputs' && missing) return { nodeId: best.node.id, field: `inputs.${missing[1]}` };
  // "inputs.x", "inputs.x.initial", "count", "outputs.y" → the first two segments name the field
  const m = /^(inputs|outputs)\.([^.[]+)/.exec(rest) ?? /^(count|items|retry|pool|id|type)/.exec(rest);
  const field = m ? (m[2] ? `${m[1]}.${m[2]}` : m[1]) : null;
  return { nodeId: best.node.id, field };
}

/** The definition node a run step path refers to: "rounds[2]/dpo[1]/train" → ["rounds","dpo","train"]. */
export function stepNodeId(stepPath: string): string {
  const parts = stepPath.split('/').filter(Boolean);
  const last = parts[parts.length - 1] ?? stepPath;
  return last.replace(/\[\d+\]$/, '');
}

export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** What the designer puts on the clipboard: copies of nodes (a container with its body), as stored in a workflow file. */
export interface Fragment {
  posttrain: 'nodes';
  nodes: NodeDoc[];
}

export function asFragment(text: string): Fragment | null {
  try {
    const v = JSON.parse(text) as Partial<Fragment>;
    return v && v.posttrain === 'nodes' && Array.isArray(v.nodes) && v.nodes.every((n) => n && typeof n.id === 'string' && typeof n.type === 'string')
      ? (v as Fragment) : null;
  } catch { return null; }
}

/**
 * Adds copies of nodes to the top level or a container. Every pasted id is new (the copied id with the next free
 * number), and references among the pasted nodes follow the renaming; references to nodes outside still point
 * there. Returns the document and the new ids of the pasted nodes, in order.
 */
export function pasteNodes(doc: WorkflowDoc, fragment: NodeDoc[], containerId: string | null): { doc: WorkflowDoc; ids: string[] } {
  const existing = new Set(walk(doc).map((l) => l.node.id));
  const copies = fragment.map((n) => clone(n));
  const taken = new Set([...existing, ...walk({ id: '', activities: copies }).map((l) => l.node.id)]);
  const renamed = new Map<string, string>();
  // An id still free in the target keeps its name (pasting into another workflow); a taken one gets the next number.
  const allocate = (n: NodeDoc) => {
    if (existing.has(n.id)) {
      const base = n.id.replace(/\d+$/, '') || 'node';
      let i = 2;
      while (taken.has(`${base}${i}`)) i++;
      renamed.set(n.id, `${base}${i}`);
      taken.add(`${base}${i}`);
    }
    (n.body ?? []).forEach(allocate);
  };
  copies.forEach(allocate);
  // Rename inside a scratch document so renameNode rewrites every reference among the copies.
  let scratch: WorkflowDoc = { id: '', activities: copies };
  for (const [from, to] of renamed) scratch = renameNode(scratch, from, to);
  let d = doc;
  for (const n of scratch.activities) d = addNode(d, n, containerId);
  return { doc: d, ids: scratch.activities.map((n) => n.id) };
}
