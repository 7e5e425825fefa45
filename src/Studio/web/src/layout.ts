// Turns a workflow document into React Flow nodes and edges, laid out by dagre one scope at a time:
// a container's body is laid out first, and the container becomes a group node as large as its body.
import dagre from '@dagrejs/dagre';
import type { Edge, Node } from '@xyflow/react';
import { isContainer, referencedActivities, slots, walk, type NodeDoc, type WorkflowDoc } from './model';

export const ACTIVITY_W = 210;
export const ACTIVITY_H = 76;
const PAD = 24;
const HEADER = 44;

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

interface Size { w: number; h: number }

export function layout(doc: WorkflowDoc, opts: { problemsByNode?: Map<string, string[]>; categories?: Map<string, string> } = {}): Laid {
  const located = walk(doc);
  const parentOf = new Map<string, string | null>();
  for (const l of located) parentOf.set(l.node.id, l.ancestors.length ? l.ancestors[l.ancestors.length - 1].id : null);
  const pathOf = new Map(located.map((l) => [l.node.id, l.path]));

  // Data edges (from references) and ordering edges (connections).
  const edges: Edge[] = [];
  const dependencies: { from: string; to: string }[] = [];
  for (const l of located) {
    for (const s of slots(l.node)) {
      for (const r of referencedActivities(s.value)) {
        if (!pathOf.has(r.activity)) continue;
        // A container's outputs read its own body: no edge from child to parent.
        if (s.field.startsWith('outputs.') && isContainer(l.node)) continue;
        const id = `ref:${r.activity}->${l.node.id}:${s.field}${r.previous ? ':prev' : ''}`;
        edges.push({
          id,
          source: r.activity,
          target: l.node.id,
          label: `${r.output} → ${s.field.replace(/^inputs\./, '')}`,
          animated: false,
          className: r.previous ? 'edge-previous' : 'edge-data',
          data: { kind: r.previous ? 'previous' : 'data' },
        });
        if (!r.previous) dependencies.push({ from: r.activity, to: l.node.id });
      }
    }
  }
  (doc.connections ?? []).forEach((c, i) => {
    if (!pathOf.has(c.from) || !pathOf.has(c.to)) return;
    edges.push({ id: `conn:${i}:${c.from}->${c.to}`, source: c.from, target: c.to, className: 'edge-order', data: { kind: 'order', index: i } });
    dependencies.push({ from: c.from, to: c.to });
  });

  // Lift an edge's ends to the nodes that sit directly in a scope, so dagre ranks containers by what their bodies need.
  const liftTo = (id: string, scope: string | null): string | null => {
    let cur: string | null = id;
    while (cur !== null && parentOf.get(cur) !== scope) cur = parentOf.get(cur) ?? null;
    return cur;
  };

  const positions = new Map<string, { x: number; y: number }>();
  const sizes = new Map<string, Size>();

  const layoutScope = (nodes: NodeDoc[], scopeId: string | null): Size => {
    for (const n of nodes) if (isContainer(n)) sizes.set(n.id, layoutScope(n.body ?? [], n.id));
    for (const n of nodes) if (!isContainer(n)) sizes.set(n.id, { w: ACTIVITY_W, h: ACTIVITY_H });
    if (nodes.length === 0) return { w: ACTIVITY_W + 2 * PAD, h: HEADER + 60 };
    const g = new dagre.graphlib.Graph();
    // The top level reads left to right; a container's body top to bottom, so a round of eight steps stays compact.
    g.setGraph(scopeId === null
      ? { rankdir: 'LR', nodesep: 28, ranksep: 56, marginx: 0, marginy: 0 }
      : { rankdir: 'TB', nodesep: 24, ranksep: 36, marginx: 0, marginy: 0 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of nodes) { const s = sizes.get(n.id)!; g.setNode(n.id, { width: s.w, height: s.h }); }
    for (const d of dependencies) {
      const a = liftTo(d.from, scopeId);
      const b = liftTo(d.to, scopeId);
      if (a && b && a !== b && g.hasNode(a) && g.hasNode(b)) g.setEdge(a, b);
    }
    dagre.layout(g);
    let maxX = 0;
    let maxY = 0;
    for (const n of nodes) {
      const p = g.node(n.id);
      const s = sizes.get(n.id)!;
      const x = p.x - s.w / 2;
      const y = p.y - s.h / 2;
      positions.set(n.id, { x, y });
      maxX = Math.max(maxX, x + s.w);
      maxY = Math.max(maxY, y + s.h);
    }
    if (scopeId === null) return { w: maxX, h: maxY };
    // Shift the body inside its group: padding and a header for the container's title.
    for (const n of nodes) { const p = positions.get(n.id)!; positions.set(n.id, { x: p.x + PAD, y: p.y + HEADER }); }
    return { w: maxX + 2 * PAD, h: maxY + HEADER + PAD };
  };
  layoutScope(doc.activities ?? [], null);

  // Parents must precede their children in React Flow's node list; walk() yields them in that order.
  const nodes: Node<NodeData>[] = located.map((l) => {
    const s = sizes.get(l.node.id)!;
    const parent = parentOf.get(l.node.id);
    return {
      id: l.node.id,
      type: isContainer(l.node) ? 'container' : 'activity',
      position: positions.get(l.node.id) ?? { x: 0, y: 0 },
      ...(parent ? { parentId: parent, extent: 'parent' as const } : {}),
      style: { width: s.w, height: s.h },
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
