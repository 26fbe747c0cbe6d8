import { existsSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface UnitOptions {
  /** A user unit (~/.config/systemd/user) rather than a system one (/etc/systemd/system). */
  user: boolean;
  home: string;
  /** A --config path to pass to `serve`, absolute. */
  configPath?: string | undefined;
  nodePath?: string;
  mainPath?: string;
  /** For system units: the account the daemon runs as. */
  account?: string;
}

export interface UnitFile {
  name: string;
  path: string;
  text: string;
}

/** The job slice: background work gets a fifth of the CPU and I/O weight of everything else. */
export const JOB_SLICE = "nightshift-jobs.slice";

/** Both src/scheduler (tsx) and dist/scheduler (built) sit two levels below the package root. */
export function defaultMainPath(): string {
  return fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
}

export function unitDirectory(user: boolean): string {
  if (!user) return "/etc/systemd/system";
  const configHome = process.env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(configHome, "systemd", "user");
}

/**
 * The daemon's service and the slice its background jobs run in. The gateway keeps the default
 * weights, since an interactive request must never wait; command jobs are started in the slice
 * (systemd-run --user --scope, for user units) and always under nice 19 / ionice idle.
 */
export function renderUnits(options: UnitOptions): UnitFile[] {
  const dir = unitDirectory(options.user);
  const node = options.nodePath ?? process.execPath;
  const main = options.mainPath ?? defaultMainPath();
  const exec = [
    node,
    main,
    ...(options.configPath ? ["--config", options.configPath] : []),
    "serve",
  ];
  const service = [
    "[Unit]",
    "Description=nightshift: logging LLM gateway, resource monitor and night-shift scheduler",
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${exec.map(quote).join(" ")}`,
    `Environment=${quote(`NIGHTSHIFT_HOME=${options.home}`)}`,
    `Environment=NIGHTSHIFT_JOB_SLICE=${JOB_SLICE}`,
    `Environment=NIGHTSHIFT_SYSTEMD_MODE=${options.user ? "user" : "system"}`,
    ...(options.user ? [] : [`User=${options.account ?? userInfo().username}`]),
    "Restart=on-failure",
    "RestartSec=5",
    // Give a running job time to reach its checkpoint and release its GPU on stop.
    "TimeoutStopSec=30",
    "KillMode=mixed",
    "",
    "[Install]",
    `WantedBy=${options.user ? "default.target" : "multi-user.target"}`,
    "",
  ].join("\n");
  const slice = [
    "[Unit]",
    "Description=nightshift background jobs (audit, retention, user jobs) at low CPU and I/O weight",
    "",
    "[Slice]",
    "CPUWeight=20",
    "IOWeight=20",
    "",
  ].join("\n");
  return [
    { name: "nightshift.service", path: join(dir, "nightshift.service"), text: service },
    { name: JOB_SLICE, path: join(dir, JOB_SLICE), text: slice },
  ];
}

/** How to turn the units on, for the person who just installed them. */
export function enableInstructions(user: boolean, mainPath = defaultMainPath()): string[] {
  const ctl = user ? "systemctl --user" : "sudo systemctl";
  const lines = [
    `${ctl} daemon-reload`,
    `${ctl} enable --now nightshift.service`,
    `${user ? "journalctl --user" : "journalctl"} -u nightshift -f     # to follow its log`,
  ];
  if (user)
    lines.push("loginctl enable-linger $USER     # keep it running when you are logged out");
  if (!existsSync(mainPath)) lines.unshift(`npm run build     # ${mainPath} does not exist yet`);
  return lines;
}

/** A value for an Exec/Environment line, quoted when it holds what systemd would split on. */
function quote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}
