import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config.js";
import { checkModelRoles } from "../../src/runtime/role-check.js";
import { freePort } from "../support/ports.js";
import { type ScriptedUpstream, startScriptedUpstream } from "../support/scripted-upstream.js";

/** `status`'s check that each model role's model is there, against real HTTP model servers. */
describe("checking the model roles", () => {
  let small: ScriptedUpstream;
  let big: ScriptedUpstream;
  let down: string;

  beforeAll(async () => {
    small = await startScriptedUpstream({ models: ["qwen2.5:7b"] });
    big = await startScriptedUpstream({ models: ["qwen2.5:14b"] });
    down = `http://127.0.0.1:${await freePort()}`;
  });
  afterAll(async () => {
    await small.close();
    await big.close();
  });

  const config = () =>
    parseConfig({
      upstreams: { default: down },
      models: {
        reasoner: { model: "qwen2.5:7b" },
        auditor: { model: "qwen2.5:14b" },
        "finance-expert": { model: "phinance-3.5-mini" },
      },
    });

  it("looks for each role on the upstream the running daemon routes its model to", async () => {
    const roles = await checkModelRoles(config(), {
      upstreams: {
        default: small.url,
        servers: {},
        routes: { "qwen2.5:14b": big.url },
        timeout_ms: 1000,
      },
      // Known upstreams win over asking the gateway.
      gatewayUrl: down,
    });
    expect(roles).toEqual([
      expect.objectContaining({ role: "reasoner", available: true, served_by: small.url }),
      expect.objectContaining({ role: "auditor", available: true, served_by: big.url }),
      expect.objectContaining({ role: "finance-expert", available: false, served_by: small.url }),
    ]);
    expect(roles[2]!.error).toContain(
      `${small.url} does not have phinance-3.5-mini (it has qwen2.5:7b)`,
    );
  });

  it("asks a running gateway whose upstreams are not known for its model list", async () => {
    const roles = await checkModelRoles(config(), { gatewayUrl: big.url });
    expect(roles.map((r) => [r.role, r.available, r.served_by])).toEqual([
      ["reasoner", false, big.url],
      ["auditor", true, big.url],
      ["finance-expert", false, big.url],
    ]);
  });

  it("says a role could not be checked when its model server is down", async () => {
    const [reasoner] = await checkModelRoles(config());
    expect(reasoner).toMatchObject({ available: false, served_by: down });
    expect(reasoner!.error).toMatch(/^cannot reach .*\/api\/tags/);
  });
});
