import { useMemo } from "react";
import { api, bulkApi } from "../api.js";
import { HEALTH_COLOURS } from "../components/health.js";
import { Health } from "../gen/weir/v1/health_pb.js";
import { keyText } from "../format.js";
import { Loading, Problem } from "../components/common.js";
import { GraphCanvas } from "../components/GraphCanvas.js";
import { assetHref } from "../format.js";
import { useCall } from "../hooks.js";
import { navigate, useLocation } from "../router.js";

// The global lineage graph, laid out by the server once per snapshot.
export function Lineage() {
  const { query } = useLocation();
  const layout = useCall(async () => {
    const started = performance.now();
    const reply = await bulkApi.getAssetGraphLayout({});
    performance.measure("graph-layout-fetch", { start: started, end: performance.now() });
    return reply;
  }, []);
  const focus = query.get("focus") ?? undefined;
  // Colour by health: the unhealthy assets are few, so ask for just those (a page each).
  const unhealthy = useCall(async () => {
    const found = new Map<string, Health>();
    for (const status of [Health.WARNING, Health.DEGRADED]) {
      const page = await api.listAssets({ health: [status], limit: 1000 });
      for (const asset of page.assets) found.set(keyText(asset.key), status);
    }
    return found;
  }, []);
  const alarm = useMemo(() => {
    const colours = new Map<number, string>();
    if (!layout.data || !unhealthy.data) return colours;
    const index = new Map(layout.data.keys.map((key, i) => [key, i]));
    for (const [key, status] of unhealthy.data) {
      const i = index.get(key);
      if (i !== undefined) colours.set(i, HEALTH_COLOURS[status]);
    }
    return colours;
  }, [layout.data, unhealthy.data]);
  return (
    <div className="page page-full">
      <div className="graph-head">
        <h1>Lineage</h1>
        <span className="muted">
          {layout.data ? `${layout.data.keys.length} assets · ${layout.data.groups.length} groups · ` : ""}
          drag to pan, wheel to zoom, click a group's title to fold it, click an asset to open it
        </span>
      </div>
      <Loading when={layout.loading && !layout.data} />
      <Problem text={layout.error} />
      {layout.data && layout.data.keys.length === 0 && <div className="muted">No assets are defined.</div>}
      {layout.data && layout.data.keys.length > 0 && (
        <GraphCanvas
          layout={layout.data}
          focus={focus}
          alarm={alarm}
          onOpen={(key) => navigate(assetHref(key))}
        />
      )}
    </div>
  );
}
