// The form for the selected node, generated from its activity descriptor: one editor per input with the
// input's type, default and help text. References to other nodes' outputs are chosen from lists, never typed.
import { useState } from 'react';
import {
  asRef, isAssignable, isContainer, outputsOf, previousOutputs, visibleOutputs, visibleVars, FOREACH, REPEAT,
  type ActivityDescriptor, type Json, type NodeDoc, type OutputOption, type PortDescriptor, type WorkflowDoc,
} from './model';

type Mode = 'unset' | 'literal' | 'param' | 'from' | 'fromPrevious' | 'var';

interface Context {
  doc: WorkflowDoc;
  nodeId: string;
  descriptors: Map<string, ActivityDescriptor>;
}

export function Inspector(props: {
  doc: WorkflowDoc;
  node: NodeDoc;
  descriptors: Map<string, ActivityDescriptor>;
  fieldProblems: Map<string, string[]>;
  onChange: (change: (n: NodeDoc) => void) => void;
  onRename: (to: string) => string | null;
  onDelete: () => void;
}) {
  const { doc, node, descriptors, fieldProblems, onChange } = props;
  const ctx: Context = { doc, nodeId: node.id, descriptors };
  const d = descriptors.get(node.type);
  const [idDraft, setIdDraft] = useState<{ for: string; text: string } | null>(null);
  const [renameError, setRenameError] = useState<string | null>(null);
  const idText = idDraft && idDraft.for === node.id ? idDraft.text : node.id;
  const known = new Set((d?.inputs ?? []).map((i) => i.name));
  const extra = Object.keys(node.inputs ?? {}).filter((k) => !known.has(k));

  const setSlot = (field: string, v: Json | undefined) =>
    onChange((n) => {
      if (field.startsWith('inputs.')) {
        const name = field.slice(7);
        const inputs = { ...(n.inputs ?? {}) };
        if (v === undefined) delete inputs[name]; else inputs[name] = v;
        n.inputs = inputs;
        if (Object.keys(inputs).length === 0) delete n.inputs;
      } else if (field === 'count' || field === 'items') {
        if (v === undefined) delete n[field]; else n[field] = v;
      }
    });

  return (
    <div className="inspector" data-testid="inspector">
      <div className="inspector-head">
        <label className="field">
          <span>id</span>
          <input
            data-testid="node-id"
            value={idText}
            onChange={(e) => setIdDraft({ for: node.id, text: e.target.value })}
            onBlur={() => {
              if (idText !== node.id) setRenameError(props.onRename(idText));
              setIdDraft(null);
            }}
          />
        </label>
        {renameError && <div className="error">{renameError}</div>}
        <div className="muted">{node.type}{d ? ` · ${d.category}` : ''}</div>
        {d?.description && <p className="help">{d.description}</p>}
        {!d && !isContainer(node) && <div className="error">unknown activity type '{node.type}'</div>}
        <Problems list={fieldProblems.get('') ?? []} />
        <Problems list={fieldProblems.get('type') ?? []} />
      </div>

      {node.type === REPEAT && (
        <Slot ctx={ctx} name="count" port={{ name: 'count', type: 'int', description: 'How many rounds the body runs, one after another.', required: true }}
          value={node.count} problems={fieldProblems.get('count') ?? []} onChange={(v) => setSlot('count', v)} />
      )}
      {node.type === FOREACH && (
        <Slot ctx={ctx} name="items" port={{ name: 'items', type: 'json[]', description: 'The list to fan out over; the body runs once per element, in parallel.', required: true }}
          value={node.items} problems={fieldProblems.get('items') ?? []} onChange={(v) => setSlot('items', v)} />
      )}
      {isContainer(node) && <ContainerOutputs ctx={ctx} node={node} problems={fieldProblems} onChange={onChange} />}

      {(d?.inputs ?? []).map((port) => (
        <Slot key={port.name} ctx={ctx} name={port.name} port={port} value={node.inputs?.[port.name]}
          problems={fieldProblems.get(`inputs.${port.name}`) ?? []} onChange={(v) => setSlot(`inputs.${port.name}`, v)} />
      ))}
      {extra.map((name) => (
        <div key={name} className="slot">
          <div className="slot-head"><b>{name}</b> <span className="error">not an input of {node.type}</span>
            <button onClick={() => setSlot(`inputs.${name}`, undefined)}>remove</button></div>
          <Problems list={fieldProblems.get(`inputs.${name}`) ?? []} />
        </div>
      ))}

      {!isContainer(node) && (
        <fieldset className="slot">
          <legend>execution</legend>
          <label className="field"><span>pool</span>
            <select data-testid="node-pool" value={node.pool ?? ''} onChange={(e) => onChange((n) => { if (e.target.value) n.pool = e.target.value; else delete n.pool; })}>
              <option value="">default ({d?.pool ?? 'cpu'})</option>
              <option value="cpu">cpu</option>
              <option value="gpu">gpu</option>
            </select>
          </label>
          <label className="field"><span>max attempts</span>
            <input type="number" min={1} value={node.retry?.maxAttempts ?? ''} placeholder="3"
              onChange={(e) => onChange((n) => {
                const v = e.target.value === '' ? undefined : Number(e.target.value);
                const retry = { ...(n.retry ?? {}) };
                if (v === undefined) delete retry.maxAttempts; else retry.maxAttempts = v;
                if (Object.keys(retry).length) n.retry = retry; else delete n.retry;
              })} />
          </label>
          <Problems list={[...(fieldProblems.get('retry') ?? []), ...(fieldProblems.get('pool') ?? [])]} />
        </fieldset>
      )}
      <button className="danger" data-testid="delete-node" onClick={props.onDelete}>Delete node</button>
    </div>
  );
}

function Problems({ list }: { list: string[] }) {
  if (!list.length) return null;
  return <ul className="field-problems" data-testid="field-problems">{list.map((p, i) => <li key={i}>{p}</li>)}</ul>;
}

function ContainerOutputs({ ctx, node, problems, onChange }: { ctx: Context; node: NodeDoc; problems: Map<string, string[]>; onChange: (c: (n: NodeDoc) => void) => void }) {
  const [name, setName] = useState('');
  const inner: OutputOption[] = (node.body ?? []).flatMap((b) =>
    outputsOf(b, ctx.descriptors).map((o) => ({ value: `${b.id}.${o.name}`, type: o.type, label: `${b.id}.${o.name} : ${o.type}` })));
  return (
    <fieldset className="slot">
      <legend>outputs ({node.type === REPEAT ? 'last round' : 'a list over items'})</legend>
      {Object.entries(node.outputs ?? {}).map(([k, v]) => {
        const r = asRef(v);
        return (
          <div key={k} className="field">
            <span>{k}</span>
            <select value={r?.kind === 'from' ? `${r.activity}.${r.output}` : ''}
              onChange={(e) => onChange((n) => { n.outputs = { ...(n.outputs ?? {}), [k]: { from: e.target.value } }; })}>
              <option value="" disabled>choose a body output…</option>
              {inner.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
            </select>
            <button onClick={() => onChange((n) => { const o = { ...(n.outputs ?? {}) }; delete o[k]; n.outputs = o; if (!Object.keys(o).length) delete n.outputs; })}>×</button>
            <Problems list={problems.get(`outputs.${k}`) ?? []} />
          </div>
        );
      })}
      <div className="field">
        <input placeholder="new output name" value={name} onChange={(e) => setName(e.target.value)} />
        <button disabled={!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || !inner.length}
          onClick={() => { onChange((n) => { n.outputs = { ...(n.outputs ?? {}), [name]: { from: inner[0].value } }; }); setName(''); }}>add output</button>
      </div>
    </fieldset>
  );
}

function modeOf(v: Json | undefined): Mode {
  if (v === undefined) return 'unset';
  const r = asRef(v);
  return r ? r.kind : 'literal';
}

function Slot(props: { ctx: Context; name: string; port: PortDescriptor; value: Json | undefined; problems: string[]; onChange: (v: Json | undefined) => void }) {
  const { ctx, port, value, problems, onChange } = props;
  const mode = modeOf(value);
  const params = Object.entries(ctx.doc.parameters ?? {});
  const outputs = visibleOutputs(ctx.doc, ctx.nodeId, ctx.descriptors);
  const previous = previousOutputs(ctx.doc, ctx.nodeId, ctx.descriptors);
  const vars = visibleVars(ctx.doc, ctx.nodeId);
  const modes: { m: Mode; label: string; ok: boolean }[] = [
    { m: 'unset', label: port.required ? 'unset (required!)' : `default${port.default !== undefined ? ` (${JSON.stringify(port.default)})` : ''}`, ok: true },
    { m: 'literal', label: 'value', ok: true },
    { m: 'param', label: 'workflow parameter', ok: params.length > 0 },
    { m: 'from', label: 'output of a node', ok: outputs.length > 0 },
    { m: 'fromPrevious', label: "previous round's output", ok: previous.length > 0 },
    { m: 'var', label: 'loop variable', ok: vars.length > 0 },
  ];
  const switchTo = (m: Mode) => {
    switch (m) {
      case 'unset': onChange(undefined); break;
      case 'literal': onChange(port.default !== undefined ? port.default : emptyOf(port.type)); break;
      case 'param': onChange({ param: (params.find(([, p]) => isAssignable(p.type, port.type)) ?? params[0])[0] }); break;
      case 'from': onChange({ from: (outputs.find((o) => isAssignable(o.type, port.type)) ?? outputs[0]).value }); break;
      case 'fromPrevious': {
        const o = previous.find((p) => isAssignable(p.type, port.type)) ?? previous[0];
        onChange({ fromPrevious: o.value, initial: port.default !== undefined ? port.default : emptyOf(port.type) });
        break;
      }
      case 'var': onChange({ var: vars[0] }); break;
    }
  };
  const r = asRef(value);
  return (
    <div className={`slot ${problems.length ? 'invalid' : ''}`} data-testid={`input-${props.name}`}>
      <div className="slot-head">
        <b>{props.name}</b> <span className="type">{port.type}</span>{port.required && <span className="req">required</span>}
      </div>
      {port.description && <div className="help">{port.description}</div>}
      <select className="mode" data-testid={`mode-${props.name}`} value={mode} onChange={(e) => switchTo(e.target.value as Mode)}>
        {modes.filter((x) => x.ok || x.m === mode).map((x) => <option key={x.m} value={x.m}>{x.label}</option>)}
      </select>
      {mode === 'literal' && <LiteralEditor name={props.name} type={port.type} allowed={port.allowed} value={value ?? null} onChange={onChange} />}
      {mode === 'param' && r?.kind === 'param' && (
        <select data-testid={`param-${props.name}`} value={r.name} onChange={(e) => onChange({ param: e.target.value })}>
          {params.map(([k, p]) => <option key={k} value={k}>{k} : {p.type}{!isAssignable(p.type, port.type) ? ' (type mismatch)' : ''}</option>)}
          {!params.some(([k]) => k === r.name) && <option value={r.name}>{r.name} (missing)</option>}
        </select>
      )}
      {mode === 'from' && r?.kind === 'from' && (
        <RefSelect name={props.name} options={outputs} type={port.type} value={`${r.activity}.${r.output}`} onChange={(v) => onChange({ from: v })} />
      )}
      {mode === 'fromPrevious' && r?.kind === 'fromPrevious' && (
        <>
          <RefSelect name={props.name} options={previous} type={port.type} value={`${r.activity}.${r.output}`} onChange={(v) => onChange({ fromPrevious: v, initial: r.initial })} />
          <div className="initial">
            <span className="muted">round 0 uses</span>
            {asRef(r.initial)?.kind === 'from' ? (
              <RefSelect name={`${props.name}-initial`} options={outputs} type={port.type} value={(r.initial as { from: string }).from}
                onChange={(v) => onChange({ fromPrevious: `${r.activity}.${r.output}`, initial: { from: v } })} />
            ) : asRef(r.initial)?.kind === 'param' ? (
              <select value={(r.initial as { param: string }).param} onChange={(e) => onChange({ fromPrevious: `${r.activity}.${r.output}`, initial: { param: e.target.value } })}>
                {params.map(([k]) => <option key={k} value={k}>{k}</option>)}
              </select>
            ) : (
              <LiteralEditor name={`${props.name}-initial`} type={port.type} value={r.initial} onChange={(v) => onChange({ fromPrevious: `${r.activity}.${r.output}`, initial: v ?? null })} />
            )}
            <select value={asRef(r.initial)?.kind ?? 'literal'} onChange={(e) => {
              const k = e.target.value;
              const initial: Json = k === 'from' && outputs.length ? { from: outputs[0].value } : k === 'param' && params.length ? { param: params[0][0] } : emptyOf(port.type);
              onChange({ fromPrevious: `${r.activity}.${r.output}`, initial });
            }}>
              <option value="literal">a value</option>
              {outputs.length > 0 && <option value="from">an output</option>}
              {params.length > 0 && <option value="param">a parameter</option>}
            </select>
          </div>
        </>
      )}
      {mode === 'var' && r?.kind === 'var' && (
        <select data-testid={`var-${props.name}`} value={r.name} onChange={(e) => onChange({ var: e.target.value })}>
          {vars.map((v) => <option key={v} value={v}>{v}</option>)}
          {!vars.includes(r.name) && <option value={r.name}>{r.name} (not in scope)</option>}
        </select>
      )}
      <Problems list={problems} />
    </div>
  );
}

function RefSelect({ name, options, type, value, onChange }: { name: string; options: OutputOption[]; type: string; value: string; onChange: (v: string) => void }) {
  return (
    <select data-testid={`ref-${name}`} value={value} onChange={(e) => onChange(e.target.value)}>
      {options.map((o) => (
        <option key={o.value} value={o.value}>{o.label}{!isAssignable(o.type, type) ? ' (type mismatch)' : ''}</option>
      ))}
      {!options.some((o) => o.value === value) && <option value={value}>{value} (not visible here)</option>}
    </select>
  );
}

function emptyOf(type: string): Json {
  if (type.endsWith('[]')) return [];
  switch (type) {
    case 'int': case 'number': return 0;
    case 'bool': return false;
    case 'json': return {};
    default: return '';
  }
}

/** An editor for a literal of a port type; lists and json are edited as JSON text and parsed on the fly. */
export function LiteralEditor({ name, type, value, onChange, allowed }: { name: string; type: string; value: Json; onChange: (v: Json | undefined) => void; allowed?: string[] | null }) {
  const [text, setText] = useState<{ for: string; text: string; error: string | null } | null>(null);
  const key = JSON.stringify(value);
  if (allowed && allowed.length && type === 'string')
    return (
      <select data-testid={`value-${name}`} value={typeof value === 'string' ? value : ''} onChange={(e) => onChange(e.target.value)}>
        {!allowed.includes(String(value)) && <option value="" disabled>choose…</option>}
        {allowed.map((a) => <option key={a} value={a}>{a}</option>)}
      </select>
    );
  if (type === 'bool')
    return <input type="checkbox" data-testid={`value-${name}`} checked={value === true} onChange={(e) => onChange(e.target.checked)} />;
  if (type === 'int' || type === 'number')
    return (
      <input type="number" data-testid={`value-${name}`} step={type === 'int' ? 1 : 'any'}
        value={typeof value === 'number' ? value : ''}
        onChange={(e) => onChange(e.target.value === '' ? null : Number(e.target.value))} />
    );
  if (type === 'string' || type === 'artifact')
    return <input type="text" data-testid={`value-${name}`} value={typeof value === 'string' ? value : value === null ? '' : JSON.stringify(value)}
      placeholder={type === 'artifact' ? 'sha256:…' : ''} onChange={(e) => onChange(e.target.value)} />;
  const shown = text && text.for === key ? text : { for: key, text: JSON.stringify(value, null, 1), error: null };
  return (
    <>
      <textarea data-testid={`value-${name}`} rows={3} value={shown.text} onChange={(e) => {
        const t = e.target.value;
        try {
          const parsed = JSON.parse(t) as Json;
          setText({ for: JSON.stringify(parsed), text: t, error: null });
          onChange(parsed);
        } catch (err) {
          setText({ for: key, text: t, error: (err as Error).message });
        }
      }} />
      {shown.error && <div className="error">not JSON yet: {shown.error}</div>}
    </>
  );
}
