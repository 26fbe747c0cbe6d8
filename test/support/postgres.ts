import { execFileSync, spawn } from "node:child_process";
import {
  accessSync,
  chownSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";

/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temp dir, pg_ctl start on a free loopback
 * port, trust authentication for one superuser. initdb refuses to run as root, so under root the
 * cluster is made and run as an unprivileged user (postgres, else nobody).
 */
export interface PostgresCluster {
  /** postgres://nightshift@127.0.0.1:PORT/postgres: the superuser on the maintenance database. */
  url: string;
  port: number;
  dir: string;
  /** Stops the server, keeping its data (a server going away under a running daemon). */
  pause(): Promise<void>;
  /** Starts it again on the same port. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

const SUPERUSER = "nightshift";

/** The directory holding initdb and pg_ctl: $PG_BIN, Debian's newest, or the PATH. */
export function findPostgresBin(): string | undefined {
  const candidates: string[] = [];
  if (process.env.PG_BIN) candidates.push(process.env.PG_BIN);
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, "bin")));
  }
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir) candidates.push(dir);
  return candidates.find(
    (dir) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl")),
  );
}

function unprivilegedUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    try {
      const uid = Number(execFileSync("id", ["-u", name], { encoding: "utf8" }).trim());
      const gid = Number(execFileSync("id", ["-g", name], { encoding: "utf8" }).trim());
      return { uid, gid };
    } catch {
      // No such user; try the next.
    }
  }
  throw new Error("running as root and neither user postgres nor nobody exists for initdb");
}

function run(
  file: string,
  args: string[],
  user: { uid: number; gid: number } | undefined,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ["ignore", "pipe", "pipe"],
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      env: { ...process.env, LC_ALL: "C.UTF-8" },
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve();
      else reject(new Error(`${file} ${args.join(" ")} exited ${code}:\n${output}`));
    });
  });
}

/**
 * Where a test cluster lives: memory (/dev/shm) where there is one. A run makes a hundred-odd
 * databases (over 1 GB with their WAL); on a shared disk, deleting them at the end alone took
 * 80 s of the suite's wall time, and every CREATE DATABASE waited on writeback.
 */
function throwawayRoot(): string {
  try {
    accessSync("/dev/shm", constants.W_OK);
    return "/dev/shm";
  } catch {
    return tmpdir();
  }
}

/** Settings for tests: a test cluster's data is thrown away, so it need not survive a crash. */
const THROWAWAY = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off";

/**
 * Starts a cluster. `durable` keeps PostgreSQL's own defaults (fsync, synchronous commits), as a
 * benchmark should; tests leave it off.
 */
export async function startPostgres(bin: string, durable = false): Promise<PostgresCluster> {
  const user = unprivilegedUser();
  const dir = mkdtempSync(join(durable ? tmpdir() : throwawayRoot(), "nightshift-pg-"));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, "data");
  await run(
    join(bin, "initdb"),
    ["-D", data, "-A", "trust", "-U", SUPERUSER, "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
    user,
  );
  // Another process may take the free port between the probe and the start: try a few.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200 ${durable ? "" : THROWAWAY}`;
    const start = () =>
      run(
        join(bin, "pg_ctl"),
        ["start", "-D", data, "-w", "-t", "60", "-l", join(dir, "log"), "-o", options],
        user,
      );
    try {
      await start();
    } catch (error) {
      if (attempt >= 3) throw error;
      continue;
    }
    return {
      url: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres`,
      port,
      dir,
      pause: () => run(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "fast", "-w"], user),
      resume: start,
      stop: async () => {
        await run(join(bin, "pg_ctl"), ["stop", "-D", data, "-m", "immediate", "-w"], user);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
