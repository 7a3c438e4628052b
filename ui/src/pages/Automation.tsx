import { useState, type ReactNode } from "react";
import { api, errorText } from "../api.js";
import { Badge, ErrorDetail, Problem, Section } from "../components/common.js";
import { ScheduleStatus, SensorStatus, TickStatus } from "../gen/weir/v1/control_plane_pb.js";
import { when } from "../format.js";
import { useCall } from "../hooks.js";
import { useCan } from "../permissions.js";
import { Link } from "../router.js";

const TICK_COLOURS: Record<number, string> = {
  [TickStatus.SUCCESS]: "#2e9e5b",
  [TickStatus.SKIPPED]: "#9ca3af",
  [TickStatus.FAILURE]: "#d64545",
};

/** A schedule's or sensor's ticks, newest first, with skip reasons and errors. */
function Ticks({ name, codeLocation }: { name: string; codeLocation: string }) {
  const ticks = useCall(() => api.listTicks({ name, codeLocation, limit: 25 }), [name, codeLocation]);
  return (
    <div className="ticks">
      <Problem text={ticks.error} />
      {(ticks.data?.ticks ?? []).map((tick) => (
        <div key={String(tick.tickId)} className="tick">
          <Badge colour={TICK_COLOURS[tick.status]}>{TickStatus[tick.status]}</Badge> {when(tick.tickTime)}{" "}
          {tick.skipReason && <span className="muted">skipped: {tick.skipReason}</span>}
          {tick.runIds.map((id) => (
            <Link key={id} to={`/runs/${id}`} className="chip">
              {id.slice(0, 8)}
            </Link>
          ))}
          <ErrorDetail error={tick.error} />
        </div>
      ))}
      {ticks.data?.ticks.length === 0 && <div className="muted">No ticks yet.</div>}
    </div>
  );
}

/** A schedule's or sensor's row, its start/stop button, and its ticks when opened. */
function InstigatorRows({
  name,
  codeLocation,
  running,
  status,
  cells,
  toggle,
}: {
  name: string;
  codeLocation: string;
  running: boolean;
  status: string;
  cells: ReactNode[];
  toggle: () => void;
}) {
  const [open, setOpen] = useState(false);
  const mayEdit = useCan()("edit", codeLocation);
  return (
    <>
      <tr>
        <td>
          <a href="#" onClick={(e) => (e.preventDefault(), setOpen(!open))}>
            {name}
          </a>
        </td>
        <td>
          <Badge colour={running ? "#2e9e5b" : undefined}>{status}</Badge>
        </td>
        {cells.map((cell, i) => (
          <td key={i}>{cell}</td>
        ))}
        <td>
          {mayEdit && <button onClick={toggle}>{running ? "Stop" : "Start"}</button>}
        </td>
      </tr>
      {open && (
        <tr>
          <td colSpan={cells.length + 3}>
            <Ticks name={name} codeLocation={codeLocation} />
          </td>
        </tr>
      )}
    </>
  );
}

export function Automation() {
  const schedules = useCall(() => api.listSchedules({}), []);
  const sensors = useCall(() => api.listSensors({}), []);
  const [problem, setProblem] = useState("");
  const act = async (call: () => Promise<unknown>, reload: () => void) => {
    try {
      await call();
      reload();
    } catch (error) {
      setProblem(errorText(error));
    }
  };
  return (
    <div className="page">
      <h1>Automation</h1>
      <Problem text={problem || schedules.error || sensors.error} />
      <Section title="Schedules">
        <table>
          <tbody>
            {(schedules.data?.schedules ?? []).map((s) => {
              const running = s.status === ScheduleStatus.RUNNING;
              const target = { name: s.name, codeLocation: s.codeLocation };
              return (
                <InstigatorRows
                  key={`${s.codeLocation}:${s.name}`}
                  {...target}
                  running={running}
                  status={ScheduleStatus[s.status]}
                  cells={[`${s.cronSchedule} ${s.timezone}`, s.jobName, `next ${when(s.nextTickTime)}`]}
                  toggle={() =>
                    act(() => (running ? api.stopSchedule(target) : api.startSchedule(target)), schedules.reload)
                  }
                />
              );
            })}
          </tbody>
        </table>
        {schedules.data?.schedules.length === 0 && <div className="muted">No schedules.</div>}
      </Section>
      <Section title="Sensors">
        <table>
          <tbody>
            {(sensors.data?.sensors ?? []).map((s) => {
              const running = s.status === SensorStatus.RUNNING;
              const target = { name: s.name, codeLocation: s.codeLocation };
              return (
                <InstigatorRows
                  key={`${s.codeLocation}:${s.name}`}
                  {...target}
                  running={running}
                  status={SensorStatus[s.status]}
                  cells={[
                    `every ${s.minimumIntervalSeconds} s`,
                    `cursor ${s.cursor ?? "—"}`,
                    `last tick ${when(s.lastTick?.tickTime)}`,
                  ]}
                  toggle={() =>
                    act(() => (running ? api.stopSensor(target) : api.startSensor(target)), sensors.reload)
                  }
                />
              );
            })}
          </tbody>
        </table>
        {sensors.data?.sensors.length === 0 && <div className="muted">No sensors.</div>}
      </Section>
    </div>
  );
}
