// Shared by the browser tests and the browser benchmarks: a real `weir dev` on free
// ports with its own WEIR_HOME, and Debian's chromium driven by playwright-core.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const ARTIFACTS = process.env.WEIR_UI_ARTIFACTS ?? join(ROOT, "ui", "artifacts");

/** Starts `weir dev -f defsFile`; resolves with { url, stop } once it is ready. */
export function startWeir(defsFile, extraArgs = []) {
  const home = mkdtempSync(join(tmpdir(), "weir-ui-"));
  const child = spawn(
    join(ROOT, ".venv", "bin", "weir"),
    ["dev", "-f", defsFile, "--http-port", "0", "--grpc-port", "0", ...extraArgs],
    { env: { ...process.env, WEIR_HOME: home }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`weir dev did not get ready in 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk) => {
      output += chunk;
      const ready = /WEIR_CONTROLPLANE_READY grpc=\d+ http=(\d+)/.exec(output);
      if (ready) {
        clearTimeout(timer);
        resolvePromise({
          url: `http://127.0.0.1:${ready[1]}`,
          home,
          output: () => output,
          stop: () =>
            new Promise((done) => {
              if (child.exitCode !== null) return done();
              child.once("exit", done);
              child.kill("SIGTERM");
              setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
            }),
        });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => (output += chunk));
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`weir dev exited with ${code}:\n${output}`));
    });
  });
}

/** `weir admin bootstrap` on a running weir dev's home: the organization admin's secret. */
export function bootstrapToken(home) {
  const done = spawnSync(join(ROOT, ".venv", "bin", "weir"), ["admin", "bootstrap"], {
    env: { ...process.env, WEIR_HOME: home },
    encoding: "utf8",
  });
  const secret = done.stdout.trim().split("\n").pop();
  if (done.status !== 0 || !secret.startsWith("weir_")) throw new Error(`bootstrap failed: ${done.stdout}${done.stderr}`);
  return secret;
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export function screenshotPath(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, `${name}.png`);
}

/** A unary Connect call from the page's origin, as the UI itself makes them. */
export async function callApi(url, method, body) {
  const reply = await fetch(`${url}/weir.v1.ControlPlaneService/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const json = await reply.json();
  if (!reply.ok) throw new Error(`${method}: ${reply.status} ${JSON.stringify(json)}`);
  return json;
}
