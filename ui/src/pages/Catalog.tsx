import { useEffect, useState } from "react";
import { api, errorText } from "../api.js";
import { Problem, Section } from "../components/common.js";
import type { Asset } from "../gen/weir/v1/control_plane_pb.js";
import { assetHref, keyText, when } from "../format.js";
import { HealthBadge } from "../components/health.js";
import { Health } from "../gen/weir/v1/health_pb.js";
import { Link, setQuery, useLocation } from "../router.js";

const FILTERS = ["selection", "group", "tag", "owner", "kind"] as const;

// The asset catalog: server-side filters (the selection language, group, tag, owner,
// kind) kept in the URL, pages by cursor, and a search box over the loaded keys.
export function Catalog() {
  const { query } = useLocation();
  const values = Object.fromEntries(FILTERS.map((name) => [name, query.get(name) ?? ""]));
  const [draft, setDraft] = useState(values);
  const [assets, setAssets] = useState<Asset[]>([]);
  const [cursor, setCursor] = useState("");
  const [problem, setProblem] = useState("");
  const [loading, setLoading] = useState(false);
  const search = query.get("q") ?? "";
  const health = query.get("health") ?? "";
  const requestKey = FILTERS.map((name) => values[name]).join("\u0000") + health;

  const load = async (from: string) => {
    setLoading(true);
    try {
      const page = await api.listAssets({
        ...values,
        health: health ? [Health[health as keyof typeof Health]] : [],
        cursor: from,
        limit: 200,
      });
      setAssets((old) => (from ? old.concat(page.assets) : page.assets));
      setCursor(page.nextCursor);
      setProblem("");
    } catch (error) {
      setProblem(errorText(error));
      if (!from) setAssets([]);
    } finally {
      setLoading(false);
    }
  };
  useEffect(() => {
    setDraft(values);
    void load("");
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [requestKey]);

  const shown = search ? assets.filter((a) => keyText(a.key).includes(search)) : assets;
  return (
    <div className="page">
      <h1>Assets</h1>
      <form
        className="filters"
        onSubmit={(event) => {
          event.preventDefault();
          setQuery(draft);
        }}
      >
        {FILTERS.map((name) => (
          <label key={name}>
            {name}
            <input
              name={name}
              value={draft[name]}
              placeholder={name === "selection" ? "e.g. orders+ or group:finance" : ""}
              onChange={(e) => setDraft({ ...draft, [name]: e.target.value })}
            />
          </label>
        ))}
        <label>
          health
          <select name="health" value={health} onChange={(e) => setQuery({ health: e.target.value })}>
            <option value="">any</option>
            {[Health.HEALTHY, Health.WARNING, Health.DEGRADED, Health.UNKNOWN, Health.NOT_APPLICABLE].map((h) => (
              <option key={h} value={Health[h]}>
                {Health[h]}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">Filter</button>
        <label>
          search
          <input
            name="q"
            value={search}
            placeholder="key contains"
            onChange={(e) => setQuery({ q: e.target.value })}
          />
        </label>
      </form>
      <Problem text={problem} />
      <Section title={`${shown.length}${cursor ? "+" : ""} assets`}>
        <table data-testid="asset-table">
          <thead>
            <tr>
              <th>Key</th>
              <th>Health</th>
              <th>Group</th>
              <th>Kinds</th>
              <th>Owners</th>
              <th>Code location</th>
              <th>Last materialized</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((asset) => (
              <tr key={keyText(asset.key)}>
                <td>
                  <Link to={assetHref(asset.key)} data-testid="asset-link">
                    {keyText(asset.key)}
                  </Link>
                </td>
                <td>
                  <HealthBadge status={asset.health?.status} />
                </td>
                <td>{asset.definition?.groupName}</td>
                <td>{asset.definition?.kinds.join(", ")}</td>
                <td>{asset.definition?.owners.join(", ")}</td>
                <td>{asset.codeLocation}</td>
                <td>{when(asset.latestMaterialization?.timestamp)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {cursor && (
          <button disabled={loading} onClick={() => load(cursor)}>
            Load more
          </button>
        )}
      </Section>
    </div>
  );
}
