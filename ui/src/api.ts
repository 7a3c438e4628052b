// The typed Connect client for the control plane's API, generated from protos/. Every
// call carries the chosen deployment and, when one was given, the bearer token.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { ControlPlaneService } from "./gen/weir/v1/control_plane_pb.js";

const TOKEN_KEY = "weir.token";
const DEPLOYMENT_KEY = "weir.deployment";

// sessionStorage: the token lives as long as the tab, never in a cookie or on disk.
export function token(): string {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

export function setToken(value: string): void {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export function deployment(): string {
  return sessionStorage.getItem(DEPLOYMENT_KEY) ?? "prod";
}

export function setDeployment(name: string): void {
  sessionStorage.setItem(DEPLOYMENT_KEY, name);
}

const headers: Interceptor = (next) => async (request) => {
  request.header.set("x-weir-deployment", deployment());
  const secret = token();
  if (secret) request.header.set("authorization", `Bearer ${secret}`);
  return next(request);
};

const transport = createConnectTransport({
  baseUrl: window.location.origin,
  interceptors: [headers],
});

export const api = createClient(ControlPlaneService, transport);

// Bulk payloads (graph layouts, partition ranges) in the binary protobuf format: a
// fraction of the JSON's size, and no JSON to write on the server or parse here.
export const bulkApi = createClient(
  ControlPlaneService,
  createConnectTransport({ baseUrl: window.location.origin, interceptors: [headers], useBinaryFormat: true }),
);

// Listeners told when a call fails for want of a (valid) token: the app then asks for one.
const unauthenticated = new Set<() => void>();

export function onUnauthenticated(listener: () => void): () => void {
  unauthenticated.add(listener);
  return () => unauthenticated.delete(listener);
}

export function errorText(error: unknown): string {
  const failure = ConnectError.from(error);
  if (failure.code === Code.Unauthenticated) unauthenticated.forEach((listener) => listener());
  return failure.rawMessage || failure.message;
}
