import { api, bulkApi, errorText } from "../api.js";
import { Badge, Problem, Section } from "../components/common.js";
import { PartitionBar } from "../components/PartitionBar.js";
import { BackfillPartitionState, BackfillStatus, type Backfill } from "../gen/weir/v1/control_plane_pb.js";
import { keyText, when } from "../format.js";
import { useCall, useInterval } from "../hooks.js";
import { useCan } from "../permissions.js";
import { Link } from "../router.js";
import { useState } from "react";

const BACKFILL_COLOURS: Record<number, string> = {
  [BackfillPartitionState.REQUESTED]: "#d1d5db",
  [BackfillPartitionState.IN_PROGRESS]: "#4c8bf5",
  [BackfillPartitionState.MATERIALIZED]: "#2e9e5b",
  [BackfillPartitionState.FAILED]: "#d64545",
  [BackfillPartitionState.SKIPPED]: "#9ca3af",
};
const ENDED = new Set([BackfillStatus.COMPLETED, BackfillStatus.FAILED, BackfillStatus.CANCELED]);

function Progress({ backfill }: { backfill: Backfill }) {
  const done = backfill.runsSucceeded + backfill.runsFailed + backfill.runsSkipped;
  const share = backfill.runCount ? (100 * done) / backfill.runCount : 0;
  return (
    <div className="progress" title={`${done} of ${backfill.runCount} runs ended`}>
      <div style={{ width: `${share}%` }} />
      <span>
        {backfill.runsSucceeded} ok · {backfill.runsFailed} failed · {backfill.runsInProgress} running ·{" "}
        {backfill.runCount} runs
      </span>
    </div>
  );
}

export function Backfills() {
  const list = useCall(() => api.listBackfills({ limit: 100 }), []);
  useInterval(list.reload, 5000);
  return (
    <div className="page">
      <h1>Backfills</h1>
      <Problem text={list.error} />
      <Section title="Backfills">
        <table>
          <tbody>
            {(list.data?.backfills ?? []).map((b) => (
              <tr key={b.backfillId}>
                <td>
                  <Link to={`/backfills/${b.backfillId}`}>{b.backfillId}</Link>
                </td>
                <td>
                  <Badge>{BackfillStatus[b.status]}</Badge>
                </td>
                <td>{b.selection}</td>
                <td style={{ width: "40%" }}>
                  <Progress backfill={b} />
                </td>
                <td>{when(b.createTime)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {list.data?.backfills.length === 0 && <div className="muted">No backfills yet.</div>}
      </Section>
    </div>
  );
}

export function BackfillDetail({ backfillId }: { backfillId: string }) {
  const detail = useCall(() => bulkApi.getBackfill({ backfillId, maxBuckets: 1200 }), [backfillId]);
  const [problem, setProblem] = useState("");
  const backfill = detail.data?.backfill;
  const mayLaunch = useCan()("launch", backfill?.codeLocation);
  useInterval(detail.reload, backfill && !ENDED.has(backfill.status) ? 3000 : null);
  const act = async (call: () => Promise<unknown>) => {
    try {
      await call();
      detail.reload();
    } catch (error) {
      setProblem(errorText(error));
    }
  };
  return (
    <div className="page">
      <h1>Backfill {backfillId}</h1>
      <Problem text={detail.error || problem} />
      {backfill && (
        <Section
          title={BackfillStatus[backfill.status]}
          actions={
            <span className="actions">
              {!ENDED.has(backfill.status) && mayLaunch && (
                <button onClick={() => act(() => api.cancelBackfill({ backfillId }))}>Cancel</button>
              )}
              {mayLaunch && (backfill.status === BackfillStatus.CANCELED || backfill.status === BackfillStatus.FAILED) && (
                <button onClick={() => act(() => api.resumeBackfill({ backfillId }))}>Resume</button>
              )}
            </span>
          }
        >
          <p>
            {backfill.selection} · {backfill.codeLocation} · created {when(backfill.createTime)}
          </p>
          <Progress backfill={backfill} />
          <p>
            <Link to={`/runs?status=&job=`}>Runs</Link> carry the tag weir/backfill_id={backfillId}.
          </p>
          {backfill.assets.map((a) => (
            <div key={keyText(a.key)} className="backfill-asset">
              <div>
                <b>{keyText(a.key)}</b> — {String(a.counts?.materialized)} of {String(a.counts?.total)} done,{" "}
                {String(a.counts?.failed)} failed
              </div>
              <PartitionBar
                ranges={a.ranges.map((r) => ({ start: Number(r.start), end: Number(r.end), state: r.state }))}
                total={Number(a.counts?.total ?? 0n)}
                colours={BACKFILL_COLOURS}
                label={(s) => BackfillPartitionState[s]}
              />
            </div>
          ))}
        </Section>
      )}
    </div>
  );
}
