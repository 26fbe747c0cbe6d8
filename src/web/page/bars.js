import { html } from "htm/preact";

/** Horizontal bars for category totals: no library needed for a handful of rows. */
export function Bars({ rows, format = (v) => v }) {
  const max = Math.max(1, ...rows.map((r) => Math.abs(r.value)));
  return html`<table class="bars">
    <tbody>
      ${rows.map(
        (r) => html`<tr>
          <th scope="row">${r.label}</th>
          <td class="bar-cell">
            <meter min="0" max=${max} value=${Math.abs(r.value)} aria-label=${r.label}></meter>
          </td>
          <td class="num">${format(r.value)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}
