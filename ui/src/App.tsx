import { useEffect, useState } from "react";
import { api, deployment, errorText, onUnauthenticated, setDeployment, setToken, token } from "./api.js";
import type { Deployment } from "./gen/weir/v1/tenancy_pb.js";
import { AssetDetail } from "./pages/AssetDetail.js";
import { Automation } from "./pages/Automation.js";
import { BackfillDetail, Backfills } from "./pages/Backfills.js";
import { Catalog } from "./pages/Catalog.js";
import { Lineage } from "./pages/Lineage.js";
import { Locations } from "./pages/Locations.js";
import { Overview } from "./pages/Overview.js";
import { RunDetail } from "./pages/RunDetail.js";
import { Runs } from "./pages/Runs.js";
import { PermissionsProvider } from "./permissions.js";
import { Link, useLocation } from "./router.js";

const NAV = [
  ["/", "Overview"],
  ["/assets", "Assets"],
  ["/lineage", "Lineage"],
  ["/runs", "Runs"],
  ["/backfills", "Backfills"],
  ["/automation", "Automation"],
  ["/locations", "Locations"],
] as const;

function Page({ path }: { path: string }) {
  const rest = (prefix: string) => path.slice(prefix.length);
  if (path === "/") return <Overview />;
  if (path === "/assets") return <Catalog />;
  if (path.startsWith("/assets/")) return <AssetDetail keyPath={rest("/assets/")} />;
  if (path === "/lineage") return <Lineage />;
  if (path === "/runs") return <Runs />;
  if (path.startsWith("/runs/")) return <RunDetail runId={rest("/runs/")} />;
  if (path === "/backfills") return <Backfills />;
  if (path.startsWith("/backfills/")) return <BackfillDetail backfillId={rest("/backfills/")} />;
  if (path === "/automation") return <Automation />;
  if (path === "/locations") return <Locations />;
  return <div className="page">No page at {path}.</div>;
}

/** Asks for an API token when the control plane requires one (or refused the one given). */
function TokenPrompt({ onDone }: { onDone: () => void }) {
  const [value, setValue] = useState("");
  return (
    <div className="modal">
      <form
        className="card"
        onSubmit={(event) => {
          event.preventDefault();
          setToken(value.trim());
          onDone();
        }}
      >
        <h2>Sign in</h2>
        <p>This control plane requires an API token (weir admin bootstrap makes the first).</p>
        <input
          name="token"
          type="password"
          autoFocus
          placeholder="token secret"
          value={value}
          onChange={(e) => setValue(e.target.value)}
        />
        <button type="submit">Use token</button>
        <p className="muted">Kept for this tab only (sessionStorage), sent as the bearer header.</p>
      </form>
    </div>
  );
}

function DeploymentSwitcher({ onChange }: { onChange: () => void }) {
  const [deployments, setDeployments] = useState<Deployment[]>([]);
  const [problem, setProblem] = useState("");
  useEffect(() => {
    api.listDeployments({}).then(
      (reply) => setDeployments(reply.deployments),
      (error) => setProblem(errorText(error)),
    );
  }, []);
  const current = deployment();
  return (
    <select
      className="deployments"
      data-testid="deployment-switcher"
      title={problem || "deployment"}
      value={current}
      onChange={(e) => {
        setDeployment(e.target.value);
        onChange();
      }}
    >
      {!deployments.some((d) => d.name === current) && <option value={current}>{current}</option>}
      {deployments.map((d) => (
        <option key={d.name} value={d.name}>
          {d.name}
          {d.baseDeployment ? ` (branch of ${d.baseDeployment})` : ""}
        </option>
      ))}
    </select>
  );
}

export function App() {
  const { path } = useLocation();
  const [asking, setAsking] = useState(false);
  // Bumped when the deployment or token changes: every page loads afresh.
  const [generation, setGeneration] = useState(0);
  useEffect(() => onUnauthenticated(() => setAsking(true)), []);
  const section = NAV.filter(([to]) => to !== "/" && path.startsWith(to)).map(([to]) => to)[0] ?? "/";
  return (
    <div className="app">
      <nav className="nav">
        <span className="brand">Weir</span>
        {NAV.map(([to, label]) => (
          <Link key={to} to={to} className={section === to ? "active" : ""}>
            {label}
          </Link>
        ))}
        <span className="spacer" />
        <DeploymentSwitcher key={generation} onChange={() => setGeneration((g) => g + 1)} />
        {token() && (
          <button
            className="link"
            onClick={() => {
              setToken("");
              setGeneration((g) => g + 1);
            }}
          >
            Sign out
          </button>
        )}
      </nav>
      <main key={`${generation}`}>
        <PermissionsProvider>
          <Page path={path} />
        </PermissionsProvider>
      </main>
      {asking && (
        <TokenPrompt
          onDone={() => {
            setAsking(false);
            setGeneration((g) => g + 1);
          }}
        />
      )}
    </div>
  );
}
