-- The runtime reads an agent's earlier actions on the same input before every stage
-- (ActionReads.byInputKey: input_key = ? AND agent = ? ORDER BY started_at DESC, id DESC LIMIT n).
-- Keyed on all four, the index hands the newest rows over in order and the scan stops at the
-- limit, however often one input recurs; 0001's index on input_key alone made PostgreSQL fetch
-- and sort every row of that input. It replaces that index (same rows, so no extra write cost
-- for actions without an input_key, which is what the gateway logs), and still serves the
-- audit's (agent, input_key) lookup.
DROP INDEX IF EXISTS actions_input_key;
CREATE INDEX actions_input_key_agent ON actions (input_key, agent, started_at DESC, id DESC)
  WHERE input_key IS NOT NULL;
