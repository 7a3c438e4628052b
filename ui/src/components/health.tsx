import { Health } from "../gen/weir/v1/health_pb.js";
import { Badge } from "./common.js";

export const HEALTH_COLOURS: Record<number, string> = {
  [Health.HEALTHY]: "#2e9e5b",
  [Health.WARNING]: "#c98a1b",
  [Health.DEGRADED]: "#d64545",
  [Health.UNKNOWN]: "#8a8f98",
  [Health.NOT_APPLICABLE]: "#b6bac2",
};

export function HealthBadge({ status }: { status?: Health }) {
  if (status === undefined || status === Health.UNSPECIFIED) return null;
  return (
    <span data-health={Health[status]}>
      <Badge colour={HEALTH_COLOURS[status]}>{Health[status]}</Badge>
    </span>
  );
}
