// A run's event log, windowed: rows are a fixed height, only those in view (plus a few)
// are in the DOM, pages are fetched from the server as the reader scrolls towards them,
// and once the last page is in, new events arrive through WatchRun from that cursor.
import { useEffect, useRef, useState } from "react";
import { api, errorText } from "../api.js";
import type { RunEvent, RunEventType } from "../gen/weir/v1/events_pb.js";
import type { Run } from "../gen/weir/v1/runs_pb.js";
import { eventTypeName, FINISHED, when } from "../format.js";

const ROW = 24;
const PAGE = 500;
const OVERSCAN = 10;

export interface LogFilter {
  stepKey: string;
  eventTypes: RunEventType[];
}

export function EventLog({
  runId,
  filter,
  onRun,
  onSelect,
  height = 420,
}: {
  runId: string;
  filter: LogFilter;
  onRun: (run: Run) => void;
  onSelect: (event: RunEvent) => void;
  height?: number;
}) {
  const [events, setEvents] = useState<RunEvent[]>([]);
  const [hasMore, setHasMore] = useState(true);
  const [tailing, setTailing] = useState(false);
  const [problem, setProblem] = useState("");
  const [scrollTop, setScrollTop] = useState(0);
  const cursor = useRef("");
  const fetching = useRef(false);
  const box = useRef<HTMLDivElement>(null);
  const generation = useRef(0);
  const follow = useRef(true); // keep the newest row in view while the reader is at the end

  const loadPage = async () => {
    if (fetching.current) return;
    fetching.current = true;
    const mine = generation.current;
    try {
      const page = await api.getRunEvents({
        runId,
        cursor: cursor.current,
        limit: PAGE,
        stepKey: filter.stepKey,
        eventTypes: filter.eventTypes,
      });
      if (mine !== generation.current) return;
      cursor.current = page.nextCursor;
      setEvents((old) => old.concat(page.events));
      setHasMore(page.hasMore);
    } catch (error) {
      setProblem(errorText(error));
    } finally {
      fetching.current = false;
    }
  };

  // A new run or filter: start over from the first event.
  useEffect(() => {
    generation.current += 1;
    cursor.current = "";
    fetching.current = false;
    setEvents([]);
    setHasMore(true);
    setTailing(false);
    setProblem("");
    void loadPage();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runId, filter.stepKey, filter.eventTypes.join(",")]);

  // Past the last stored event: tail the run live from the cursor until it ends.
  useEffect(() => {
    if (hasMore) return;
    const abort = new AbortController();
    const mine = generation.current;
    setTailing(true);
    (async () => {
      try {
        for await (const message of api.watchRun({ runId, cursor: cursor.current }, { signal: abort.signal })) {
          if (mine !== generation.current) return;
          cursor.current = message.cursor || cursor.current;
          const fresh = message.events.filter(
            (e) =>
              (!filter.stepKey || e.stepKey === filter.stepKey) &&
              (filter.eventTypes.length === 0 || filter.eventTypes.includes(e.eventType)),
          );
          if (fresh.length) setEvents((old) => old.concat(fresh));
          if (message.run) onRun(message.run);
          if (message.run && FINISHED.has(message.run.status) && message.events.length === 0) break;
        }
      } catch (error) {
        if (!abort.signal.aborted) setProblem(errorText(error));
      } finally {
        if (mine === generation.current) setTailing(false);
      }
    })();
    return () => abort.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [hasMore, runId, filter.stepKey, filter.eventTypes.join(",")]);

  // Near the end of what is loaded: fetch the next page.
  useEffect(() => {
    const loadedBottom = events.length * ROW;
    if (hasMore && scrollTop + height * 3 > loadedBottom) void loadPage();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [scrollTop, events.length, hasMore]);

  useEffect(() => {
    if (tailing && follow.current && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [events.length, tailing]);

  const first = Math.max(0, Math.floor(scrollTop / ROW) - OVERSCAN);
  const last = Math.min(events.length, Math.ceil((scrollTop + height) / ROW) + OVERSCAN);
  const rows = [];
  for (let i = first; i < last; i++) {
    const event = events[i];
    const failed = event.payload.case === "stepFailure" || event.payload.case === "runFailure";
    rows.push(
      <div
        key={i}
        className={failed ? "log-row failed" : "log-row"}
        data-testid="log-row"
        style={{ top: i * ROW, height: ROW }}
        onClick={() => onSelect(event)}
      >
        <span className="log-time">{when(event.timestamp)}</span>
        <span className="log-type">{eventTypeName(event.eventType)}</span>
        <span className="log-step">{event.stepKey}</span>
        <span className="log-message">{event.message}</span>
      </div>,
    );
  }
  return (
    <div>
      <div
        ref={box}
        className="log"
        data-testid="event-log"
        data-loaded={events.length}
        style={{ height }}
        onScroll={(e) => {
          const element = e.currentTarget;
          setScrollTop(element.scrollTop);
          follow.current = element.scrollTop + element.clientHeight >= element.scrollHeight - ROW * 2;
        }}
      >
        <div style={{ height: events.length * ROW + (hasMore ? ROW : 0), position: "relative" }}>{rows}</div>
      </div>
      <div className="muted">
        {events.length} events loaded{hasMore ? " (more on scroll)" : ""}
        {tailing ? " · live" : ""}
      </div>
      {problem && <div className="problem">{problem}</div>}
    </div>
  );
}
