import { useMemo, useState } from "react";
import { api, bulkApi, errorText } from "../api.js";
import { Badge, Loading, Problem, Section } from "../components/common.js";
import { PartitionBar, type BarRange } from "../components/PartitionBar.js";
import { PartitionState } from "../gen/weir/v1/control_plane_pb.js";
import { assetHref, keyOf, keyText, metadataText, when } from "../format.js";
import { HealthBadge } from "../components/health.js";
import { useCall } from "../hooks.js";
import { useCan } from "../permissions.js";
import { Link, navigate } from "../router.js";

export const PARTITION_COLOURS: Record<number, string> = {
  [PartitionState.MISSING]: "#d1d5db",
  [PartitionState.MATERIALIZED]: "#2e9e5b",
  [PartitionState.FAILED]: "#d64545",
  [PartitionState.IN_PROGRESS]: "#4c8bf5",
};

// Buckets as wide as the bar is in pixels: the server merges finer runs.
const BAR_BUCKETS = 1200;

export function AssetDetail({ keyPath }: { keyPath: string }) {
  const key = useMemo(() => keyOf(keyPath), [keyPath]);
  const asset = useCall(() => api.getAsset({ key }), [keyPath]);
  const materializations = useCall(() => api.listMaterializations({ key, limit: 20 }), [keyPath]);
  const lineage = useCall(
    () => api.getAssetLineage({ key, upstreamDepth: 1, downstreamDepth: 1 }),
    [keyPath],
  );
  const health = useCall(() => api.getAssetHealth({ key }), [keyPath]);
  const definition = asset.data?.asset?.definition;
  const partitioned = Boolean(definition?.partitionsDef);
  const status = useCall(
    () => (partitioned ? bulkApi.getPartitionStatus({ key, maxBuckets: BAR_BUCKETS }) : Promise.resolve(undefined)),
    [keyPath, partitioned],
  );
  const can = useCan();
  const mayLaunch = can("launch", asset.data?.asset?.codeLocation);
  const [partition, setPartition] = useState("");
  const [problem, setProblem] = useState("");
  const [notice, setNotice] = useState("");

  const launch = async () => {
    setProblem("");
    try {
      const reply = await api.launchRun({ assetKeys: [key], partitionKey: partition });
      navigate(`/runs/${reply.run!.runId}`);
    } catch (error) {
      setProblem(errorText(error));
    }
  };
  const backfill = async (fromFailure: boolean) => {
    setProblem("");
    try {
      const reply = await api.launchBackfill({ selection: `key:${JSON.stringify(keyPath)}`, allPartitions: true, fromFailure });
      setNotice(`Backfill ${reply.backfillId} planned ${reply.runCount} runs.`);
      navigate(`/backfills/${reply.backfillId}`);
    } catch (error) {
      setProblem(errorText(error));
    }
  };

  const ranges: BarRange[] = (status.data?.ranges ?? []).map((r) => ({
    start: Number(r.start),
    end: Number(r.end),
    state: r.state,
  }));
  const total = Number(status.data?.counts?.total ?? 0n);
  const keyAt = async (index: number) =>
    (await api.getPartitionKeys({ key, offset: BigInt(index), limit: 1 })).partitionKeys[0] ?? "";
  const edges = lineage.data?.edges ?? [];
  const upstream = edges.filter((e) => keyText(e.downstream) === keyPath).map((e) => keyText(e.upstream));
  const downstream = edges.filter((e) => keyText(e.upstream) === keyPath).map((e) => keyText(e.downstream));

  return (
    <div className="page">
      <h1 data-testid="asset-title">
        {keyPath} <HealthBadge status={health.data?.health?.status} />
      </h1>
      {health.data?.health && (
        <Section title="Health">
          <dl className="facts" data-testid="asset-health">
            {(["materialization", "partitions", "checks", "freshness"] as const).flatMap((part) => {
              const component = health.data!.health![part];
              if (!component) return [];
              return [
                <dt key={`h-${part}`}>{part}</dt>,
                <dd key={`r-${part}`}>
                  <HealthBadge status={component.status} /> {component.reason}
                </dd>,
              ];
            })}
          </dl>
        </Section>
      )}
      <Loading when={asset.loading && !asset.data} />
      <Problem text={asset.error} />
      {definition && (
        <Section
          title="Definition"
          actions={
            <span className="actions">
              {partitioned && mayLaunch && (
                <input
                  placeholder="partition key"
                  value={partition}
                  onChange={(e) => setPartition(e.target.value)}
                />
              )}
              {definition.isExecutable && mayLaunch && (
                <button data-testid="launch-run" onClick={launch}>
                  Materialize
                </button>
              )}
              {partitioned && mayLaunch && (
                <>
                  <button onClick={() => backfill(false)}>Backfill all partitions</button>
                  <button onClick={() => backfill(true)}>Backfill failed and missing</button>
                </>
              )}
            </span>
          }
        >
          <Problem text={problem} />
          {notice && <div className="muted">{notice}</div>}
          <p>{definition.description || <span className="muted">No description.</span>}</p>
          <dl className="facts">
            <dt>Code location</dt>
            <dd>{asset.data?.asset?.codeLocation}</dd>
            <dt>Group</dt>
            <dd>
              <Link to={`/assets?group=${encodeURIComponent(definition.groupName)}`}>{definition.groupName}</Link>
            </dd>
            <dt>Kinds</dt>
            <dd>{definition.kinds.map((k) => <Badge key={k}>{k}</Badge>)}</dd>
            <dt>Owners</dt>
            <dd>{definition.owners.join(", ") || "—"}</dd>
            <dt>Tags</dt>
            <dd>
              {Object.entries(definition.tags).map(([k, v]) => (
                <Badge key={k}>{v ? `${k}=${v}` : k}</Badge>
              ))}
            </dd>
            <dt>Code version</dt>
            <dd>{definition.codeVersion || "—"}</dd>
            <dt>Jobs</dt>
            <dd>{definition.jobNames.join(", ") || "—"}</dd>
            <dt>Freshness</dt>
            <dd>{definition.freshnessPolicy?.kind.case ?? "no policy"}</dd>
            <dt>Automation</dt>
            <dd>{definition.automationCondition?.label || definition.automationCondition?.nodeType || "—"}</dd>
            {definition.metadata.flatMap((entry) => [
              <dt key={`l-${entry.label}`}>{entry.label}</dt>,
              <dd key={`v-${entry.label}`}>{metadataText(entry)}</dd>,
            ])}
          </dl>
        </Section>
      )}
      {partitioned && (
        <Section title="Partitions">
          <Problem text={status.error} />
          {status.data && (
            <>
              <PartitionBar
                ranges={ranges}
                total={total}
                colours={PARTITION_COLOURS}
                label={(s) => PartitionState[s]}
                keyAt={keyAt}
                testId="partition-bar"
              />
              <div className="muted">
                {String(status.data.counts?.materialized)} materialized · {String(status.data.counts?.failed)} failed ·{" "}
                {String(status.data.counts?.inProgress)} in progress · {String(status.data.counts?.missing)} missing of{" "}
                {total}
              </div>
            </>
          )}
        </Section>
      )}
      <Section title="Lineage">
        <div className="lineage-row">
          <div>
            <h3>Upstream</h3>
            {upstream.map((k) => (
              <div key={k}>
                <Link to={assetHref(k)}>{k}</Link>
              </div>
            ))}
          </div>
          <div className="lineage-self">{keyPath}</div>
          <div>
            <h3>Downstream</h3>
            {downstream.map((k) => (
              <div key={k}>
                <Link to={assetHref(k)}>{k}</Link>
              </div>
            ))}
          </div>
        </div>
        <Link to={`/lineage?focus=${encodeURIComponent(keyPath)}`}>Show in the global graph</Link>
      </Section>
      {(asset.data?.asset?.checks.length ?? 0) > 0 && (
        <Section title="Checks">
          <table>
            <tbody>
              {asset.data!.asset!.checks.map((check) => (
                <tr key={check.spec?.name}>
                  <td>{check.spec?.name}</td>
                  <td>
                    {check.latestEvaluation ? (
                      <Badge colour={check.latestEvaluation.evaluation?.passed ? "#2e9e5b" : "#d64545"}>
                        {check.latestEvaluation.evaluation?.passed ? "passed" : "failed"}
                      </Badge>
                    ) : (
                      "never evaluated"
                    )}
                  </td>
                  <td>{when(check.latestEvaluation?.timestamp)}</td>
                  <td>
                    <CheckHistory assetKey={key} name={check.spec?.name ?? ""} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
      )}
      <Section title="Materializations">
        <Problem text={materializations.error} />
        <table data-testid="materializations">
          <tbody>
            {(materializations.data?.materializations ?? []).map((m) => (
              <tr key={String(m.eventId)}>
                <td>{when(m.timestamp)}</td>
                <td>{m.partitionKey}</td>
                <td>
                  <Link to={`/runs/${m.runId}`}>{m.runId.slice(0, 8)}</Link>
                </td>
                <td>{(m.materialization?.metadata ?? []).map((e) => `${e.label}: ${metadataText(e)}`).join(" · ")}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {materializations.data?.materializations.length === 0 && <div className="muted">Never materialized.</div>}
      </Section>
    </div>
  );
}

/** A check's recent evaluations, newest first, as a row of pass/fail marks. */
function CheckHistory({ assetKey, name }: { assetKey: { path: string[] }; name: string }) {
  const history = useCall(() => api.listCheckEvaluations({ assetKey, checkName: name, limit: 20 }), [name]);
  return (
    <span className="check-history" data-testid="check-history">
      {(history.data?.evaluations ?? []).map((e) => (
        <span
          key={String(e.eventId)}
          title={`${when(e.timestamp)}${e.evaluation?.description ? ": " + e.evaluation.description : ""}`}
          style={{ color: e.evaluation?.passed ? "#2e9e5b" : "#d64545" }}
        >
          {e.evaluation?.passed ? "●" : "✕"}
        </span>
      ))}
    </span>
  );
}
