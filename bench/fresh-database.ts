import pg from "pg";

/** An empty database `name` on the server at `admin` (dropped first if there), as a URL. */
export async function freshDatabase(admin: string, name: string): Promise<string> {
  const client = new pg.Client(admin);
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name}`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return url.toString();
}
