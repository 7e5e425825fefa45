// The designer: workflow list, activity palette (with search), canvas, inspector, and the toolbar
// (new, rename, duplicate, delete, undo/redo, copy/paste, auto layout, export/import, validate, save, run).
// Dragged nodes keep their places in the workflow file's "layout"; Auto layout forgets them.
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import {
  Background, Controls, ReactFlow, ReactFlowProvider, useNodesInitialized, useReactFlow,
  type Connection, type Edge, type Node, type NodeChange,
} from '@xyflow/react';
import { api, ApiError, type WorkflowSummary } from './api';
import { Inspector } from './Inspector';
import { EMPTY_LAYOUT, layout, type Laid, type NodeData } from './layout';
import {
  addNode, asFragment, clone, find, FOREACH, isContainer, locateProblem, NAME_PATTERN, pasteNodes, removeNode, renameNode, REPEAT, uniqueId, updateNode,
  type ActivityDescriptor, type Fragment, type NodeDoc, type Problem, type WorkflowDoc,
} from './model';
import { nodeTypes } from './nodes';
import { useFlowNodes } from './flow';
import { WorkflowPanel } from './WorkflowPanel';
import { LiteralEditor } from './Inspector';

interface Editing {
  name: string;
  doc: WorkflowDoc;
  etag: string | null; // null = not on disk yet
  past: WorkflowDoc[];
  future: WorkflowDoc[];
  saved: string; // JSON of the document as last saved or loaded
}

const DRAG_TYPE = 'application/posttrain-activity';

export function Designer(props: { descriptors: ActivityDescriptor[]; onRunStarted: (id: string) => void; initial?: string | null }) {
  return (
    <ReactFlowProvider>
      <DesignerInner {...props} />
    </ReactFlowProvider>
  );
}

function DesignerInner({ descriptors, onRunStarted, initial }: { descriptors: ActivityDescriptor[]; onRunStarted: (id: string) => void; initial?: string | null }) {
  const [list, setList] = useState<WorkflowSummary[]>([]);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [validating, setValidating] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [conflict, setConflict] = useState(false);
  const [runDialog, setRunDialog] = useState(false);
  const [query, setQuery] = useState('');
  const clipboard = useRef<NodeDoc[] | null>(null);
  const fitted = useRef('');
  const flow = useReactFlow();
  const wrapper = useRef<HTMLDivElement>(null);
  const importInput = useRef<HTMLInputElement>(null);
  const byType = useMemo(() => new Map(descriptors.map((d) => [d.type, d])), [descriptors]);
  const categories = useMemo(() => new Map(descriptors.map((d) => [d.type, d.category])), [descriptors]);

  const refreshList = useCallback(() => api.workflows().then(setList).catch((e: Error) => setMessage({ kind: 'error', text: e.message })), []);
  useEffect(() => { void refreshList(); }, [refreshList]);

  const open = useCallback(async (name: string) => {
    try {
      const { doc, etag } = await api.workflow(name);
      setEditing({ name, doc, etag, past: [], future: [], saved: JSON.stringify(doc) });
      setSelected(null);
      fitted.current = '';
      setMessage(null);
      setConflict(false);
      history.replaceState(null, '', `#/designer/${encodeURIComponent(name)}`);
    } catch (e) {
      setMessage({ kind: 'error', text: (e as Error).message });
    }
  }, []);
  useEffect(() => { if (initial) void open(initial); }, [initial, open]);

  // Every edit goes through here so undo/redo sees it.
  const edit = useCallback((next: WorkflowDoc) => {
    setEditing((e) => (e ? { ...e, doc: next, past: [...e.past.slice(-199), e.doc], future: [] } : e));
  }, []);
  const undo = useCallback(() => setEditing((e) => (e && e.past.length ? { ...e, doc: e.past[e.past.length - 1], past: e.past.slice(0, -1), future: [e.doc, ...e.future] } : e)), []);
  const redo = useCallback(() => setEditing((e) => (e && e.future.length ? { ...e, doc: e.future[0], past: [...e.past, e.doc], future: e.future.slice(1) } : e)), []);

  // Server-side validation (the same validators as `posttrain validate`), debounced; stale answers are dropped.
  const seq = useRef(0);
  const doc = editing?.doc;
  useEffect(() => {
    if (!doc) return;
    const mine = ++seq.current;
    setValidating(true);
    const t = setTimeout(() => {
      api.validate(doc)
        .then((r) => { if (mine === seq.current) setProblems(r.problems); })
        .catch((e: ApiError) => { if (mine === seq.current) setProblems(e.problems.length ? e.problems : [{ path: '$', message: e.message }]); })
        .finally(() => { if (mine === seq.current) setValidating(false); });
    }, 250);
    return () => clearTimeout(t);
  }, [doc]);

  const located = useMemo(() => {
    const byNode = new Map<string, string[]>();
    const byField = new Map<string, Map<string, string[]>>();
    const general: Problem[] = [];
    const workflowFields = new Map<string, string[]>();
    if (!doc) return { byNode, byField, general, workflowFields };
    for (const p of problems) {
      const { nodeId, field } = locateProblem(doc, p);
      if (!nodeId) {
        general.push(p);
        const m = /^\$\.(parameters\.[^.[]+)/.exec(p.path);
        const key = m ? m[1] : '';
        workflowFields.set(key, [...(workflowFields.get(key) ?? []), p.message]);
        continue;
      }
      byNode.set(nodeId, [...(byNode.get(nodeId) ?? []), p.message]);
      const f = byField.get(nodeId) ?? new Map<string, string[]>();
      f.set(field ?? '', [...(f.get(field ?? '') ?? []), p.message]);
      byField.set(nodeId, f);
    }
    return { byNode, byField, general, workflowFields };
  }, [doc, problems]);

  // ELK lays out asynchronously; an answer for an older document is dropped.
  const [laid, setLaid] = useState<Laid>(EMPTY_LAYOUT);
  useEffect(() => {
    if (!doc) { setLaid(EMPTY_LAYOUT); return; }
    let live = true;
    layout(doc, { problemsByNode: located.byNode, categories })
      .then((l) => { if (live) setLaid(l); })
      .catch((e: Error) => { if (live) setMessage({ kind: 'error', text: `layout failed: ${e.message}` }); });
    return () => { live = false; };
  }, [doc, located, categories]);
  const nodes = useMemo<Node<NodeData>[]>(() => laid.nodes.map((n) => ({ ...n, selected: n.id === selected })), [laid, selected]);
  // Edge labels only around the selected node: on a workflow like iterate.json forty labels hide the graph.
  const edges = useMemo<Edge[]>(() => laid.edges.map((e) => (selected && (e.source === selected || e.target === selected)
    ? { ...e, label: (e.data as { text?: string } | undefined)?.text, className: `${e.className ?? ''} edge-focus` } : e)), [laid, selected]);

  const [flowNodes, applyFlowChanges] = useFlowNodes(nodes);
  // Fit once the laid-out nodes are measured, again whenever nodes come or go; not on edits of a node's fields.
  const initialized = useNodesInitialized();
  const structure = laid.nodes.map((n) => n.id).join(',');
  useEffect(() => {
    if (!initialized || !structure || fitted.current === structure) return;
    fitted.current = structure;
    void flow.fitView({ maxZoom: 1, padding: 0.08 });
  }, [initialized, structure, flow]);
  const onNodesChange = useCallback((changes: NodeChange<Node<NodeData>>[]) => {
    applyFlowChanges(changes);
    for (const c of changes) if (c.type === 'select' && c.selected) setSelected(c.id);
  }, [applyFlowChanges]);

  // A drag ends: every node's place goes into the document (so the picture stays as the user left it), undoably.
  const onNodeDragStop = useCallback((_: unknown, __: Node, moved: Node[]) => {
    if (!doc) return;
    const d = clone(doc);
    d.layout = Object.fromEntries(laid.nodes.map((n) => [n.id, { x: Math.round(n.position.x), y: Math.round(n.position.y) }]));
    for (const n of moved) d.layout[n.id] = { x: Math.round(n.position.x), y: Math.round(n.position.y) };
    edit(d);
  }, [doc, laid, edit]);
  const autoLayout = () => {
    if (!doc?.layout) return;
    const d = clone(doc);
    delete d.layout;
    fitted.current = '';
    edit(d);
  };

  // Copy and paste: the selected node (a container with its body) as JSON, on the system clipboard too, so it
  // pastes into another workflow or tab. It lands in the selected container, else beside the selected node.
  const copySelection = useCallback((): Fragment | null => {
    const l = doc && selected ? find(doc, selected) : undefined;
    if (!l) return null;
    clipboard.current = [clone(l.node)];
    return { posttrain: 'nodes', nodes: clipboard.current };
  }, [doc, selected]);
  const paste = useCallback((fragment: NodeDoc[] | null) => {
    if (!doc || !fragment?.length) return;
    const l = selected ? find(doc, selected) : undefined;
    const into = l ? (isContainer(l.node) ? l.node.id : l.ancestors[l.ancestors.length - 1]?.id ?? null) : null;
    const r = pasteNodes(doc, fragment, into);
    edit(r.doc);
    setSelected(r.ids[0] ?? null);
    setMessage({ kind: 'ok', text: `pasted ${r.ids.join(', ')}${into ? ` into ${into}` : ''}` });
  }, [doc, selected, edit]);
  useEffect(() => {
    const inField = (e: Event) => !!(e.target as HTMLElement | null)?.closest?.('input, textarea, select');
    const onCopy = (e: ClipboardEvent) => {
      if (inField(e) || (window.getSelection()?.toString() ?? '') !== '') return;
      const f = copySelection();
      if (!f || !e.clipboardData) return;
      e.clipboardData.setData('text/plain', JSON.stringify(f, null, 2));
      e.preventDefault();
    };
    let pending: ReturnType<typeof setTimeout> | undefined;
    const onPaste = (e: ClipboardEvent) => {
      if (inField(e)) return;
      clearTimeout(pending);
      const f = asFragment(e.clipboardData?.getData('text/plain') ?? '');
      if (!f && !clipboard.current) return;
      e.preventDefault();
      paste(f?.nodes ?? clipboard.current);
    };
    // Where the browser sends no copy/paste event for a page without a text selection or focus (headless ones),
    // the keys alone copy into and paste from this page's clipboard.
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || inField(e)) return;
      if (e.key.toLowerCase() === 'c') copySelection();
      if (e.key.toLowerCase() === 'v') { clearTimeout(pending); pending = setTimeout(() => paste(clipboard.current), 80); }
    };
    document.addEventListener('copy', onCopy);
    document.addEventListener('paste', onPaste);
    document.addEventListener('keydown', onKey);
    return () => {
      clearTimeout(pending);
      document.removeEventListener('copy', onCopy);
      document.removeEventListener('paste', onPaste);
      document.removeEventListener('keydown', onKey);
    };
  }, [copySelection, paste]);

  const onConnect = useCallback((c: Connection) => {
    if (!doc || !c.source || !c.target || c.source === c.target) return;
    if ((doc.connections ?? []).some((x) => x.from === c.source && x.to === c.target)) return;
    const d = clone(doc);
    d.connections = [...(d.connections ?? []), { from: c.source, to: c.target }];
    edit(d);
  }, [doc, edit]);

  const deleteEdges = useCallback((edges: Edge[]) => {
    if (!doc) return;
    let d = clone(doc);
    for (const e of edges) {
      const kind = (e.data as { kind?: string } | undefined)?.kind;
      if (kind === 'order') d.connections = (d.connections ?? []).filter((x) => !(x.from === e.source && x.to === e.target));
      else {
        const field = e.id.split(':')[2];
        d = updateNode(d, e.target, (n) => {
          if (field?.startsWith('inputs.') && n.inputs) delete n.inputs[field.slice(7)];
          else if (field === 'count' || field === 'items') delete n[field];
        });
      }
    }
    if (d.connections && d.connections.length === 0) delete d.connections;
    edit(d);
  }, [doc, edit]);

  const addActivity = useCallback((type: string, containerId: string | null) => {
    if (!doc) return;
    const id = uniqueId(doc, type);
    const node: NodeDoc =
      type === REPEAT ? { id, type, count: 1, body: [] } :
      type === FOREACH ? { id, type, items: [], body: [] } :
      { id, type };
    edit(addNode(doc, node, containerId));
    setSelected(id);
  }, [doc, edit]);

  const onDrop = useCallback((e: DragEvent) => {
    e.preventDefault();
    const type = e.dataTransfer.getData(DRAG_TYPE) || e.dataTransfer.getData('text/plain');
    if (!type || !doc) return;
    const p = flow.screenToFlowPosition({ x: e.clientX, y: e.clientY });
    // The innermost container under the drop point receives the node.
    const containers = flow.getNodes().filter((n) => n.type === 'container');
    let target: { id: string; area: number } | null = null;
    for (const c of containers) {
      const abs = flow.getInternalNode(c.id)?.internals.positionAbsolute ?? c.position;
      const w = c.measured?.width ?? Number(c.style?.width ?? 0);
      const h = c.measured?.height ?? Number(c.style?.height ?? 0);
      if (p.x >= abs.x && p.x <= abs.x + w && p.y >= abs.y && p.y <= abs.y + h && (!target || w * h < target.area)) target = { id: c.id, area: w * h };
    }
    addActivity(type, target?.id ?? null);
  }, [doc, flow, addActivity]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const inField = (e.target as HTMLElement).closest('input, textarea, select');
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z' && !inField) { e.preventDefault(); if (e.shiftKey) redo(); else undo(); }
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'y' && !inField) { e.preventDefault(); redo(); }
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') { e.preventDefault(); void save(); }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  });

  const save = async (overwrite = false) => {
    if (!editing) return;
    try {
      let etag = editing.etag;
      if (overwrite) etag = (await api.workflow(editing.name).catch(() => ({ etag: null }))).etag;
      const r = await api.save(editing.name, editing.doc, etag);
      setEditing((e) => (e ? { ...e, etag: r.etag, saved: JSON.stringify(e.doc) } : e));
      setConflict(false);
      setMessage({ kind: 'ok', text: `saved workflows/${editing.name}.json` });
      void refreshList();
    } catch (e) {
      const err = e as ApiError;
      if (err.status === 412 || err.status === 409) { setConflict(true); setMessage({ kind: 'error', text: 'the file changed on disk since you opened it; reload it or overwrite it' }); }
      else if (err.problems.length) { setProblems(err.problems); setMessage({ kind: 'error', text: `not saved: ${err.problems.length} problem(s); the file on disk is unchanged` }); }
      else setMessage({ kind: 'error', text: `not saved: ${err.message}` });
    }
  };

  const askName = (title: string, suggestion: string): string | null => {
    const name = window.prompt(`${title} (letters, digits, - and _)`, suggestion);
    if (name === null) return null;
    if (!NAME_PATTERN.test(name)) { setMessage({ kind: 'error', text: `'${name}' is not a valid workflow name` }); return null; }
    if (list.some((w) => w.name === name)) { setMessage({ kind: 'error', text: `workflows/${name}.json already exists` }); return null; }
    return name;
  };

  const newWorkflow = () => {
    const name = askName('New workflow name', 'my-workflow');
    if (!name) return;
    const d: WorkflowDoc = { id: name, version: 1, description: '', parameters: {}, activities: [] };
    setEditing({ name, doc: d, etag: null, past: [], future: [], saved: '' });
    setSelected(null);
  };
  const duplicate = () => {
    if (!editing) return;
    const name = askName('Duplicate as', `${editing.name}-copy`);
    if (!name) return;
    setEditing({ name, doc: { ...clone(editing.doc), id: name }, etag: null, past: [], future: [], saved: '' });
    setMessage({ kind: 'ok', text: `duplicated as ${name} (not saved yet)` });
  };
  const rename = async () => {
    if (!editing) return;
    const name = askName('Rename to', editing.name);
    if (!name) return;
    if (editing.etag === null) { setEditing({ ...editing, name, doc: { ...editing.doc, id: name } }); return; }
    try {
      const r = await api.rename(editing.name, name, editing.etag);
      setEditing({ ...editing, name, doc: { ...editing.doc, id: name }, etag: r.etag });
      void refreshList();
    } catch (e) { setMessage({ kind: 'error', text: (e as Error).message }); }
  };
  // Deleting asks first, and names the file; a file changed on disk since it was opened is not deleted (If-Match).
  const deleteWorkflow = async () => {
    if (!editing) return;
    const what = editing.etag === null ? `Discard the unsaved workflow ${editing.name}?` : `Delete workflows/${editing.name}.json? This cannot be undone.`;
    if (!window.confirm(what)) return;
    try {
      if (editing.etag !== null) await api.remove(editing.name, editing.etag);
      setMessage({ kind: 'ok', text: editing.etag === null ? `discarded ${editing.name}` : `deleted workflows/${editing.name}.json` });
      setEditing(null);
      setSelected(null);
      setProblems([]);
      history.replaceState(null, '', '#/designer');
      void refreshList();
    } catch (e) {
      const err = e as ApiError;
      setMessage({ kind: 'error', text: err.status === 412 ? `not deleted: workflows/${editing.name}.json changed on disk since you opened it` : `not deleted: ${err.message}` });
    }
  };
  const exportJson = () => {
    if (!editing) return;
    const blob = new Blob([JSON.stringify(editing.doc, null, 2) + '\n'], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${editing.name}.json`;
    a.click();
    URL.revokeObjectURL(a.href);
  };
  const importJson = async (file: File) => {
    try {
      const d = JSON.parse(await file.text()) as WorkflowDoc;
      if (!d || typeof d !== 'object' || !Array.isArray(d.activities)) throw new Error('expected a workflow object with an "activities" array');
      const name = NAME_PATTERN.test(d.id ?? '') ? d.id : file.name.replace(/\.json$/, '');
      const existing = list.find((w) => w.name === name);
      setEditing({ name, doc: d, etag: existing?.etag ?? null, past: [], future: [], saved: '' });
      setMessage({ kind: 'ok', text: `imported ${file.name} as ${name} (not saved yet)` });
    } catch (e) {
      setMessage({ kind: 'error', text: `cannot import ${file.name}: ${(e as Error).message}` });
    }
  };

  const dirty = !!editing && JSON.stringify(editing.doc) !== editing.saved;
  const selectedNode = doc && selected ? find(doc, selected)?.node : undefined;
  // Palette search: every word must appear in the type, the category or the description.
  const matching = useMemo(() => {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    return descriptors.filter((d) => words.every((w) => `${d.type} ${d.category} ${d.description}`.toLowerCase().includes(w)));
  }, [descriptors, query]);
  const grouped = useMemo(() => {
    const g = new Map<string, ActivityDescriptor[]>();
    for (const d of matching) g.set(d.category, [...(g.get(d.category) ?? []), d]);
    return [...g.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [matching]);
  const addToSelection = (type: string) => addActivity(type, selectedNode && isContainer(selectedNode) ? selectedNode.id : null);

  return (
    <div className="designer">
      <aside className="sidebar">
        <section>
          <h4>Workflows</h4>
          <ul className="wf-list" data-testid="workflow-list">
            {list.map((w) => (
              <li key={w.name} className={editing?.name === w.name ? 'active' : ''}>
                <button onClick={() => void open(w.name)} data-testid={`open-${w.name}`} title={w.description}>
                  {w.name} {!w.valid && <span className="problem-count" title={`${w.problems} problem(s)`}>{w.problems}</span>}
                </button>
              </li>
            ))}
          </ul>
        </section>
        <section className="palette" data-testid="palette">
          <h4>Activities</h4>
          <input type="search" className="palette-search" placeholder="search activities" value={query} data-testid="palette-search"
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && matching.length && editing) { addToSelection(matching[0].type); setQuery(''); }
              if (e.key === 'Escape') setQuery('');
            }} />
          {query && !matching.length && <div className="muted" data-testid="palette-empty">no activity matches '{query}'</div>}
          {grouped.map(([category, ds]) => (
            <details key={category} open>
              <summary>{category}</summary>
              {ds.map((d) => (
                <div key={d.type} className="palette-item" draggable data-testid={`palette-${d.type}`} title={d.description}
                  onDragStart={(e) => { e.dataTransfer.setData(DRAG_TYPE, d.type); e.dataTransfer.setData('text/plain', d.type); e.dataTransfer.effectAllowed = 'move'; }}
                  onDoubleClick={() => addToSelection(d.type)}>
                  <b>{d.type}</b>
                  <span className="muted">{d.description}</span>
                </div>
              ))}
            </details>
          ))}
        </section>
      </aside>

      <main className="canvas-column">
        <div className="toolbar" data-testid="toolbar">
          <button onClick={newWorkflow}>New</button>
          <button onClick={() => void rename()} disabled={!editing}>Rename</button>
          <button onClick={duplicate} disabled={!editing}>Duplicate</button>
          <button onClick={() => void deleteWorkflow()} disabled={!editing} data-testid="delete-workflow">Delete…</button>
          <span className="sep" />
          <button onClick={undo} disabled={!editing?.past.length} data-testid="undo">Undo</button>
          <button onClick={redo} disabled={!editing?.future.length} data-testid="redo">Redo</button>
          <button onClick={() => copySelection()} disabled={!selectedNode} data-testid="copy" title="Ctrl+C">Copy</button>
          <button onClick={() => paste(clipboard.current)} disabled={!editing} data-testid="paste" title="Ctrl+V">Paste</button>
          <button onClick={autoLayout} disabled={!editing?.doc.layout} data-testid="auto-layout" title="Forget the positions saved in the file and lay the graph out again">Auto layout</button>
          <span className="sep" />
          <button onClick={exportJson} disabled={!editing}>Export</button>
          <button onClick={() => importInput.current?.click()}>Import</button>
          <input ref={importInput} type="file" accept="application/json,.json" hidden onChange={(e) => { const f = e.target.files?.[0]; if (f) void importJson(f); e.target.value = ''; }} />
          <span className="sep" />
          <button onClick={() => void save()} disabled={!editing} data-testid="save" className={dirty ? 'primary' : ''}>Save{dirty ? ' *' : ''}</button>
          <button onClick={() => setRunDialog(true)} disabled={!editing || editing.etag === null} data-testid="run">Run…</button>
          <span className="title">{editing ? `${editing.name}.json` : 'open a workflow'}</span>
          <span className={`validity ${problems.length ? 'bad' : 'good'}`} data-testid="validity">
            {!editing ? '' : validating ? 'validating…' : problems.length ? `${problems.length} problem(s)` : 'valid'}
          </span>
        </div>
        {message && <div className={`banner ${message.kind}`} data-testid="banner">{message.text}
          {conflict && <><button onClick={() => editing && void open(editing.name)}>Reload</button><button onClick={() => void save(true)}>Overwrite</button></>}
          <button onClick={() => { setMessage(null); setConflict(false); }}>×</button></div>}
        <div className="canvas" ref={wrapper} onDragOver={(e) => { e.preventDefault(); e.dataTransfer.dropEffect = 'move'; }} onDrop={onDrop} data-testid="canvas">
          {editing ? (
            <ReactFlow
              nodes={flowNodes}
              edges={edges}
              nodeTypes={nodeTypes}
              onNodesChange={onNodesChange}
              onNodeDragStop={onNodeDragStop}
              onConnect={onConnect}
              onEdgesDelete={deleteEdges}
              onNodesDelete={(ns) => { let d = doc!; for (const n of ns) d = removeNode(d, n.id); edit(d); setSelected(null); }}
              onPaneClick={() => setSelected(null)}
              onNodeClick={(_, n) => setSelected(n.id)}
              deleteKeyCode={['Delete', 'Backspace']}
              minZoom={0.1}
              proOptions={{ hideAttribution: true }}
            >
              <Background />
              <Controls />
            </ReactFlow>
          ) : <div className="empty">Choose a workflow on the left, or press New.</div>}
        </div>
        {located.general.length > 0 && (
          <ul className="problems" data-testid="problems">
            {located.general.map((p, i) => <li key={i}><code>{p.path}</code> {p.message}</li>)}
          </ul>
        )}
      </main>

      <aside className="inspector-column">
        {editing && selectedNode ? (
          <Inspector
            key={selectedNode.id}
            doc={editing.doc}
            node={selectedNode}
            descriptors={byType}
            fieldProblems={located.byField.get(selectedNode.id) ?? new Map()}
            onChange={(change) => edit(updateNode(editing.doc, selectedNode.id, change))}
            onRename={(to) => {
              if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(to)) return `'${to}' is not a valid id (letters, digits, _ and -)`;
              if (find(editing.doc, to)) return `an activity '${to}' already exists`;
              edit(renameNode(editing.doc, selectedNode.id, to));
              setSelected(to);
              return null;
            }}
            onDelete={() => { edit(removeNode(editing.doc, selectedNode.id)); setSelected(null); }}
          />
        ) : editing ? (
          <WorkflowPanel doc={editing.doc} descriptors={byType} problems={located.workflowFields}
            onChange={(change) => { const d = clone(editing.doc); change(d); edit(d); }} />
        ) : null}
      </aside>

      {runDialog && editing && (
        <RunDialog doc={editing.doc} name={editing.name} dirty={dirty} onClose={() => setRunDialog(false)}
          onStarted={(id) => { setRunDialog(false); onRunStarted(id); }} />
      )}
    </div>
  );
}

function RunDialog({ doc, name, dirty, onClose, onStarted }: { doc: WorkflowDoc; name: string; dirty: boolean; onClose: () => void; onStarted: (id: string) => void }) {
  const [values, setValues] = useState<Record<string, unknown>>(() =>
    Object.fromEntries(Object.entries(doc.parameters ?? {}).map(([k, p]) => [k, p.default ?? null])));
  // Only the fields the user changed are sent: the rest come from the server's defaults and the chosen preset
  // (workflows/presets/NAME.json), so "preset: tiny" here means what `--preset tiny` means on the command line.
  const [changed, setChanged] = useState<ReadonlySet<string>>(() => new Set());
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <div className="modal" role="dialog" data-testid="run-dialog">
      <div className="modal-body">
        <h3>Run {name}</h3>
        {dirty && <div className="banner error">Unsaved changes: the run uses the file on disk. Save first to run what you see.</div>}
        {Object.entries(doc.parameters ?? {}).map(([k, p]) => (
          <label key={k} className="field" data-testid={`run-param-${k}`}>
            <span>{k} <span className="type">{p.type}</span>{p.min !== undefined || p.max !== undefined ? <span className="muted"> [{p.min ?? ''}…{p.max ?? ''}]</span> : null}</span>
            <LiteralEditor name={`run-${k}`} type={p.type} value={(values[k] ?? null) as never} onChange={(v) => { setValues({ ...values, [k]: v }); setChanged(new Set(changed).add(k)); }} />
            {p.description && <span className="help">{p.description}</span>}
          </label>
        ))}
        {error && <div className="error" data-testid="run-error">{error}</div>}
        <div className="row">
          <button className="primary" disabled={busy} data-testid="start-run" onClick={async () => {
            setBusy(true);
            try { const r = await api.startRun(name, Object.fromEntries(Object.entries(values).filter(([k]) => changed.has(k)))); onStarted(r.id); }
            catch (e) { setError((e as Error).message); setBusy(false); }
          }}>Start run</button>
          <button onClick={onClose}>Cancel</button>
        </div>
      </div>
    </div>
  );
}
