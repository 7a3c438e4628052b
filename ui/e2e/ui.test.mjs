// The web UI in a real browser against a real `weir dev`: run with `node --test ui/e2e`
// (tests/e2e/test_web_ui_in_browser.py does, so `make test` covers it). Screenshots of every page
// land in ui/artifacts/ (gitignored).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, callApi, launchBrowser, screenshotPath, startWeir } from "./harness.mjs";

let weir;
let browser;
let page;

before(async () => {
  weir = await startWeir(join(ROOT, "ui", "e2e", "fixture_defs.py"));
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(20_000);
});

after(async () => {
  await browser?.close();
  await weir?.stop();
});

async function shoot(name) {
  await page.screenshot({ path: screenshotPath(name), fullPage: true });
}

test("weir dev prints the UI's URL", () => {
  assert.match(weir.output(), new RegExp(`web UI: ${weir.url}/`));
});

test("the catalog lists the assets and filters with the selection language", async () => {
  await page.goto(`${weir.url}/assets`);
  const links = page.getByTestId("asset-link");
  await links.filter({ hasText: "daily_summary" }).waitFor();
  assert.deepEqual(await links.allTextContents(), ["broken_report", "daily_summary", "orders", "revenue"]);
  await shoot("catalog");
  await page.goto(`${weir.url}/assets?selection=${encodeURIComponent("orders+")}`);
  await page.getByTestId("asset-link").filter({ hasText: "revenue" }).waitFor();
  assert.deepEqual(await page.getByTestId("asset-link").allTextContents(), ["orders", "revenue"]);
  await page.goto(`${weir.url}/assets?group=ingest`);
  await page.locator("h2", { hasText: "1 assets" }).waitFor();
  assert.deepEqual(await page.getByTestId("asset-link").allTextContents(), ["orders"]);
  await page.goto(`${weir.url}/assets?selection=${encodeURIComponent("nonsense(")}`);
  await page.getByRole("alert").waitFor();
});

test("the lineage graph draws on canvas and a click opens the asset", async () => {
  await page.goto(`${weir.url}/lineage`);
  const canvas = page.getByTestId("lineage-canvas");
  await canvas.waitFor();
  await page.waitForFunction(() => (window.__weirGraph?.frames ?? 0) > 0);
  // Something other than the background was drawn: the group bands and nodes.
  const colours = await canvas.evaluate((element) => {
    const context = element.getContext("2d");
    const { data } = context.getImageData(0, 0, element.width, element.height);
    const seen = new Set();
    for (let i = 0; i < data.length; i += 4 * 97) seen.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
    return seen.size;
  });
  assert.ok(colours > 3, `the canvas holds ${colours} colours`);
  await shoot("lineage");
  const node = page.getByTestId("graph-node").filter({ hasText: /^orders$/ });
  await node.click();
  await page.waitForURL(`${weir.url}/assets/orders`);
  await page.getByTestId("asset-title").filter({ hasText: "orders" }).waitFor();
});

test("zoomed out, the canvas itself opens assets and folds groups", async () => {
  await page.goto(`${weir.url}/lineage`);
  await page.getByTestId("graph-node").first().waitFor();
  const host = page.getByTestId("lineage-canvas-host");
  const box = await host.boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  for (let i = 0; i < 10 && (await page.getByTestId("graph-node").count()) > 0; i++) {
    await page.mouse.wheel(0, 300);
    await page.waitForTimeout(400); // DOM nodes return once the view settles (150 ms)
  }
  assert.equal(await page.getByTestId("graph-node").count(), 0, "zoomed out, nodes are drawn on the canvas only");
  const layout = await callApi(weir.url, "GetAssetGraphLayout", {});
  const at = async (world) => {
    await page.waitForFunction(() => window.__weirGraph?.view);
    const view = await page.evaluate(() => window.__weirGraph.view);
    return { x: box.x + world.x * view.scale + view.tx, y: box.y + world.y * view.scale + view.ty };
  };
  // Fold the "marts" group by its title: its nodes are gone, a click where revenue was
  // opens nothing; unfolded, the same click opens revenue.
  const marts = layout.groups.indexOf("marts");
  const title = layout.groupBoxes[marts];
  const titleAt = await at({ x: title.x + 20, y: title.y + 18 });
  const i = layout.keys.indexOf("revenue");
  const nodeAt = await at({ x: layout.x[i] + layout.nodeWidth / 2, y: layout.y[i] + layout.nodeHeight / 2 });
  const frames = () => page.evaluate(() => window.__weirGraph.frames);
  let before = await frames();
  await page.mouse.click(titleAt.x, titleAt.y);
  await page.waitForFunction((n) => window.__weirGraph.frames > n, before);
  await shoot("lineage-folded");
  await page.mouse.click(nodeAt.x, nodeAt.y);
  before = await frames();
  await page.mouse.click(titleAt.x, titleAt.y); // unfold: a redraw after the click's effect
  await page.waitForFunction((n) => window.__weirGraph.frames > n, before);
  assert.equal(page.url(), `${weir.url}/lineage`);
  await page.mouse.click(nodeAt.x, nodeAt.y);
  await page.waitForURL(`${weir.url}/assets/revenue`);
});

test("an asset's page launches a run that succeeds, with its events", async () => {
  await page.goto(`${weir.url}/assets/orders`);
  await page.getByText("Raw orders.").waitFor();
  await shoot("asset");
  await page.getByTestId("launch-run").click();
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/);
  await page.locator('h1 [data-status="SUCCESS"]').waitFor({ timeout: 30_000 });
  const log = page.getByTestId("event-log");
  await log.getByText("RUN_SUCCESS").waitFor();
  await log.getByText("fetched 3 orders").waitFor();
  assert.ok(Number(await log.getAttribute("data-loaded")) >= 5);
  await page.getByTestId("step-timeline").waitFor();
  await shoot("run-success");
  // The asset now shows the materialization.
  await page.goto(`${weir.url}/assets/orders`);
  await page.getByTestId("materializations").locator("tr").first().waitFor();
  await page.getByTestId("check-history").getByText("●").first().waitFor();
});

test("a failed run shows its error", async () => {
  const { run } = await callApi(weir.url, "LaunchRun", { selection: "*broken_report" });
  await page.goto(`${weir.url}/runs/${run.runId}`);
  await page.locator('h1 [data-status="FAILURE"]').waitFor({ timeout: 30_000 });
  const failure = page.getByTestId("run-failure");
  await failure.waitFor();
  assert.match(await failure.textContent(), /report template missing/);
  await page.locator(".error-title", { hasText: "ValueError" }).first().waitFor();
  await page.locator(".log-row.failed").first().waitFor();
  await shoot("run-failure");
  await page.goto(`${weir.url}/`);
  await page.getByTestId("unhealthy-assets").getByText("broken_report").waitFor();
  await page.getByTestId("health-summary").getByText("DEGRADED").waitFor();
  await shoot("overview");
  // The graph colours the degraded asset by its health.
  await page.goto(`${weir.url}/lineage?focus=broken_report`);
  const degradedNode = page.getByTestId("graph-node").filter({ hasText: /^broken_report$/ });
  await page.waitForFunction(
    () =>
      [...document.querySelectorAll('[data-testid="graph-node"]')].some(
        (n) => n.textContent === "broken_report" && getComputedStyle(n).borderTopColor === "rgb(214, 69, 69)",
      ),
  );
  await degradedNode.waitFor();
  await shoot("lineage-health");
  await page.goto(`${weir.url}/assets?health=DEGRADED`);
  await page.locator("h2", { hasText: /^1 assets$/ }).waitFor();
  assert.deepEqual(await page.getByTestId("asset-link").allTextContents(), ["broken_report"]);
  await page.goto(`${weir.url}/assets/broken_report`);
  await page.getByTestId("asset-health").getByText("the latest materialization failed", { exact: false }).waitFor();
});

test("the partition bar draws the asset's partitions", async () => {
  await callApi(weir.url, "LaunchRun", { assetKeys: [{ path: ["daily_summary"] }], partitionKey: "day-007" });
  await page.goto(`${weir.url}/assets/daily_summary`);
  const bar = page.getByTestId("partition-bar");
  await bar.waitFor();
  await page.getByText(/of 120/).waitFor();
  await shoot("asset-partitions");
});

test("runs, backfills, automation and code locations render", async () => {
  await page.goto(`${weir.url}/runs`);
  await page.getByTestId("runs-table").locator("tbody tr").nth(1).waitFor();
  await shoot("runs");
  await page.goto(`${weir.url}/runs?status=FAILURE`);
  await page.waitForFunction(() =>
    [...document.querySelectorAll('[data-testid="runs-table"] tbody [data-status]')].every(
      (badge) => badge.getAttribute("data-status") === "FAILURE",
    ),
  );
  const { backfillId } = await callApi(weir.url, "LaunchBackfill", {
    selection: "daily_summary",
    partitionKeys: ["day-001", "day-002"],
  });
  await page.goto(`${weir.url}/backfills`);
  await page.getByText(backfillId).waitFor();
  await shoot("backfills");
  await page.goto(`${weir.url}/backfills/${backfillId}`);
  await page.getByText("daily_summary").first().waitFor();
  await shoot("backfill");
  await page.goto(`${weir.url}/automation`);
  const schedule = page.locator("tr", { has: page.getByRole("link", { name: "nightly", exact: true }) });
  await schedule.getByText("STOPPED").waitFor();
  await schedule.getByRole("button", { name: "Start" }).click();
  await schedule.getByText("RUNNING").waitFor();
  await schedule.getByRole("link", { name: "nightly", exact: true }).click();
  await page.getByText("No ticks yet.").waitFor();
  await shoot("automation");
  await schedule.getByRole("button", { name: "Stop" }).click();
  await schedule.getByText("STOPPED").waitFor();
  await page.goto(`${weir.url}/locations`);
  await page.getByText("LOADED").waitFor();
  await shoot("locations");
});

test("the deployment switcher shows another deployment's assets", async () => {
  await callApi(weir.url, "CreateDeployment", { name: "staging" });
  await page.goto(`${weir.url}/assets`);
  await page.getByTestId("asset-link").first().waitFor();
  const switcher = page.getByTestId("deployment-switcher");
  await switcher.locator('option[value="staging"]').waitFor({ state: "attached" });
  await switcher.selectOption("staging");
  await page.locator("h2", { hasText: /^0 assets$/ }).waitFor();
  assert.equal(await page.getByTestId("asset-link").count(), 0);
  assert.equal(await page.evaluate(() => sessionStorage.getItem("weir.deployment")), "staging");
  await switcher.selectOption("prod");
  await page.getByTestId("asset-link").first().waitFor();
});
