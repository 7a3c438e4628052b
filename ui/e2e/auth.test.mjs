// With auth on, the UI asks for a token, keeps it for the tab and sends it as the bearer
// header on every call, as any API client does.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT, bootstrapToken, launchBrowser, screenshotPath, startWeir } from "./harness.mjs";

let weir;
let browser;

before(async () => {
  weir = await startWeir(join(ROOT, "ui", "e2e", "fixture_defs.py"), ["--auth"]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await weir?.stop();
});

test("a token prompt signs in, and the token is sent on every call", async () => {
  const secret = bootstrapToken(weir.home);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.setDefaultTimeout(20_000);
  const authorizations = new Set();
  page.on("request", (request) => {
    if (request.url().includes("/weir.v1.")) authorizations.add(request.headers()["authorization"] ?? "none");
  });
  await page.goto(`${weir.url}/assets`);
  const prompt = page.locator(".modal");
  await prompt.waitFor();
  await page.screenshot({ path: screenshotPath("token-prompt") });
  await prompt.locator('input[name="token"]').fill("weir_not_a_real_token");
  await prompt.getByRole("button", { name: "Use token" }).click();
  await prompt.waitFor(); // refused: asked again
  await prompt.locator('input[name="token"]').fill(secret);
  await prompt.getByRole("button", { name: "Use token" }).click();
  await page.getByTestId("asset-link").filter({ hasText: "orders" }).waitFor();
  assert.equal(await prompt.count(), 0);
  assert.ok(authorizations.has(`Bearer ${secret}`));
  // Kept for the tab: a reload stays signed in, and no secret is written anywhere else.
  await page.reload();
  await page.getByTestId("asset-link").filter({ hasText: "orders" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem("weir.token")), secret);
  assert.equal(await page.evaluate(() => localStorage.length + document.cookie.length), 0);
});

test("actions show only where the caller's role allows them", async () => {
  const admin = bootstrapToken(weir.home);
  const created = await fetch(`${weir.url}/weir.v1.ControlPlaneService/CreateToken`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${admin}` },
    body: JSON.stringify({ role: "ROLE_VIEWER", name: "ui-viewer" }),
  });
  assert.equal(created.status, 200);
  const viewer = (await created.json()).secret;
  const signedIn = async (secret) => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript((s) => sessionStorage.setItem("weir.token", s), secret);
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${weir.url}/assets/orders`);
    await page.getByText("Raw orders.").waitFor();
    return page;
  };
  const asAdmin = await signedIn(admin);
  await asAdmin.getByTestId("launch-run").waitFor();
  const asViewer = await signedIn(viewer);
  await asViewer.getByText("Raw orders.").waitFor();
  await asViewer.waitForLoadState("networkidle");
  assert.equal(await asViewer.getByTestId("launch-run").count(), 0);
  await asViewer.screenshot({ path: screenshotPath("asset-as-viewer") });
  await asViewer.goto(`${weir.url}/locations`);
  await asViewer.getByText("LOADED").waitFor();
  assert.equal(await asViewer.getByRole("button", { name: "Reload" }).count(), 0);
});
