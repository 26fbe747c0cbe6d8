import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { postJson, query } from "../api.js";
import { Bars } from "../bars.js";
import { navigate } from "../router.js";
import { Badge, ErrorBox, Loaded, useApi } from "../ui.js";

const money = (cents) =>
  cents === null || cents === undefined
    ? "—"
    : (cents / 100).toLocaleString([], { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** Spending by category and month, statements and their reconciliation, transactions. */
export function FinancePage({ location }) {
  const month = location.params.get("month") ?? "";
  const q = location.params.get("q") ?? "";
  const spending = useApi(`/v0/finance/spending${query({ month })}`);
  const statements = useApi("/v0/finance/statements");
  const shown = month || spending.data?.month || "";
  const txns = useApi(
    spending.data ? `/v0/finance/transactions${query({ month: shown, q })}` : null,
  );
  const go = (next) => navigate(`/ui/finance${query({ month: shown, q, ...next })}`);
  return html`<h1>Finance</h1>
    <${Loaded} state=${spending} what="spending">
      ${(s) =>
        s.months.length === 0
          ? html`<p class="muted">No statements imported yet: <code>nightshift finance import FILE</code>.</p>`
          : html`<div class="grid2">
              <section>
                <h2>Spent in <select aria-label="Month" value=${shown} onChange=${(e) => go({ month: e.currentTarget.value })}>
                  ${s.months.map((m) => html`<option value=${m}>${m}</option>`)}
                </select></h2>
                <${Bars} rows=${s.by_category.map((c) => ({ label: c.category, value: c.spent_cents }))} format=${money} />
              </section>
              <section>
                <h2>Spent by month</h2>
                <${Bars} rows=${s.by_month.map((m) => ({ label: m.month, value: m.spent_cents }))} format=${money} />
              </section>
            </div>`}
    <//>
    <h2>Statements</h2>
    <${Loaded} state=${statements} what="statements">${(d) => html`<${Statements} rows=${d.statements} />`}<//>
    <h2>Transactions ${shown ? html`<span class="muted">${shown}</span>` : null}</h2>
    <${Search} q=${q} onSearch=${(text) => go({ q: text })} />
    ${
      txns.data || txns.error
        ? html`<${Loaded} state=${txns} what="transactions">${(d) =>
            html`<${Transactions} data=${d} reload=${() => {
              txns.reload();
              spending.reload();
            }} />`}<//>`
        : null
    }`;
}

function Statements({ rows }) {
  if (rows.length === 0) return html`<p class="muted">None yet.</p>`;
  return html`<div class="scroll"><table data-testid="statements">
    <thead><tr><th>Account</th><th>Period</th><th>File</th><th class="num">Opening</th><th class="num">Closing</th><th>Reconciliation</th></tr></thead>
    <tbody>${rows.map(
      (s) => html`<tr>
        <td>${s.account_name}</td><td>${s.period_start} – ${s.period_end}</td><td class="small">${s.file_name}</td>
        <td class="num">${money(s.opening_cents)}</td><td class="num">${money(s.closing_cents)}</td>
        <td>${
          s.reconcile_status === "reconciled"
            ? html`<${Badge} kind="good">reconciled<//>`
            : s.reconcile_status === "mismatch"
              ? html`<${Badge} kind="bad">mismatch ${money(s.difference_cents)}<//>`
              : html`<${Badge} kind="warn">unchecked<//>`
        }${(s.flags ?? []).map((f) => html` <${Badge} kind="warn">${f}<//>`)}</td>
      </tr>`,
    )}</tbody>
  </table></div>`;
}

function Search({ q, onSearch }) {
  const [text, setText] = useState(q);
  return html`<form class="filters" role="search" onSubmit=${(e) => {
    e.preventDefault();
    onSearch(text);
  }}>
    <label><span>Description or payee</span><input type="search" value=${text} onInput=${(e) => setText(e.currentTarget.value)} /></label>
    <div class="actions-row"><button type="submit">Search</button></div>
  </form>`;
}

function Transactions({ data, reload }) {
  if (data.transactions.length === 0) return html`<p class="muted">No transactions match.</p>`;
  return html`<p class="muted small">${data.transactions.length} of ${data.total}</p>
    <datalist id="categories">${data.categories.map((c) => html`<option value=${c}></option>`)}</datalist>
    <div class="scroll"><table data-testid="transactions">
      <thead><tr><th>Date</th><th>Description</th><th class="num">Amount</th><th>Category</th></tr></thead>
      <tbody>${data.transactions.map((t) => html`<${Transaction} key=${t.id} t=${t} reload=${reload} />`)}</tbody>
    </table></div>`;
}

function Transaction({ t, reload }) {
  const [category, setCategory] = useState(t.category ?? "");
  const [error, setError] = useState(null);
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await postJson(`/v0/finance/transactions/${t.id}/category`, { category });
      reload();
    } catch (err) {
      setError(err);
    }
  };
  return html`<tr>
    <td>${t.date}</td>
    <td>${t.payee ?? t.description}${t.flags.map((f) => html` <${Badge} kind="warn">${f}<//>`)}</td>
    <td class="num">${money(t.amount_cents)}</td>
    <td>
      <form class="inline" onSubmit=${save}>
        <input list="categories" aria-label=${`Category of ${t.payee ?? t.description}`} value=${category} onInput=${(e) => setCategory(e.currentTarget.value)} />
        <button type="submit" class="small" disabled=${category === (t.category ?? "") || category.trim() === ""}>Save</button>
        ${t.category_source ? html` <span class="muted small">${t.category_source}</span>` : null}
      </form>
      <${ErrorBox} error=${error} />
    </td>
  </tr>`;
}
