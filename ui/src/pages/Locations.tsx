import { useState } from "react";
import { api, errorText } from "../api.js";
import { Badge, ErrorDetail, Problem, Section } from "../components/common.js";
import { CodeLocationStatus } from "../gen/weir/v1/control_plane_pb.js";
import { when } from "../format.js";
import { useCall } from "../hooks.js";
import { useCan } from "../permissions.js";

const COLOURS: Record<number, string> = {
  [CodeLocationStatus.LOADED]: "#2e9e5b",
  [CodeLocationStatus.LOADING]: "#4c8bf5",
  [CodeLocationStatus.ERROR]: "#d64545",
  [CodeLocationStatus.UNREACHABLE]: "#c98a1b",
};

export function Locations() {
  const list = useCall(() => api.listCodeLocations({}), []);
  const can = useCan();
  const [busy, setBusy] = useState("");
  const [problem, setProblem] = useState("");
  const reload = async (name: string) => {
    setBusy(name);
    setProblem("");
    try {
      await api.reloadCodeLocation({ name });
      list.reload();
    } catch (error) {
      setProblem(errorText(error));
    } finally {
      setBusy("");
    }
  };
  return (
    <div className="page">
      <h1>Code locations</h1>
      <Problem text={list.error || problem} />
      {(list.data?.codeLocations ?? []).map((location) => (
        <Section
          key={location.name}
          title={location.name}
          actions={
            can("deploy_locations", location.name) && (
            <button disabled={busy === location.name} onClick={() => reload(location.name)}>
              {busy === location.name ? "Reloading…" : "Reload"}
            </button>
            )
          }
        >
          <Badge colour={COLOURS[location.status]}>{CodeLocationStatus[location.status]}</Badge>{" "}
          {location.assetCount} assets · {location.address} · updated {when(location.updateTime)}
          {location.runtime && (
            <span className="muted">
              {" "}
              · {location.runtime.language} {location.runtime.languageVersion}
            </span>
          )}
          <ErrorDetail error={location.error} />
        </Section>
      ))}
    </div>
  );
}
