'use strict';
// Delivers one run's events to the control plane's RunReportingService: numbered 1, 2, 3, …
// without gaps, sent in batches, kept until acknowledged and sent again after a failure,
// with a heartbeat every interval until the last event is stored.

const { grpc, RunReportingClient } = require('./protos');
const { timestamp } = require('./wire');

const { status: Status } = grpc;
const BATCH_DELAY_MS = 20; // send what has accumulated this long after the first event …
const BATCH_MAX_EVENTS = 1000; // … or at once when this many are waiting
const CALL_TIMEOUT_MS = 10_000;
const BACKOFF_MS = { first: 50, max: 2000 };
const GIVE_UP_AFTER_MS = 60 * 60 * 1000; // of the control plane being unreachable
const REFUSALS_TOLERATED = 5; // bad token, unknown run: retrying will not help for long
const TRANSIENT = new Set([Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED]);
// After these the control plane should hear at once: a step or the run ended.
const URGENT = new Set(
  ['RUN_STARTED', 'STEP_SUCCESS', 'STEP_FAILURE', 'STEP_SKIPPED']
    .concat(['RUN_SUCCESS', 'RUN_FAILURE', 'RUN_CANCELED'])
    .map((type) => `RUN_EVENT_TYPE_${type}`),
);

/**
 * const reporter = new EventReporter({ runId, workerId, address, heartbeatMs: 10_000 });
 * reporter.emit({ eventType: 'RUN_EVENT_TYPE_RUN_STARTED', message: 'Started' });
 * const delivered = await reporter.finish();
 */
class EventReporter {
  constructor({ runId, workerId, address, token = '', deployment = '', heartbeatMs, onCancel }) {
    this.runId = runId;
    this.workerId = workerId;
    this.onCancel = onCancel ?? (() => {});
    this.lastSequence = 0;
    this.acknowledgedSequence = 0;
    this.metadata = new grpc.Metadata();
    if (token) this.metadata.set('authorization', `Bearer ${token}`);
    if (deployment) this.metadata.set('x-weir-deployment', deployment);
    this.client = new RunReportingClient(address, grpc.credentials.createInsecure(), {
      // Reconnect quickly once a restarted control plane listens again.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
    });
    this._pending = []; // emitted, not yet acknowledged, in sequence order
    this._urgentUpTo = 0;
    this._timer = null;
    this._sending = false;
    this._retrying = false; // waiting out a backoff: new events do not cut it short
    this._gaveUp = false;
    this._closing = false;
    this._failures = 0;
    this._failingSince = 0;
    this._refusals = 0;
    this._drained = new Promise((resolve) => (this._settle = resolve));
    this._heartbeat = setInterval(() => this._beat(), heartbeatMs);
  }

  /** Number the event, stamp it, queue it; returns its sequence. */
  emit(event) {
    const sequence = ++this.lastSequence;
    this._pending.push({ timestamp: timestamp(), ...event, runId: this.runId, sequence });
    if (URGENT.has(event.eventType)) this._urgentUpTo = sequence;
    this._schedule();
    return sequence;
  }

  /** Resolves true once every event is acknowledged, false if they were given up on. */
  async finish(timeoutMs = GIVE_UP_AFTER_MS) {
    this._closing = true;
    this._schedule();
    let timer;
    const timedOut = new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
    const delivered = await Promise.race([this._drained, timedOut]);
    clearTimeout(timer);
    clearTimeout(this._timer);
    clearInterval(this._heartbeat);
    this.client.close();
    return delivered;
  }

  /** Arrange the next ReportEvents call: at once when an urgent event or a full batch is
   *  waiting, BATCH_DELAY_MS after the first event otherwise, and `delayMs` after a failure. */
  _schedule(delayMs) {
    // The call in flight (or the backoff after a failed one) schedules the next send.
    if (this._sending || this._gaveUp || (this._retrying && delayMs === undefined)) return;
    if (this._pending.length === 0) {
      if (this._closing) this._settle(true);
      return;
    }
    const urgent = this._closing || this._urgentUpTo > this.acknowledgedSequence;
    const full = this._pending.length >= BATCH_MAX_EVENTS;
    const delay = delayMs ?? (urgent || full ? 0 : BATCH_DELAY_MS);
    if (this._timer && delayMs === undefined && delay > 0) return; // a send is already due
    clearTimeout(this._timer);
    this._retrying = delayMs !== undefined;
    this._timer = setTimeout(() => this._send(), delay);
  }

  async _send() {
    this._timer = null;
    this._retrying = false;
    this._sending = true;
    const request = {
      runId: this.runId,
      workerId: this.workerId,
      events: this._pending.slice(0, BATCH_MAX_EVENTS),
    };
    let retryInMs;
    try {
      const reply = await this._call('ReportEvents', request);
      this._acknowledge(Number(reply.acknowledgedSequence));
      this._failures = this._refusals = 0;
      if (reply.cancelRequested) this.onCancel();
    } catch (error) {
      retryInMs = this._retryDelay(error);
    } finally {
      this._sending = false;
    }
    if (this._gaveUp) return this._settle(false);
    // Events emitted meanwhile, the rest of a long backlog, or a gap the reply reported:
    // everything still pending goes again (the control plane stores each event once).
    this._schedule(retryInMs);
  }

  _acknowledge(acknowledged) {
    this.acknowledgedSequence = Math.max(this.acknowledgedSequence, acknowledged);
    this._pending = this._pending.filter((event) => event.sequence > this.acknowledgedSequence);
  }

  /** How long to wait before sending again; sets _gaveUp when it is time to stop. */
  _retryDelay(error) {
    const now = Date.now();
    if (this._failures++ === 0) this._failingSince = now;
    const transient = TRANSIENT.has(error.code);
    if (!transient) this._refusals++;
    const hopeless = transient
      ? now - this._failingSince > GIVE_UP_AFTER_MS
      : this._refusals >= REFUSALS_TOLERATED;
    if (hopeless) {
      this._gaveUp = true;
      const lost = this._pending.length;
      console.error(`run ${this.runId}: giving up on ${lost} events: ${error.message}`);
      return undefined;
    }
    if (this._failures === 1) {
      console.error(`run ${this.runId}: reporting failed (${error.message}); retrying`);
    }
    const backoff = Math.min(BACKOFF_MS.max, BACKOFF_MS.first * 2 ** (this._failures - 1));
    return backoff * (0.5 + Math.random() / 2);
  }

  _beat() {
    const request = { runId: this.runId, workerId: this.workerId, lastSequence: this.lastSequence };
    this._call('Heartbeat', request).then(
      (reply) => reply.cancelRequested && this.onCancel(),
      () => {}, // the event sender reports outages; the next beat simply tries again
    );
  }

  _call(method, request) {
    const deadline = Date.now() + CALL_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      this.client[method](request, this.metadata, { deadline }, (error, reply) =>
        error ? reject(error) : resolve(reply),
      );
    });
  }
}

module.exports = { EventReporter };
