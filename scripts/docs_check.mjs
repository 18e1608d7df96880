// Drives Swagger UI at BASE/docs in headless Chromium the way a newcomer does: login with the
// pre-filled example, Authorize with the token, profile, refresh-token. Exits non-zero on any
// step that does not answer 200. Used by scripts/docs-check.sh.
import { chromium } from "playwright-core";

const base = process.argv[2];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--headless=new"],
});
let failed = false;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(20000);
  await page.goto(`${base}/docs`);

  async function tryOut(operationId) {
    const op = page.locator(`[id$="-${operationId}"]`).first();
    await op.locator(".opblock-summary").first().click();
    await op.locator(".try-out__btn").click();
    await op.locator("button.execute").click();
    const status = op.locator(".live-responses-table tr.response .response-col_status").first();
    await status.waitFor();
    const code = (await status.innerText()).trim();
    const body = await op
      .locator(".live-responses-table tr.response .response-col_description pre")
      .first()
      .innerText();
    console.log(`${operationId}: ${code}`);
    if (code !== "200") {
      failed = true;
      console.log(body);
    }
    return body;
  }

  const login = JSON.parse(await tryOut("wechatLogin"));
  await page.locator(".btn.authorize").first().click();
  await page.locator(".modal-ux input").first().fill(login.token);
  await page.locator(".modal-ux button.authorize").first().click();
  await page.locator(".modal-ux button.btn-done, .modal-ux .close-modal").first().click();
  await tryOut("wechatProfile");
  await tryOut("wechatRefreshToken");
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
