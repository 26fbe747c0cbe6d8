import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

export const CHROMIUM = process.env.NIGHTSHIFT_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Debian's Chromium, headless, with nothing that reaches the network on its own; a fresh
 * profile each time. `.ci/chromium.sh` installs it.
 */
export async function launchChromium(
  viewport = { width: 1280, height: 860 },
): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: run .ci/chromium.sh (apt-get install chromium)`);
  }
  const profile = mkdtempSync(join(tmpdir(), "nightshift-chromium-"));
  // A persistent context is how Playwright takes a --user-data-dir of our choosing.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
