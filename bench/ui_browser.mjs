// The browser half of bench/ui_browser.py: node bench/ui_browser.mjs <url> <run id>.
// Prints one JSON line of figures, all measured in the page:
// - graph: navigation start to the first canvas frame of /lineage (performance.measure
//   "graph-first-draw"); frames drawn per second while the mouse drags the view, with
//   every node in view and then zoomed in (the canvas redraws once per animation frame).
// - partitions: the canvas draw of the bar ("partition-bar-draw") and the status fetch.
// - log: the first rows of a 100,000-event run, then scrolling down in steps: how many
//   events were fetched, how many rows exist in the DOM, frames per second.
import { launchBrowser } from "../ui/e2e/harness.mjs";

const [url, runId] = process.argv.slice(2);
const browser = await launchBrowser();
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.setDefaultTimeout(60_000);

// A drag as the page receives it: a pointer move per animation frame, dispatched in the
// page (so the figure is the UI's drawing rate, not the test driver's round trips).
async function measureDrag(steps, dx, dy) {
  return page.getByTestId("lineage-canvas-host").evaluate(
    async (host, [steps, dx, dy]) => {
      const rect = host.getBoundingClientRect();
      const x = rect.left + rect.width / 2;
      const y = rect.top + rect.height / 2;
      // As the browser does: each event goes to whatever is under the pointer then.
      const pointer = (type, px, py) =>
        (document.elementFromPoint(px, py) ?? host).dispatchEvent(
          new PointerEvent(type, { bubbles: true, clientX: px, clientY: py, button: 0, pointerId: 7, isPrimary: true }),
        );
      const frame = () => new Promise((done) => requestAnimationFrame(() => done()));
      Object.assign(window.__weirGraph, { frames: 0, totalFrameMs: 0 });
      pointer("pointerdown", x, y);
      const started = performance.now();
      for (let i = 1; i <= steps; i++) {
        pointer("pointermove", x + (dx * i) / steps, y + (dy * i) / steps);
        await frame();
      }
      const elapsed = performance.now() - started;
      pointer("pointerup", x + dx, y + dy);
      const { frames, totalFrameMs } = window.__weirGraph;
      return { fps: (frames * 1000) / elapsed, frameMs: totalFrameMs / Math.max(1, frames) };
    },
    [steps, dx, dy],
  );
}

// ---- the graph: a first visit (the server lays the graph out), then a second (cached)
async function openGraph() {
  await page.goto(`${url}/lineage`);
  await page.waitForFunction(() => window.__weirGraph?.firstDrawMs !== undefined);
  return page.evaluate(() => window.__weirGraph.firstDrawMs);
}
const coldDrawMs = await openGraph();
const graphFirst = await page.evaluate(() => {
  const fetch = performance.getEntriesByType("resource").find((e) => e.name.endsWith("GetAssetGraphLayout"));
  return {
    layoutFetchMs: performance.getEntriesByName("graph-layout-fetch")[0]?.duration ?? NaN,
    layoutBytes: fetch?.encodedBodySize ?? fetch?.transferSize ?? 0,
  };
});
graphFirst.coldDrawMs = coldDrawMs;
graphFirst.firstDrawMs = await openGraph();
graphFirst.warmFetchMs = await page.evaluate(() => performance.getEntriesByName("graph-layout-fetch")[0]?.duration ?? NaN);
const layout = await page.evaluate(async () => {
  const reply = await fetch("/weir.v1.ControlPlaneService/GetAssetGraphLayout", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  });
  const json = await reply.json();
  return { nodes: json.keys.length, edges: json.edgeUpstream.length };
});
const PAN_STEPS = 120;
const overview = await measureDrag(PAN_STEPS, 300, 120);
// Zoom in around the centre until nodes become DOM links, then pan again.
const box = await page.getByTestId("lineage-canvas-host").boundingBox();
await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
for (let i = 0; i < 12 && (await page.getByTestId("graph-node").count()) === 0; i++) {
  await page.mouse.wheel(0, -400);
  await page.waitForTimeout(400); // DOM nodes come once the view settles (150 ms)
}
const domNodes = await page.getByTestId("graph-node").count();
const zoomed = await measureDrag(PAN_STEPS, 400, 200);

// ---- the partition bar (its status read once before, as any later visit finds it: the
// first read after the bulk fill rebuilds the stored status, bench/partition_status.py)
const statusRequest = { key: { path: ["hourly_100k"] }, maxBuckets: 1200 };
await page.evaluate(async (body) => {
  await fetch("/weir.v1.ControlPlaneService/GetPartitionStatus", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}, statusRequest);
await page.goto(`${url}/assets/hourly_100k`);
await page.getByTestId("partition-bar").waitFor();
await page.waitForFunction(() => performance.getEntriesByName("partition-bar-draw").length > 0);
const partitions = await page.evaluate(async () => {
  const draws = performance.getEntriesByName("partition-bar-draw");
  const fetch = performance.getEntriesByType("resource").find((e) => e.name.endsWith("GetPartitionStatus"));
  const exact = await (
    await window.fetch("/weir.v1.ControlPlaneService/GetPartitionStatus", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: { path: ["hourly_100k"] }, maxBuckets: 1200 }),
    })
  ).json();
  return {
    drawMs: Math.max(...draws.map((d) => d.duration)),
    fetchMs: fetch?.duration ?? NaN,
    ranges: exact.ranges.length,
  };
});

// ---- the run log
const logStart = Date.now();
await page.goto(`${url}/runs/${runId}`);
const log = page.getByTestId("event-log");
await log.locator('[data-testid="log-row"]').first().waitFor();
const firstRowsMs = Date.now() - logStart;
const SCROLL_STEPS = 100;
const scrolled = await log.evaluate(async (element, steps) => {
  const started = performance.now();
  let frames = 0;
  for (let i = 1; i <= steps; i++) {
    element.scrollTop += 2400; // 100 rows of 24 px per frame: a fast fling
    await new Promise((done) => requestAnimationFrame(() => done()));
    frames++;
  }
  await new Promise((done) => setTimeout(done, 500)); // let the page fetches land
  return {
    fps: (frames * 1000) / (performance.now() - started - 500),
    scrolledTo: Math.floor(element.scrollTop / 24),
    loaded: Number(element.getAttribute("data-loaded")),
    domRows: element.querySelectorAll('[data-testid="log-row"]').length,
  };
}, SCROLL_STEPS);

await browser.close();
console.log(
  JSON.stringify({
    graph: {
      ...graphFirst,
      ...layout,
      panSteps: PAN_STEPS,
      panFps: overview.fps,
      panFrameMs: overview.frameMs,
      zoomedFps: zoomed.fps,
      zoomedFrameMs: zoomed.frameMs,
      domNodes,
    },
    partitions,
    log: { firstRowsMs, total: 100000, ...scrolled, scrollFps: scrolled.fps },
  }),
);
