import type { Command } from "commander";
import { registerActions } from "./actions.js";
import { registerAudit } from "./audit.js";
import type { CliContext } from "./context.js";
import { registerFinance } from "./finance.js";
import { registerJobs } from "./jobs.js";
import { registerKb } from "./kb.js";
import { registerLedger } from "./ledger.js";
import { registerMonitor } from "./monitor.js";
import { registerPrune } from "./prune.js";
import { registerReplay } from "./replay.js";
import { registerReview } from "./review.js";
import { registerServe } from "./serve.js";
import { registerService } from "./service.js";
import { registerStatus } from "./status.js";
import { registerTrace } from "./trace.js";

/** Each command group lives in its own file and adds itself here. */
type Register = (program: Command, context: CliContext) => void;

const groups: Register[] = [
  registerAudit,
  registerServe,
  registerActions,
  registerStatus,
  registerKb,
  registerReview,
  registerMonitor,
  registerTrace,
  registerReplay,
  registerPrune,
  registerJobs,
  registerService,
  registerFinance,
  registerLedger,
];

export function registerCommands(program: Command, context: CliContext): void {
  for (const register of groups) register(program, context);
}
