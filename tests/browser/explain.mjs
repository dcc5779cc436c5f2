// Drives jwtgate's GET /explain page in Debian's chromium: an expired token, a good one and a
// forged one are explained; every request the page makes must go to the server's origin; a
// phone-sized viewport must not scroll sideways; each state is saved as a PNG screenshot.
//
// Usage: node explain.mjs <server URL> <HS256 secret> <screenshot directory>
// Prints libtest-style lines so `cargo xtask ci` counts the checks.

import { createHmac } from "node:crypto";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base, secret, screenshots] = process.argv.slice(2);
if (!base || !secret || !screenshots) {
  console.error("usage: node explain.mjs <server URL> <HS256 secret> <screenshot directory>");
  process.exit(2);
}
mkdirSync(screenshots, { recursive: true });

const b64 = (data) => Buffer.from(data).toString("base64url");
function token(claims, key = secret) {
  const input = b64(JSON.stringify({ alg: "HS256", typ: "JWT" })) + "." + b64(JSON.stringify(claims));
  return input + "." + createHmac("sha256", key).update(input).digest("base64url");
}
const now = Math.floor(Date.now() / 1000);
const hasura = {
  "x-hasura-allowed-roles": ["user", "editor"],
  "x-hasura-default-role": "user",
  "x-hasura-user-id": "42",
};
const states = [
  {
    name: "expired",
    token: token({ sub: "42", exp: now - 600, "https://hasura.io/jwt/claims": hasura }),
    status: /^401 invalid-jwt: Could not verify JWT: JWTExpired$/,
    failed: "exp",
  },
  {
    name: "valid",
    token: token({ sub: "42", exp: now + 3600, "https://hasura.io/jwt/claims": hasura }),
    status: /^200: accepted as role user$/,
    body: /"x-hasura-user-id": "42"/,
  },
  {
    name: "bad-signature",
    token: token({ sub: "42", exp: now + 3600, "https://hasura.io/jwt/claims": hasura }, "another-secret-of-at-least-32-bytes!"),
    status: /^401 invalid-jwt: Could not verify JWT: JWSError JWSInvalidSignature$/,
    failed: "signature",
  },
];

let passed = 0;
let failed = 0;
function check(name, condition, detail) {
  if (condition) {
    passed += 1;
    console.log(`test explain_page::${name} ... ok`);
  } else {
    failed += 1;
    console.log(`test explain_page::${name} ... FAILED: ${detail}`);
  }
}

const origin = new URL(base).origin;
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
});
try {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  const requested = [];
  page.on("request", (request) => requested.push(request.url()));
  await page.goto(base + "/explain");
  for (const state of states) {
    // The previous answer is cleared, so the one awaited is this token's.
    await page.evaluate(() => {
      document.getElementById("result").hidden = true;
    });
    await page.fill("#token", state.token);
    await page.click("#explain");
    await page.waitForFunction(() => !document.getElementById("result").hidden);
    const status = (await page.textContent("#status")).trim();
    check(`${state.name}_verdict`, state.status.test(status), status);
    if (state.body) {
      const body = await page.textContent("#body");
      check(`${state.name}_session`, state.body.test(body), body);
    }
    if (state.failed) {
      const highlighted = await page.$$eval("#steps li.failed .name", (names) => names.map((n) => n.textContent));
      check(`${state.name}_failed_step_highlighted`, highlighted.includes(state.failed), JSON.stringify(highlighted));
    }
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    check(`${state.name}_no_horizontal_scroll`, !sideways, "the page scrolls sideways at 390 px");
    const file = join(screenshots, `${state.name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    check(`${state.name}_screenshot`, statSync(file).size > 0, `${file} is empty`);
  }
  const elsewhere = requested.filter((url) => new URL(url).origin !== origin);
  check("every_request_goes_to_the_server", elsewhere.length === 0 && requested.length > 0, JSON.stringify(elsewhere));
} finally {
  await browser.close();
}
console.log(`test result: ${failed === 0 ? "ok" : "FAILED"}. ${passed} passed; ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
