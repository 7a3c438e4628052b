import { timestampDate, type Timestamp } from "@bufbuild/protobuf/wkt";
import type { AssetKey, MetadataEntry } from "./gen/weir/v1/common_pb.js";
import { RunStatus } from "./gen/weir/v1/runs_pb.js";
import { RunEventType } from "./gen/weir/v1/events_pb.js";

export function keyText(key?: AssetKey): string {
  return key ? key.path.join("/") : "";
}

export function keyOf(text: string): { path: string[] } {
  return { path: text.split("/").filter(Boolean) };
}

export function assetHref(key?: AssetKey | string): string {
  const text = typeof key === "string" ? key : keyText(key);
  return "/assets/" + text.split("/").map(encodeURIComponent).join("/");
}

export function when(ts?: Timestamp): string {
  if (!ts) return "—";
  return timestampDate(ts).toLocaleString();
}

export function millis(ts?: Timestamp): number | undefined {
  return ts ? timestampDate(ts).getTime() : undefined;
}

export function duration(start?: Timestamp, end?: Timestamp): string {
  const a = millis(start);
  if (a === undefined) return "—";
  const ms = (millis(end) ?? Date.now()) - a;
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function runStatusName(status: RunStatus): string {
  return RunStatus[status] ?? "UNKNOWN";
}

export const FINISHED = new Set([RunStatus.SUCCESS, RunStatus.FAILURE, RunStatus.CANCELED]);

export function eventTypeName(type: RunEventType): string {
  return RunEventType[type] ?? "UNKNOWN";
}

export function metadataText(entry: MetadataEntry): string {
  const value = entry.value?.value;
  if (!value || value.case === undefined) return "";
  switch (value.case) {
    case "json":
      return JSON.stringify(value.value);
    case "tableSchema":
      return value.value.columns.map((c) => `${c.name}: ${c.type}`).join(", ");
    case "asset":
      return keyText(value.value);
    case "timestamp":
      return when(value.value);
    case "null":
      return "null";
    default:
      return String(value.value);
  }
}
