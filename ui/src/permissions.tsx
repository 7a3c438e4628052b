// What the caller's role allows in the current deployment (GetCallerPermissions), so
// pages offer only the actions that would succeed; the server checks every call anyway.
import { createContext, useContext, useEffect, useState, type ReactNode } from "react";
import { api } from "./api.js";
import type { GetCallerPermissionsResponse } from "./gen/weir/v1/control_plane_pb.js";

export type PermissionName = "read" | "launch" | "edit" | "deploy_locations" | "manage_access";

const Context = createContext<GetCallerPermissionsResponse | undefined>(undefined);

export function PermissionsProvider({ children }: { children: ReactNode }) {
  const [held, setHeld] = useState<GetCallerPermissionsResponse>();
  useEffect(() => {
    api.getCallerPermissions({}).then(setHeld, () => setHeld(undefined));
  }, []);
  return <Context.Provider value={held}>{children}</Context.Provider>;
}

/** Whether the caller holds `permission` (on `codeLocation`, or on any when omitted). */
export function useCan(): (permission: PermissionName, codeLocation?: string) => boolean {
  const held = useContext(Context);
  return (permission, codeLocation) => {
    const entry = held?.permissions.find((p) => p.permission === permission);
    if (!entry) return false;
    return entry.allCodeLocations || codeLocation === undefined || entry.codeLocations.includes(codeLocation);
  };
}
