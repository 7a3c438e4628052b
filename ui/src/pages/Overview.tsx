import { api } from "../api.js";
import { Problem, RunBadge, RunRow, Section } from "../components/common.js";
import { RunStatus } from "../gen/weir/v1/runs_pb.js";
import { CodeLocationStatus } from "../gen/weir/v1/control_plane_pb.js";
import { assetHref, keyText } from "../format.js";
import { HealthBadge } from "../components/health.js";
import { Health } from "../gen/weir/v1/health_pb.js";
import { useCall, useInterval } from "../hooks.js";
import { Link } from "../router.js";

// The overview: assets by health, recent runs, unhealthy assets, code locations in trouble.
export function Overview() {
  const runs = useCall(() => api.listRuns({ limit: 25 }), []);
  const locations = useCall(() => api.listCodeLocations({}), []);
  const health = useCall(() => api.getDeploymentHealth({}), []);
  const degraded = useCall(() => api.listAssets({ health: [Health.DEGRADED, Health.WARNING], limit: 50 }), []);
  useInterval(runs.reload, 5000);
  const troubled = (locations.data?.codeLocations ?? []).filter(
    (l) => l.status === CodeLocationStatus.ERROR || l.status === CodeLocationStatus.UNREACHABLE,
  );
  const counts = new Map<RunStatus, number>();
  for (const run of runs.data?.runs ?? []) counts.set(run.status, (counts.get(run.status) ?? 0) + 1);
  return (
    <div className="page">
      <h1>Overview</h1>
      <div className="tiles" data-testid="health-summary">
        {(health.data?.health ?? [])
          .filter((h) => h.count > 0n)
          .map((h) => (
            <div className="tile" key={h.status}>
              <HealthBadge status={h.status} /> <b>{String(h.count)}</b> of {String(health.data?.assetCount)} assets
            </div>
          ))}
      </div>
      <div className="tiles">
        {[...counts].map(([status, count]) => (
          <div className="tile" key={status}>
            <RunBadge status={status} /> <b>{count}</b> of the last {runs.data?.runs.length} runs
          </div>
        ))}
        <div className="tile">
          <b>{troubled.length}</b> code locations with errors ·{" "}
          <Link to="/locations">locations</Link>
        </div>
      </div>
      <Section title="Recent runs" actions={<Link to="/runs">all runs</Link>}>
        <Problem text={runs.error} />
        <table>
          <tbody>
            {(runs.data?.runs ?? []).map((run) => (
              <RunRow key={run.runId} run={run} />
            ))}
          </tbody>
        </table>
      </Section>
      <Section title="Unhealthy assets">
        <Problem text={degraded.error} />
        {degraded.data?.assets.length === 0 && <div className="muted">Every asset is healthy or not yet known.</div>}
        <ul data-testid="unhealthy-assets">
          {(degraded.data?.assets ?? []).map((a) => (
            <li key={keyText(a.key)}>
              <HealthBadge status={a.health?.status} /> <Link to={assetHref(a.key)}>{keyText(a.key)}</Link>{" "}
              <span className="muted">{a.health?.materialization?.reason || a.health?.checks?.reason}</span>
            </li>
          ))}
        </ul>
      </Section>
      {troubled.length > 0 && (
        <Section title="Code locations with errors">
          {troubled.map((l) => (
            <div key={l.name} className="problem">
              {l.name}: {l.error?.message}
            </div>
          ))}
        </Section>
      )}
    </div>
  );
}
