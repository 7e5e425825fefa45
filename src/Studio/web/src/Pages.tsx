// The pages a run links to: its quality report (report.md with its charts) and a checkpoint (files, config,
// metadata, lineage, the export command).
import { useEffect, useState, type ReactNode } from 'react';
import { api, type ArtifactView, type RunReport } from './api';

export function ReportPage({ id }: { id: string }) {
  const [report, setReport] = useState<RunReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => { api.report(id).then(setReport).catch((e: Error) => setError(e.message)); }, [id]);
  return (
    <div className="monitor report" data-testid="report-page">
      <div className="toolbar"><a href={`#/runs/${id}`}>← run {id.slice(0, 8)}</a>{report && <span className="muted">{report.path}</span>}</div>
      {error && <div className="banner error" data-testid="report-error">{error}</div>}
      {report && <Markdown text={report.markdown} base={`api/runs/${id}/report/`} />}
    </div>
  );
}

export function CheckpointPage({ reference }: { reference: string }) {
  const [view, setView] = useState<ArtifactView | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => { api.artifact(reference).then(setView).catch((e: Error) => setError(e.message)); }, [reference]);
  const file = (name: string) => `api/artifacts/${encodeURIComponent(reference)}/files/${name.split('/').map(encodeURIComponent).join('/')}`;
  return (
    <div className="monitor" data-testid="checkpoint-page">
      <div className="toolbar">
        {view?.lineage[0]?.runId && <a href={`#/runs/${view.lineage[0].runId}`}>← run {view.lineage[0].runId.slice(0, 8)}</a>}
        <span className="title"><code>{reference}</code></span>
      </div>
      {error && <div className="banner error" data-testid="checkpoint-error">{error}</div>}
      {view && (
        <>
          <p>On disk: <code data-testid="checkpoint-path">{view.path}</code></p>
          <p>As a Hugging Face directory: <code data-testid="export-command">{view.exportCommand}</code></p>
          {view.lineage.map((c) => (
            <p key={`${c.runId}${c.stepPath}`} className="muted">{c.kind}{c.name ? ` "${c.name}"` : ''} from step <code>{c.stepPath}</code>
              {c.parent && <> · parent <a href={`#/checkpoints/${c.parent}`}>{c.parent.slice(7, 19)}</a></>}
              {c.sampler && <> · sampler <a href={`#/checkpoints/${c.sampler}`}>{c.sampler.slice(7, 19)}</a></>}
              {c.rewardModel && <> · reward model <a href={`#/checkpoints/${c.rewardModel}`}>{c.rewardModel.slice(7, 19)}</a></>}</p>
          ))}
          <table data-testid="checkpoint-files">
            <thead><tr><th>file</th><th>size</th></tr></thead>
            <tbody>{view.files.map((f) => (
              <tr key={f.name}><td>{view.isDirectory ? <a href={file(f.name)} target="_blank" rel="noreferrer">{f.name}</a> : '(a single file)'}</td><td>{bytes(f.bytes)}</td></tr>
            ))}</tbody>
          </table>
          {view.metadata && <><h4>metadata.json</h4><pre className="json">{JSON.stringify(view.metadata, null, 2)}</pre></>}
          {view.config && <><h4>config.json</h4><pre className="json">{JSON.stringify(view.config, null, 2)}</pre></>}
        </>
      )}
    </div>
  );
}

function bytes(n: number) {
  return n >= 1 << 30 ? `${(n / (1 << 30)).toFixed(2)} GiB` : n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/** The Markdown the report writer produces: headings, paragraphs, lists, pipe tables, images, **bold** and `code`. */
export function Markdown({ text, base }: { text: string; base: string }) {
  const blocks: ReactNode[] = [];
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  for (let i = 0; i < lines.length;) {
    const line = lines[i];
    if (!line.trim()) { i++; continue; }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const Tag = `h${Math.min(6, heading[1].length + 1)}` as 'h2';
      blocks.push(<Tag key={i}>{inline(heading[2], base)}</Tag>);
      i++;
      continue;
    }
    if (line.trimStart().startsWith('|')) {
      const rows: string[][] = [];
      for (; i < lines.length && lines[i].trimStart().startsWith('|'); i++)
        if (!/^\s*\|[\s:|-]+\|\s*$/.test(lines[i])) rows.push(lines[i].trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim()));
      const [head, ...body] = rows;
      blocks.push(
        <table key={i} className="md-table">
          <thead><tr>{head.map((c, j) => <th key={j}>{inline(c, base)}</th>)}</tr></thead>
          <tbody>{body.map((r, k) => <tr key={k}>{r.map((c, j) => <td key={j}>{inline(c, base)}</td>)}</tr>)}</tbody>
        </table>,
      );
      continue;
    }
    if (/^\s*[-*]\s+/.test(line)) {
      const items: string[] = [];
      for (; i < lines.length && /^\s*[-*]\s+/.test(lines[i]); i++) items.push(lines[i].replace(/^\s*[-*]\s+/, ''));
      blocks.push(<ul key={i}>{items.map((t, k) => <li key={k}>{inline(t, base)}</li>)}</ul>);
      continue;
    }
    const para: string[] = [];
    for (; i < lines.length && lines[i].trim() && !/^(#|\s*\||\s*[-*]\s)/.test(lines[i]); i++) para.push(lines[i]);
    blocks.push(<p key={i}>{inline(para.join(' '), base)}</p>);
  }
  return <div className="markdown" data-testid="markdown">{blocks}</div>;
}

function inline(text: string, base: string): ReactNode[] {
  const out: ReactNode[] = [];
  const pattern = /!\[([^\]]*)\]\(([^)\s]+)\)|\*\*([^*]+)\*\*|`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  for (let m = pattern.exec(text); m; m = pattern.exec(text)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    const k = m.index;
    if (m[2] !== undefined) out.push(<img key={k} alt={m[1]} src={/^https?:/i.test(m[2]) ? m[2] : base + m[2]} />);
    else if (m[3] !== undefined) out.push(<b key={k}>{m[3]}</b>);
    else if (m[4] !== undefined) out.push(<code key={k}>{m[4]}</code>);
    else out.push(<a key={k} href={/^https?:/i.test(m[6]) ? m[6] : base + m[6]}>{m[5]}</a>);
    last = k + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
