import { useEffect, useState } from "react";
import { api, errorText } from "../api.js";
import { Problem, RunRow, Section } from "../components/common.js";
import { RunStatus, type Run } from "../gen/weir/v1/runs_pb.js";
import { FINISHED, keyOf } from "../format.js";
import { useInterval } from "../hooks.js";
import { setQuery, useLocation } from "../router.js";

const STATUSES = [
  RunStatus.QUEUED,
  RunStatus.STARTING,
  RunStatus.STARTED,
  RunStatus.SUCCESS,
  RunStatus.FAILURE,
  RunStatus.CANCELING,
  RunStatus.CANCELED,
];
const WATCHED = 20; // live streams at most, for the newest runs in progress

// Runs, newest first, filtered in the URL; runs in progress update live over WatchRun.
export function Runs() {
  const { query } = useLocation();
  const status = query.get("status") ?? "";
  const job = query.get("job") ?? "";
  const asset = query.get("asset") ?? "";
  const location = query.get("location") ?? "";
  const [runs, setRuns] = useState<Run[]>([]);
  const [cursor, setCursor] = useState("");
  const [problem, setProblem] = useState("");

  const request = (from: string) => ({
    statuses: status ? [RunStatus[status as keyof typeof RunStatus]] : [],
    jobName: job,
    codeLocation: location,
    assetKey: asset ? keyOf(asset) : undefined,
    cursor: from,
    limit: 50,
  });
  const load = async (from: string) => {
    try {
      const page = await api.listRuns(request(from));
      setRuns((old) => (from ? old.concat(page.runs) : page.runs));
      if (!from) setCursor(page.nextCursor);
      setProblem("");
    } catch (error) {
      setProblem(errorText(error));
    }
  };
  useEffect(() => {
    void load("");
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [status, job, asset, location]);
  useInterval(() => void load(""), 10000); // new runs appear without a reload

  const active = runs.filter((r) => !FINISHED.has(r.status)).slice(0, WATCHED).map((r) => r.runId);
  useEffect(() => {
    const abort = new AbortController();
    for (const runId of active) {
      (async () => {
        try {
          for await (const message of api.watchRun({ runId, fromLatest: true }, { signal: abort.signal })) {
            const run = message.run;
            if (run) setRuns((old) => old.map((r) => (r.runId === run.runId ? run : r)));
          }
        } catch {
          // the list's own refresh shows the status all the same
        }
      })();
    }
    return () => abort.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [active.join(",")]);

  return (
    <div className="page">
      <h1>Runs</h1>
      <div className="filters">
        <label>
          status
          <select name="status" value={status} onChange={(e) => setQuery({ status: e.target.value })}>
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s} value={RunStatus[s]}>
                {RunStatus[s]}
              </option>
            ))}
          </select>
        </label>
        {(
          [
            ["job", job],
            ["asset", asset],
            ["location", location],
          ] as const
        ).map(([name, value]) => (
          <label key={name}>
            {name}
            <input name={name} defaultValue={value} onBlur={(e) => setQuery({ [name]: e.target.value })} />
          </label>
        ))}
      </div>
      <Problem text={problem} />
      <Section title="Runs">
        <table data-testid="runs-table">
          <thead>
            <tr>
              <th>Run</th>
              <th>Status</th>
              <th>Target</th>
              <th>Partition</th>
              <th>Location</th>
              <th>Created</th>
              <th>Duration</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((run) => (
              <RunRow key={run.runId} run={run} extra={[run.partitionKey, run.codeLocation]} />
            ))}
          </tbody>
        </table>
        {cursor && (
          <button
            onClick={async () => {
              const page = await api.listRuns(request(cursor));
              setRuns((old) => old.concat(page.runs));
              setCursor(page.nextCursor);
            }}
          >
            Load more
          </button>
        )}
      </Section>
    </div>
  );
}
