/**
 * What a stage may ask of the knowledge base. The runtime depends only on this interface; the
 * versioned, searchable knowledge base (src/knowledge) implements it.
 */
export interface KnowledgeQuery {
  /** The asking agent: entries scoped to it and shared entries are eligible. */
  agent: string;
  /** Free text to match (the stage's input, a payee, a question). */
  text: string;
  limit?: number;
}

export interface KnowledgeHit {
  key: string;
  /** An agent name, or "shared". */
  scope: string;
  content: string;
  version: number;
  /** Higher is more relevant; comparable only within one answer. */
  score: number;
}

export interface KnowledgeSource {
  search(query: KnowledgeQuery): Promise<KnowledgeHit[]>;
}

/** A source with nothing in it, for agents run without a knowledge base. */
export const emptyKnowledge: KnowledgeSource = {
  search: async () => [],
};
