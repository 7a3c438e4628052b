import { useEffect, useMemo, useRef, useState } from "react";
import { api, errorText } from "../api.js";
import { ErrorDetail, Problem, RunBadge, Section } from "../components/common.js";
import { EventLog, type LogFilter } from "../components/EventLog.js";
import { RunEventType, type RunEvent } from "../gen/weir/v1/events_pb.js";
import type { Run } from "../gen/weir/v1/runs_pb.js";
import { assetHref, duration, eventTypeName, FINISHED, keyText, millis, when } from "../format.js";
import { useInterval } from "../hooks.js";
import { useCan } from "../permissions.js";
import { Link, navigate } from "../router.js";

const STEP_EVENTS = [
  RunEventType.STEP_START,
  RunEventType.STEP_SUCCESS,
  RunEventType.STEP_FAILURE,
  RunEventType.STEP_SKIPPED,
  RunEventType.STEP_RESTARTED,
];
const FAILURE_EVENTS = [RunEventType.STEP_FAILURE, RunEventType.RUN_FAILURE];

interface Step {
  key: string;
  start?: number;
  end?: number;
  outcome: string;
}

function stepsOf(events: RunEvent[]): Step[] {
  const steps = new Map<string, Step>();
  for (const event of events) {
    const step = steps.get(event.stepKey) ?? { key: event.stepKey, outcome: "running" };
    const at = millis(event.timestamp);
    if (event.eventType === RunEventType.STEP_START) step.start ??= at;
    else if (event.eventType === RunEventType.STEP_SUCCESS) (step.end = at), (step.outcome = "success");
    else if (event.eventType === RunEventType.STEP_FAILURE) (step.end = at), (step.outcome = "failure");
    else if (event.eventType === RunEventType.STEP_SKIPPED) (step.end = at), (step.outcome = "skipped");
    steps.set(event.stepKey, step);
  }
  return [...steps.values()];
}

const STEP_COLOURS: Record<string, string> = {
  running: "#4c8bf5",
  success: "#2e9e5b",
  failure: "#d64545",
  skipped: "#9ca3af",
};

/** The step timeline on one canvas: a row per step, a bar from start to end. */
function Timeline({ steps, runStart, runEnd }: { steps: Step[]; runStart?: number; runEnd?: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const element = canvas.current;
    if (!element) return;
    const ratio = window.devicePixelRatio || 1;
    const width = element.clientWidth;
    const rowHeight = 18;
    const height = Math.max(rowHeight, steps.length * rowHeight);
    element.style.height = `${height}px`;
    element.width = width * ratio;
    element.height = height * ratio;
    const context = element.getContext("2d")!;
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    context.clearRect(0, 0, width, height);
    const starts = steps.map((s) => s.start).filter((v): v is number => v !== undefined);
    const from = runStart ?? Math.min(...starts);
    const to = Math.max(runEnd ?? Date.now(), ...steps.map((s) => s.end ?? Date.now()));
    const span = Math.max(1, to - from);
    const label = 180;
    context.font = "12px system-ui, sans-serif";
    steps.forEach((step, row) => {
      const y = row * rowHeight;
      context.fillStyle = "#374151";
      context.fillText(step.key, 4, y + 13, label - 8);
      if (step.start === undefined) return;
      const x0 = label + ((step.start - from) / span) * (width - label);
      const x1 = label + (((step.end ?? Date.now()) - from) / span) * (width - label);
      context.fillStyle = STEP_COLOURS[step.outcome];
      context.fillRect(x0, y + 3, Math.max(2, x1 - x0), rowHeight - 6);
    });
  }, [steps, runStart, runEnd]);
  return <canvas ref={canvas} className="timeline" data-testid="step-timeline" />;
}

export function RunDetail({ runId }: { runId: string }) {
  const [run, setRun] = useState<Run>();
  const [problem, setProblem] = useState("");
  const [steps, setSteps] = useState<Step[]>([]);
  const [failures, setFailures] = useState<RunEvent[]>([]);
  const [selected, setSelected] = useState<RunEvent>();
  const [stepKey, setStepKey] = useState("");
  const [type, setType] = useState<RunEventType | 0>(0);
  const filter: LogFilter = useMemo(() => ({ stepKey, eventTypes: type ? [type] : [] }), [stepKey, type]);

  const refresh = async () => {
    try {
      setRun((await api.getRun({ runId })).run);
    } catch (error) {
      setProblem(errorText(error));
    }
  };
  useEffect(() => {
    setRun(undefined);
    setProblem("");
    void refresh();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runId]);
  const finished = run ? FINISHED.has(run.status) : false;
  const mayLaunch = useCan()("launch", run?.codeLocation);
  useInterval(() => void refresh(), run && !finished ? 2000 : null);

  // Step and failure events come from the server's filters, not from the whole log.
  const status = run?.status;
  useEffect(() => {
    (async () => {
      try {
        const stepEvents: RunEvent[] = [];
        let cursor = "";
        for (let page = 0; page < 20; page++) {
          const reply = await api.getRunEvents({ runId, cursor, limit: 1000, eventTypes: STEP_EVENTS });
          stepEvents.push(...reply.events);
          cursor = reply.nextCursor;
          if (!reply.hasMore) break;
        }
        setSteps(stepsOf(stepEvents));
        const failed = await api.getRunEvents({ runId, limit: 50, eventTypes: FAILURE_EVENTS });
        setFailures(failed.events);
      } catch (error) {
        setProblem(errorText(error));
      }
    })();
  }, [runId, status]);

  const cancel = async () => {
    try {
      setRun((await api.cancelRun({ runId, reason: "canceled from the web UI" })).run);
    } catch (error) {
      setProblem(errorText(error));
    }
  };
  const reexecute = async () => {
    if (!run) return;
    try {
      const tags = Object.fromEntries(Object.entries(run.tags).filter(([k]) => !k.startsWith("weir/")));
      const reply = await api.launchRun({
        assetKeys: run.assetKeys,
        jobName: run.jobName,
        partitionKey: run.partitionKey,
        runConfig: run.runConfig,
        codeLocation: run.codeLocation,
        tags: { ...tags, "ui/reexecution-of": run.runId },
      });
      navigate(`/runs/${reply.run!.runId}`);
    } catch (error) {
      setProblem(errorText(error));
    }
  };

  return (
    <div className="page">
      <h1>
        Run <span className="mono">{runId}</span> {run && <RunBadge status={run.status} />}
      </h1>
      <Problem text={problem} />
      {run && (
        <Section
          title="Run"
          actions={
            <span className="actions">
              {!finished && mayLaunch && (
                <button data-testid="cancel-run" onClick={cancel}>
                  Cancel
                </button>
              )}
              {finished && mayLaunch && (
                <button data-testid="reexecute-run" onClick={reexecute}>
                  Re-execute
                </button>
              )}
            </span>
          }
        >
          <dl className="facts">
            <dt>Assets</dt>
            <dd>
              {run.assetKeys.map((k) => (
                <Link key={keyText(k)} to={assetHref(k)} className="chip">
                  {keyText(k)}
                </Link>
              ))}
            </dd>
            <dt>Job / selection</dt>
            <dd>{run.jobName || run.selection || "—"}</dd>
            <dt>Partition</dt>
            <dd>{run.partitionKey || "—"}</dd>
            <dt>Code location</dt>
            <dd>{run.codeLocation}</dd>
            <dt>Created</dt>
            <dd>{when(run.createTime)}</dd>
            <dt>Duration</dt>
            <dd>{duration(run.startTime, run.endTime)}</dd>
            {run.parentRunId && (
              <>
                <dt>Re-executes</dt>
                <dd>
                  <Link to={`/runs/${run.parentRunId}`}>{run.parentRunId}</Link>
                </dd>
              </>
            )}
          </dl>
          {run.failureReason && (
            <div className="problem" data-testid="run-failure">
              {run.failureReason}
            </div>
          )}
          {failures.map((event) => (
            <div key={String(event.eventId)} className="failure-block">
              <b>{event.stepKey || "run"}</b>
              <ErrorDetail
                error={
                  event.payload.case === "stepFailure" || event.payload.case === "runFailure"
                    ? event.payload.value.error
                    : undefined
                }
              />
            </div>
          ))}
        </Section>
      )}
      <Section title={`Steps (${steps.length})`}>
        <Timeline steps={steps} runStart={millis(run?.startTime)} runEnd={millis(run?.endTime)} />
      </Section>
      <Section
        title="Events"
        actions={
          <span className="actions">
            <select value={stepKey} onChange={(e) => setStepKey(e.target.value)}>
              <option value="">all steps</option>
              {steps.map((s) => (
                <option key={s.key}>{s.key}</option>
              ))}
            </select>
            <select value={type} onChange={(e) => setType(Number(e.target.value) as RunEventType)}>
              <option value={0}>all types</option>
              {Object.values(RunEventType)
                .filter((v): v is RunEventType => typeof v === "number" && v !== 0)
                .map((v) => (
                  <option key={v} value={v}>
                    {eventTypeName(v)}
                  </option>
                ))}
            </select>
          </span>
        }
      >
        <EventLog runId={runId} filter={filter} onRun={setRun} onSelect={setSelected} />
        {selected && (
          <div className="event-detail">
            <b>{eventTypeName(selected.eventType)}</b> {selected.stepKey} · {when(selected.timestamp)}
            <pre>{selected.message}</pre>
            {(selected.payload.case === "stepFailure" || selected.payload.case === "runFailure") && (
              <ErrorDetail error={selected.payload.value.error} />
            )}
          </div>
        )}
      </Section>
    </div>
  );
}
