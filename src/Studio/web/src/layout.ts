// Turns a workflow document into React Flow nodes and edges, laid out by ELK (elkjs, the layered algorithm).
// Each scope is laid out on its own, innermost first, and a container becomes a group node exactly as large as
// its laid-out body plus padding and a title bar, so no two boxes overlap at any depth. Edges that cross a
// container's border are lifted to the nodes that sit directly in each scope for the layout only; the canvas
// draws them between the real nodes. Positions saved in the document ("layout") win over the computed ones.
import ELK, { type ElkExtendedEdge, type ElkNode } from 'elkjs/lib/elk.bundled.js';
import type { Edge, Node } from '@xyflow/react';
import { isContainer, referencedActivities, slots, walk, type NodeDoc, type Position, type WorkflowDoc } from './model';

export const ACTIVITY_W = 210;
export const ACTIVITY_H = 76;
const PAD = 24;
/** Room for a container's one-line title above its body. */
const HEADER = 40;
const EMPTY_CONTAINER = { w: ACTIVITY_W + 2 * PAD, h: HEADER + 60 };

const elk = new ELK();

export interface NodeData extends Record<string, unknown> {
  doc: NodeDoc;
  path: string;
  problems: string[];
  state?: string;
  detail?: string;
  progress?: number | null;
  category?: string;
  /** Laid out top to bottom (inside a container): handles on top and bottom. */
  vertical?: boolean;
}

export interface Laid {
  nodes: Node<NodeData>[];
  edges: Edge[];
}

export const EMPTY_LAYOUT: Laid = { nodes: [], edges: [] };

interface Size { w: number; h: number }

export async function layout(doc: WorkflowDoc, opts: { problemsByNode?: Map<string, string[]>; categories?: Map<string, string> } = {}): Promise<Laid> {
  const located = walk(doc);
  const parentOf = new Map<string, string | null>();
  for (const l of located) parentOf.set(l.node.id, l.ancestors.length ? l.ancestors[l.ancestors.length - 1].id : null);
  const pathOf = new Map(located.map((l) => [l.node.id, l.path]));
  const { edges, dependencies } = edgesOf(doc, pathOf);

  // Lift an edge's ends to the nodes that sit directly in a scope, so a container is ranked by what its body needs.
  const liftTo = (id: string, scope: string | null): string | null => {
    let cur: string | null = id;
    while (cur !== null && parentOf.get(cur) !== scope) cur = parentOf.get(cur) ?? null;
    return cur;
  };
  const scopeEdges = (nodes: NodeDoc[], scope: string | null): ElkExtendedEdge[] => {
    const here = new Set(nodes.map((n) => n.id));
    const seen = new Set<string>();
    const result: ElkExtendedEdge[] = [];
    for (const d of dependencies) {
      const a = liftTo(d.from, scope);
      const b = liftTo(d.to, scope);
      if (!a || !b || a === b || !here.has(a) || !here.has(b) || seen.has(`${a}->${b}`)) continue;
      seen.add(`${a}->${b}`);
      result.push({ id: `${scope ?? ''}:${a}->${b}`, sources: [a], targets: [b] });
    }
    return result;
  };

  // The top level reads left to right; a container's body top to bottom, so a round of eight steps stays compact.
  const options = (direction: 'RIGHT' | 'DOWN', padding: string) => ({
    'elk.algorithm': 'layered',
    'elk.direction': direction,
    'elk.padding': padding,
    'elk.spacing.nodeNode': direction === 'RIGHT' ? '28' : '24',
    'elk.layered.spacing.nodeNodeBetweenLayers': direction === 'RIGHT' ? '56' : '36',
    'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
    'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
  });
  const build = (nodes: NodeDoc[]): ElkNode[] =>
    nodes.map((n) => {
      if (!isContainer(n)) return { id: n.id, width: ACTIVITY_W, height: ACTIVITY_H };
      const body = n.body ?? [];
      if (body.length === 0) return { id: n.id, width: EMPTY_CONTAINER.w, height: EMPTY_CONTAINER.h };
      return {
        id: n.id,
        layoutOptions: options('DOWN', `[top=${HEADER},left=${PAD},bottom=${PAD},right=${PAD}]`),
        children: build(body),
        edges: scopeEdges(body, n.id),
      };
    });
  const root = await elk.layout({
    id: '$root',
    layoutOptions: options('RIGHT', '[top=0,left=0,bottom=0,right=0]'),
    children: build(doc.activities ?? []),
    edges: scopeEdges(doc.activities ?? [], null),
  });

  // ELK gives each child's position relative to its parent, as React Flow wants it.
  const positions = new Map<string, Position>();
  const sizes = new Map<string, Size>();
  const collect = (n: ElkNode) => {
    for (const c of n.children ?? []) {
      positions.set(c.id, { x: c.x ?? 0, y: c.y ?? 0 });
      sizes.set(c.id, { w: c.width ?? ACTIVITY_W, h: c.height ?? ACTIVITY_H });
      collect(c);
    }
  };
  collect(root);
  applySaved(doc, located.map((l) => l.node), positions, sizes);

  // Parents must precede their children in React Flow's node list; walk() yields them in that order.
  const nodes: Node<NodeData>[] = located.map((l) => {
    const s = sizes.get(l.node.id) ?? { w: ACTIVITY_W, h: ACTIVITY_H };
    const parent = parentOf.get(l.node.id);
    return {
      id: l.node.id,
      type: isContainer(l.node) ? 'container' : 'activity',
      position: positions.get(l.node.id) ?? { x: 0, y: 0 },
      ...(parent ? { parentId: parent, extent: 'parent' as const } : {}),
      style: { width: s.w, height: s.h },
      width: s.w,
      height: s.h,
      data: {
        doc: l.node,
        path: l.path,
        problems: opts.problemsByNode?.get(l.node.id) ?? [],
        category: opts.categories?.get(l.node.type),
        vertical: !!parent,
      },
    };
  });
  return { nodes, edges };
}

/** Data edges (from references) and ordering edges (connections); the dependencies among them rank the layout. */
function edgesOf(doc: WorkflowDoc, pathOf: Map<string, string>) {
  const edges: Edge[] = [];
  const dependencies: { from: string; to: string }[] = [];
  for (const l of walk(doc)) {
    for (const s of slots(l.node)) {
      for (const r of referencedActivities(s.value)) {
        if (!pathOf.has(r.activity)) continue;
        // A container's outputs read its own body: no edge from child to parent.
        if (s.field.startsWith('outputs.') && isContainer(l.node)) continue;
        edges.push({
          id: `ref:${r.activity}->${l.node.id}:${s.field}${r.previous ? ':prev' : ''}`,
          source: r.activity,
          target: l.node.id,
          data: { kind: r.previous ? 'previous' : 'data', text: `${r.output} → ${s.field.replace(/^inputs\./, '')}` },
          className: r.previous ? 'edge-previous' : 'edge-data',
        });
        // A previous round's output is no dependency within the round: it would make a cycle.
        if (!r.previous) dependencies.push({ from: r.activity, to: l.node.id });
      }
    }
  }
  (doc.connections ?? []).forEach((c, i) => {
    if (!pathOf.has(c.from) || !pathOf.has(c.to)) return;
    edges.push({ id: `conn:${i}:${c.from}->${c.to}`, source: c.from, target: c.to, className: 'edge-order', data: { kind: 'order', index: i } });
    dependencies.push({ from: c.from, to: c.to });
  });
  return { edges, dependencies };
}

/**
 * Positions the user placed by hand (the document's "layout", relative to the parent as on the canvas) replace the
 * computed ones; a container then grows, innermost first, until it holds its children again.
 */
function applySaved(doc: WorkflowDoc, nodes: NodeDoc[], positions: Map<string, Position>, sizes: Map<string, Size>) {
  const saved = doc.layout ?? {};
  let any = false;
  for (const n of nodes) {
    const p = saved[n.id];
    if (p && Number.isFinite(p.x) && Number.isFinite(p.y)) { positions.set(n.id, { x: p.x, y: p.y }); any = true; }
  }
  if (!any) return;
  const grow = (n: NodeDoc) => {
    if (!isContainer(n)) return;
    const body = n.body ?? [];
    body.forEach(grow);
    const s = sizes.get(n.id);
    if (!s || body.length === 0) return;
    for (const c of body) {
      const p = positions.get(c.id);
      const cs = sizes.get(c.id);
      if (!p || !cs) continue;
      s.w = Math.max(s.w, p.x + cs.w + PAD);
      s.h = Math.max(s.h, p.y + cs.h + PAD);
    }
  };
  (doc.activities ?? []).forEach(grow);
}
