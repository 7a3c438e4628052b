import type { ReactNode } from "react";
import { RunStatus } from "../gen/weir/v1/runs_pb.js";
import type { Error as WireError } from "../gen/weir/v1/common_pb.js";
import type { Run } from "../gen/weir/v1/runs_pb.js";
import { duration, keyText, runStatusName, when } from "../format.js";
import { Link } from "../router.js";

const RUN_COLOURS: Record<number, string> = {
  [RunStatus.QUEUED]: "#8a8f98",
  [RunStatus.STARTING]: "#4c8bf5",
  [RunStatus.STARTED]: "#4c8bf5",
  [RunStatus.SUCCESS]: "#2e9e5b",
  [RunStatus.FAILURE]: "#d64545",
  [RunStatus.CANCELING]: "#c98a1b",
  [RunStatus.CANCELED]: "#8a6d3b",
};

export function RunBadge({ status }: { status: RunStatus }) {
  return (
    <span className="badge" data-status={runStatusName(status)} style={{ background: RUN_COLOURS[status] }}>
      {runStatusName(status)}
    </span>
  );
}

export function Badge({ children, colour }: { children: ReactNode; colour?: string }) {
  return (
    <span className="badge" style={{ background: colour ?? "#6b7280" }}>
      {children}
    </span>
  );
}

export function Problem({ text }: { text?: string }) {
  if (!text) return null;
  return (
    <div className="problem" role="alert">
      {text}
    </div>
  );
}

export function Loading({ when }: { when: boolean }) {
  return when ? <div className="muted">Loading…</div> : null;
}

/** An error as the wire carries it: class, message, stack, and its causes. */
export function ErrorDetail({ error }: { error?: WireError }) {
  if (!error) return null;
  return (
    <div className="error-detail">
      <div className="error-title">
        {error.className ? `${error.className}: ` : ""}
        {error.message}
      </div>
      {error.stack && <pre className="stack">{error.stack}</pre>}
      {error.cause && (
        <div className="cause">
          caused by <ErrorDetail error={error.cause} />
        </div>
      )}
    </div>
  );
}

export function Section({ title, children, actions }: { title: string; children: ReactNode; actions?: ReactNode }) {
  return (
    <section className="card">
      <header className="card-head">
        <h2>{title}</h2>
        <div>{actions}</div>
      </header>
      {children}
    </section>
  );
}

/** One run as a table row: id, status, target, then `extra` cells, created, duration. */
export function RunRow({ run, extra = [] }: { run: Run; extra?: ReactNode[] }) {
  return (
    <tr>
      <td>
        <Link to={`/runs/${run.runId}`}>{run.runId.slice(0, 8)}</Link>
      </td>
      <td>
        <RunBadge status={run.status} />
      </td>
      <td>{run.jobName || run.selection || run.assetKeys.map(keyText).join(", ")}</td>
      {extra.map((cell, i) => (
        <td key={i}>{cell}</td>
      ))}
      <td>{when(run.createTime)}</td>
      <td>{duration(run.startTime, run.endTime)}</td>
    </tr>
  );
}
