export { type Column, formatLocalTime, formatTable } from "../views/table.js";
export { count, printJson, reportError } from "../views/terminal.js";
