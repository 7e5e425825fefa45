// What the inspector shows when no node is selected: the workflow's description, parameters and outputs.
import { useState } from 'react';
import { LiteralEditor } from './Inspector';
import { asRef, outputsOf, type ActivityDescriptor, type ParamDoc, type WorkflowDoc } from './model';

const TYPES = ['int', 'number', 'string', 'bool', 'artifact', 'json', 'int[]', 'number[]', 'string[]', 'artifact[]', 'json[]'];

export function WorkflowPanel(props: {
  doc: WorkflowDoc;
  descriptors: Map<string, ActivityDescriptor>;
  problems: Map<string, string[]>;
  onChange: (change: (d: WorkflowDoc) => void) => void;
}) {
  const { doc, onChange } = props;
  const [newParam, setNewParam] = useState('');
  const [newOutput, setNewOutput] = useState('');
  const topOutputs = doc.activities.flatMap((n) => outputsOf(n, props.descriptors).map((o) => ({ value: `${n.id}.${o.name}`, label: `${n.id}.${o.name} : ${o.type}` })));
  const setParam = (name: string, change: (p: ParamDoc) => void) =>
    onChange((d) => { const ps = { ...(d.parameters ?? {}) }; const p = { ...ps[name] }; change(p); ps[name] = p; d.parameters = ps; });
  return (
    <div className="inspector" data-testid="workflow-panel">
      <h3>{doc.id}</h3>
      <label className="field"><span>description</span>
        <textarea rows={2} value={doc.description ?? ''} onChange={(e) => onChange((d) => { if (e.target.value) d.description = e.target.value; else delete d.description; })} />
      </label>
      <fieldset className="slot">
        <legend>parameters</legend>
        {Object.entries(doc.parameters ?? {}).map(([name, p]) => (
          <div key={name} className="param" data-testid={`parameter-${name}`}>
            <div className="slot-head"><b>{name}</b>
              <select value={p.type} onChange={(e) => setParam(name, (q) => { q.type = e.target.value; })}>
                {TYPES.map((t) => <option key={t}>{t}</option>)}
              </select>
              <button onClick={() => onChange((d) => { const ps = { ...(d.parameters ?? {}) }; delete ps[name]; d.parameters = ps; })}>×</button>
            </div>
            <label className="field"><span>default</span>
              <LiteralEditor name={`param-${name}`} type={p.type} value={p.default ?? null} onChange={(v) => setParam(name, (q) => { if (v === undefined || v === null) delete q.default; else q.default = v; })} />
            </label>
            {(p.type === 'int' || p.type === 'number') && (
              <div className="row">
                <label>min <input type="number" value={p.min ?? ''} onChange={(e) => setParam(name, (q) => { if (e.target.value === '') delete q.min; else q.min = Number(e.target.value); })} /></label>
                <label>max <input type="number" value={p.max ?? ''} onChange={(e) => setParam(name, (q) => { if (e.target.value === '') delete q.max; else q.max = Number(e.target.value); })} /></label>
              </div>
            )}
            <input placeholder="description" value={p.description ?? ''} onChange={(e) => setParam(name, (q) => { if (e.target.value) q.description = e.target.value; else delete q.description; })} />
            {(props.problems.get(`parameters.${name}`) ?? []).map((m, i) => <div key={i} className="error">{m}</div>)}
          </div>
        ))}
        <div className="row">
          <input placeholder="new parameter" value={newParam} onChange={(e) => setNewParam(e.target.value)} data-testid="new-parameter" />
          <button disabled={!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newParam) || !!doc.parameters?.[newParam]}
            onClick={() => { onChange((d) => { d.parameters = { ...(d.parameters ?? {}), [newParam]: { type: 'int', default: 1 } }; }); setNewParam(''); }}>add</button>
        </div>
      </fieldset>
      <fieldset className="slot">
        <legend>workflow outputs</legend>
        {Object.entries(doc.outputs ?? {}).map(([k, v]) => {
          const r = asRef(v);
          return (
            <div key={k} className="field"><span>{k}</span>
              <select value={r?.kind === 'from' ? `${r.activity}.${r.output}` : ''} onChange={(e) => onChange((d) => { d.outputs = { ...(d.outputs ?? {}), [k]: { from: e.target.value } }; })}>
                <option value="" disabled>choose…</option>
                {topOutputs.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
              </select>
              <button onClick={() => onChange((d) => { const o = { ...(d.outputs ?? {}) }; delete o[k]; d.outputs = o; if (!Object.keys(o).length) delete d.outputs; })}>×</button>
            </div>
          );
        })}
        <div className="row">
          <input placeholder="new output" value={newOutput} onChange={(e) => setNewOutput(e.target.value)} />
          <button disabled={!/^[A-Za-z_][A-Za-z0-9_]*$/.test(newOutput) || !topOutputs.length}
            onClick={() => { onChange((d) => { d.outputs = { ...(d.outputs ?? {}), [newOutput]: { from: topOutputs[0].value } }; }); setNewOutput(''); }}>add</button>
        </div>
      </fieldset>
      {(props.problems.get('') ?? []).map((m, i) => <div key={i} className="error">{m}</div>)}
    </div>
  );
}
