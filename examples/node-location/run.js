'use strict';
// One run, executed in this process: the selected assets in dependency order, every event
// reported as it happens. (A production SDK would start a child process per run, so that a
// stuck asset cannot hold up the server; in-process keeps this example short.)
//
// Values are JSON files under $WEIR_HOME/storage, the layout of Weir's Python filesystem
// I/O manager, so a run can read an upstream asset that it does not recompute.

const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { EventReporter } = require('./reporter');
const wire = require('./wire');

const STORAGE = path.join(process.env.WEIR_HOME || path.join(os.homedir(), '.weir'), 'storage');
const DEFAULT_HEARTBEAT_MS = 10_000;

/** A request this location cannot run; the server answers INVALID_ARGUMENT with it. */
class RunRequestError extends Error {
  name = 'RunRequestError';
}

class Run {
  /**
   * Plan the run from an ExecuteRunRequest; throws RunRequestError naming what is wrong.
   *
   *   const run = new Run(request, order, 'node:42@host');
   *   run.start(); // returns at once
   */
  constructor(request, order, workerId) {
    this.request = request;
    this.workerId = workerId;
    this.steps = plan(request, order);
    this.checks = selectChecks(request, this.steps);
    this.config = wire.structToObject(request.runConfig);
    this.status = 'STARTING'; // a weir.v1.RunStatus without its prefix
    this.alive = true;
    this.canceled = false;
    this.abort = new AbortController();
  }

  start() {
    const { request } = this;
    this.reporter = new EventReporter({
      runId: request.runId,
      workerId: this.workerId,
      address: request.reportingAddress,
      token: request.reportingToken,
      deployment: request.deployment,
      heartbeatMs: wire.durationMs(request.heartbeatInterval) || DEFAULT_HEARTBEAT_MS,
      onCancel: () => this.cancel(),
    });
    this.done = this._execute();
  }

  /** Stop starting steps and interrupt the running one; false if the run already ended. */
  cancel() {
    if (!this.alive || this.canceled) return this.alive;
    this.canceled = true;
    this.status = 'CANCELING';
    this.abort.abort(new Error('the run was canceled'));
    return true;
  }

  /** A GetRunStatusResponse. */
  describe() {
    return {
      status: `RUN_STATUS_${this.status}`,
      workerAlive: this.alive,
      workerId: this.workerId,
      lastSequence: this.reporter?.lastSequence ?? 0,
      acknowledgedSequence: this.reporter?.acknowledgedSequence ?? 0,
    };
  }

  async _execute() {
    const emit = (type, fields) =>
      this.reporter.emit({ eventType: `RUN_EVENT_TYPE_${type}`, ...fields });
    try {
      const keys = this.steps.map((asset) => asset.key).join(', ');
      emit('RUN_STARTED', { message: `Started the run of ${keys} in worker ${this.workerId}` });
      this.status = 'STARTED';
      for (const asset of this.steps) {
        emit('ASSET_MATERIALIZATION_PLANNED', {
          message: `Planned ${asset.key}`,
          materializationPlanned: { assetKey: wire.assetKey(asset.key) },
        });
      }
      for (const { asset, check } of this.checks) {
        emit('ASSET_CHECK_EVALUATION_PLANNED', {
          message: `Planned check ${asset.key}:${check.name}`,
          checkEvaluationPlanned: { assetKey: wire.assetKey(asset.key), checkName: check.name },
        });
      }
      const failures = await this._steps(emit);
      this._finish(emit, failures);
    } catch (error) {
      // A bug here, not in an asset: the run fails as a whole.
      const summary = String(error); // "Name: message"
      emit('RUN_FAILURE', {
        message: `The run worker failed: ${summary}`,
        runFailure: {
          reason: 'RUN_FAILURE_REASON_RUN_WORKER_ERROR',
          error: wire.errorMessage(error),
        },
      });
      this.status = 'FAILURE';
    }
    await this.reporter.finish();
    this.alive = false;
  }

  /** Run each step in order; returns the failed ones as [{ step, summary }]. */
  async _steps(emit) {
    const values = new Map(); // computed in this run, by key
    const missing = new Map(); // key -> why it was not materialized, for its downstream
    const failures = [];
    for (const asset of this.steps) {
      const step = wire.stepKey(asset.key);
      const blocker = (asset.deps ?? []).find((dep) => missing.has(dep));
      if (this.canceled || blocker) {
        const why = this.canceled
          ? 'the run was canceled'
          : `upstream ${blocker} ${missing.get(blocker)}`;
        emit('STEP_SKIPPED', { stepKey: step, message: `Skipped ${asset.key}: ${why}` });
        missing.set(asset.key, 'was skipped');
        continue;
      }
      const outcome = await this._step(asset, step, values, emit);
      if (outcome.failed) failures.push({ step, summary: outcome.failed });
      if (outcome.missing) missing.set(asset.key, outcome.missing);
    }
    return failures;
  }

  async _step(asset, step, values, emit) {
    emit('STEP_START', { stepKey: step, message: `Started computing ${asset.key}` });
    let result;
    try {
      const inputs = {};
      for (const dep of asset.deps ?? []) {
        inputs[dep] = values.has(dep) ? values.get(dep) : loadValue(dep);
      }
      const log = (text) =>
        emit('LOG', {
          stepKey: step,
          message: text,
          log: { level: 'LOG_LEVEL_INFO', text, loggerName: asset.key },
        });
      result = await asset.compute({
        inputs,
        config: this.config.ops?.[step]?.config ?? {},
        log,
        signal: this.abort.signal,
      });
      result ??= {};
      storeValue(asset.key, result.value);
    } catch (thrown) {
      const error = wire.errorMessage(thrown);
      const summary = error.className ? `${error.className}: ${error.message}` : error.message;
      emit('STEP_FAILURE', {
        stepKey: step,
        message: `Step ${step} failed: ${summary}`,
        stepFailure: { error, attempt: 1 },
      });
      return { failed: summary, missing: 'failed' };
    }
    values.set(asset.key, result.value);
    emit('ASSET_MATERIALIZATION', {
      stepKey: step,
      message: `Materialized ${asset.key}`,
      materialization: {
        assetKey: wire.assetKey(asset.key),
        metadata: wire.metadataEntries(result.metadata),
      },
    });
    const blocked = this._checks(asset, step, result.value, emit);
    emit('STEP_SUCCESS', { stepKey: step, message: `Finished computing ${asset.key}` });
    return { missing: blocked && `failed its blocking check ${blocked}` };
  }

  /** Evaluate the asset's selected checks; returns the name of a failed blocking one. */
  _checks(asset, step, value, emit) {
    let blocked;
    for (const { check } of this.checks.filter((selected) => selected.asset === asset)) {
      let outcome;
      try {
        outcome = check.evaluate(value);
      } catch (error) {
        outcome = { passed: false, metadata: { error: String(error) } }; // "Name: message"
      }
      const passed = Boolean(outcome.passed);
      emit('ASSET_CHECK_EVALUATION', {
        stepKey: step,
        message: `Check ${asset.key}:${check.name} ${passed ? 'passed' : 'failed'}`,
        checkEvaluation: {
          assetKey: wire.assetKey(asset.key),
          checkName: check.name,
          passed,
          severity: 'ASSET_CHECK_SEVERITY_ERROR',
          metadata: wire.metadataEntries(outcome.metadata),
          blocking: Boolean(check.blocking),
        },
      });
      if (!passed && check.blocking) blocked ??= check.name;
    }
    return blocked;
  }

  _finish(emit, failures) {
    if (this.canceled) {
      emit('RUN_CANCELED', { message: 'The run was canceled' });
      this.status = 'CANCELED';
    } else if (failures.length > 0) {
      const [first] = failures;
      const more = failures.length > 1 ? ` (and ${failures.length - 1} more failed steps)` : '';
      emit('RUN_FAILURE', {
        message: `Step ${first.step} failed: ${first.summary}${more}`,
        runFailure: {
          reason: 'RUN_FAILURE_REASON_STEP_FAILURE',
          failedStepKeys: failures.map((failure) => failure.step),
        },
      });
      this.status = 'FAILURE';
    } else {
      emit('RUN_SUCCESS', { message: 'The run succeeded' });
      this.status = 'SUCCESS';
    }
  }
}

/** The selected assets, in dependency order. */
function plan(request, order) {
  if (request.jobName) {
    throw new RunRequestError(`This code location defines no jobs, so no job '${request.jobName}'`);
  }
  const partition = request.partitionKey || request.partitionRange?.start;
  if (partition) {
    throw new RunRequestError(`No asset here is partitioned: there is no partition '${partition}'`);
  }
  const selected = new Set(request.assetKeys.map(wire.keyString));
  const known = new Set(order.map((asset) => asset.key));
  const unknown = [...selected].filter((key) => !known.has(key));
  if (unknown.length > 0) {
    const names = unknown.map((key) => `'${key}'`).join(', ');
    throw new RunRequestError(`This code location has no asset ${names}`);
  }
  if (selected.size === 0) throw new RunRequestError('The run selects no assets: set asset_keys');
  if (!request.reportingAddress) {
    throw new RunRequestError("Set reporting_address: where the run's events are to be reported");
  }
  return order.filter((asset) => selected.has(asset.key));
}

/** The checks to evaluate as [{ asset, check }]: those named, else all of the selected assets. */
function selectChecks(request, steps) {
  const all = steps.flatMap((asset) => (asset.checks ?? []).map((check) => ({ asset, check })));
  if (request.assetCheckKeys.length === 0) return all;
  const id = (key, name) => `${key}:${name}`;
  const wanted = new Set(request.assetCheckKeys.map((c) => id(wire.keyString(c.assetKey), c.name)));
  const known = new Set(all.map(({ asset, check }) => id(asset.key, check.name)));
  const missing = [...wanted].filter((name) => !known.has(name));
  if (missing.length > 0) {
    throw new RunRequestError(`The run's assets have no check ${missing.join(', ')}`);
  }
  return all.filter(({ asset, check }) => wanted.has(id(asset.key, check.name)));
}

function valuePath(key) {
  return `${path.join(STORAGE, ...key.split('/'))}.json`;
}

function storeValue(key, value) {
  const file = valuePath(key);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Written aside and renamed into place, so a crash never leaves half a value.
  const aside = `${file}.${crypto.randomUUID()}.tmp`;
  fs.writeFileSync(aside, JSON.stringify(value ?? null));
  fs.renameSync(aside, file);
}

function loadValue(key) {
  const file = valuePath(key);
  if (!fs.existsSync(file)) {
    throw new Error(`Asset '${key}' has not been materialized yet (no ${file}); run it first`);
  }
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

module.exports = { Run, RunRequestError };
