'use strict';
// A Weir code location in JavaScript: serves weir.v1.CodeLocationService and the standard
// grpc.health.v1.Health on WEIR_CODESERVER_HOST:WEIR_CODESERVER_PORT (0 picks a free port),
// then prints `WEIR_CODESERVER_READY port=<port>` so the control plane knows where it is.
//
//   WEIR_CODESERVER_PORT=4266 node server.js

const crypto = require('node:crypto');
const os = require('node:os');
const { HealthImplementation } = require('grpc-health-check');
const { grpc, CodeLocationService } = require('./protos');
const { buildSnapshot, snapshotParts } = require('./snapshot');
const { Run, RunRequestError } = require('./run');
const wire = require('./wire');
const { version } = require('./package.json');

const SERVICE_NAME = 'weir.v1.CodeLocationService';
const SHUTDOWN_GRACE_MS = 5000;

/**
 * Load the user's definitions. A failure is kept and reported by the RPCs (the control
 * plane shows the location as ERROR with it); it never stops the server.
 */
function loadLocation() {
  const loadTime = wire.timestamp();
  try {
    const { assets } = require('./definitions');
    return { ...buildSnapshot(assets), loadTime, loadError: null };
  } catch (error) {
    console.error(`Loading the definitions failed: ${error.stack}`);
    return { loadTime, loadError: wire.errorMessage(error) };
  }
}

function codeLocationService(location) {
  const serverId = crypto.randomUUID(); // new on every start: runs of an old process are gone
  const workerId = (runId) => `node:${process.pid}@${os.hostname()}/${runId}`;
  const runs = new Map(); // run_id -> Run, for as long as this process lives
  const knownRun = (runId) => {
    const run = runs.get(runId);
    if (!run) throw rpcError(grpc.status.NOT_FOUND, `This code location has no run '${runId}'`);
    return run;
  };
  const requireLoaded = () => {
    if (location.loadError) {
      throw rpcError(grpc.status.FAILED_PRECONDITION, location.loadError.message);
    }
  };

  const handlers = {
    GetLocationInfo: unary(() => ({
      serverId,
      runtime: {
        language: 'javascript',
        languageVersion: process.version,
        sdk: 'weir-node-location',
        sdkVersion: version,
      },
      contentHash: location.snapshot?.contentHash ?? '',
      loadError: location.loadError,
      loadTime: location.loadTime,
    })),

    GetDefinitions: unary(() =>
      location.loadError ? { loadError: location.loadError } : { definitions: location.snapshot },
    ),

    StreamDefinitions(call) {
      if (location.loadError) {
        call.write({ loadError: location.loadError });
      } else {
        for (const part of snapshotParts(location.snapshot)) call.write({ part });
      }
      call.end();
    },

    EvaluateSensor: unary(({ sensorName }) => {
      requireLoaded();
      throw rpcError(grpc.status.NOT_FOUND, `No sensor '${sensorName}': this location has none`);
    }),

    EvaluateSchedule: unary(({ scheduleName }) => {
      requireLoaded();
      const message = `No schedule '${scheduleName}': this location has none`;
      throw rpcError(grpc.status.NOT_FOUND, message);
    }),

    // Accept, start, and answer at once; the run reports its own events.
    ExecuteRun: unary((request) => {
      requireLoaded();
      const accepted = runs.get(request.runId);
      if (accepted) return { workerId: accepted.workerId }; // a retried call starts nothing
      let run;
      try {
        run = new Run(request, location.order, workerId(request.runId));
      } catch (error) {
        if (error instanceof RunRequestError) {
          throw rpcError(grpc.status.INVALID_ARGUMENT, error.message);
        }
        throw error;
      }
      runs.set(request.runId, run);
      run.start();
      return { workerId: run.workerId };
    }),

    CancelRun: unary(({ runId }) => ({ wasRunning: knownRun(runId).cancel() })),

    GetRunStatus: unary(({ runId }) => knownRun(runId).describe()),
  };
  return { handlers, runs };
}

/** A unary handler from a function of the request; a thrown rpcError becomes its status. */
function unary(handle) {
  return (call, callback) => {
    try {
      callback(null, handle(call.request));
    } catch (error) {
      if (error.code === undefined) console.error(error);
      callback({ code: error.code ?? grpc.status.INTERNAL, details: error.message });
    }
  };
}

function rpcError(code, message) {
  return Object.assign(new Error(message), { code });
}

function main() {
  const host = process.env.WEIR_CODESERVER_HOST || '127.0.0.1';
  const port = process.env.WEIR_CODESERVER_PORT || '0';
  const location = loadLocation();
  const { handlers, runs } = codeLocationService(location);

  const server = new grpc.Server();
  server.addService(CodeLocationService, handlers);
  // SERVING even after a load error: the RPCs report it, and the process stays up.
  const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);

  server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (error, bound) => {
    if (error) {
      console.error(`Cannot listen on ${host}:${port}: ${error.message}`);
      process.exit(1);
    }
    const { snapshot } = location;
    const what = snapshot
      ? `${snapshot.assets.length} assets (${snapshot.contentHash})`
      : 'a load error';
    console.error(`Serving ${what} on ${host}:${bound}`);
    console.log(`WEIR_CODESERVER_READY port=${bound}`);
  });

  // On SIGTERM or Ctrl-C: stop taking calls, cancel live runs, give them a moment to report.
  const shutdown = async () => {
    health.setStatus('', 'NOT_SERVING');
    health.setStatus(SERVICE_NAME, 'NOT_SERVING');
    const live = [...runs.values()].filter((run) => run.alive);
    for (const run of live) run.cancel();
    const grace = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_GRACE_MS).unref());
    await Promise.race([Promise.all(live.map((run) => run.done)), grace]);
    server.tryShutdown(() => process.exit(0));
    setTimeout(() => process.exit(0), SHUTDOWN_GRACE_MS).unref();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
  watchControlPlane(shutdown);
}

// A control plane that started us and then died (kill -9) cannot stop us: notice it by the
// pid it gave us (not our parent's, which may be a wrapper such as `npm start`), and stop.
function watchControlPlane(shutdown) {
  const pid = Number(process.env.WEIR_CODESERVER_PARENT_PID || 0);
  if (!Number.isInteger(pid) || pid <= 1) return;
  const timer = setInterval(() => {
    try {
      process.kill(pid, 0); // signal 0: only asks whether the process exists
    } catch (error) {
      if (error.code === 'EPERM') return; // it exists, under another user
      clearInterval(timer);
      console.error('The process that started this code server is gone; shutting down');
      shutdown();
    }
  }, 1000);
  timer.unref();
}

main();
