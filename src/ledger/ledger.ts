import { ActionStore } from "./actions.js";
import { BodyStore } from "./body-store.js";
import { type Db, databaseSize, type OpenOptions, openDatabase } from "./db.js";
import { ActionWriter, type WriterOptions } from "./writer.js";

/** Bodies over 1 MiB go to files beside the ledger (config: ledger.inline_body_bytes). */
const DEFAULT_INLINE_BYTES = 1024 * 1024;

/**
 * The ledger as the rest of nightshift sees it: the database and the stores over it. Components
 * that own tables get their own store class over `db` (see src/ledger/*.ts), so SQL stays here.
 */
export class Ledger {
  readonly actions: ActionStore;
  readonly writer: ActionWriter;

  private constructor(
    readonly db: Db,
    readonly path: string,
    writerOptions: WriterOptions & { inlineBodyBytes?: number },
  ) {
    const bodies =
      path === ":memory:" || path === ""
        ? null
        : new BodyStore(`${path}.bodies`, writerOptions.inlineBodyBytes ?? DEFAULT_INLINE_BYTES);
    this.actions = new ActionStore(db, bodies);
    this.writer = new ActionWriter(this.actions, writerOptions);
  }

  static open(
    path: string,
    options: OpenOptions & WriterOptions & { inlineBodyBytes?: number } = {},
  ): Ledger {
    return new Ledger(openDatabase(path, options), path, options);
  }

  sizeBytes(): number {
    return databaseSize(this.path);
  }

  close(): void {
    this.writer.close();
    if (this.db.open) this.db.close();
  }
}
