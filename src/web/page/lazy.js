import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { ErrorBox, Loading } from "./ui.js";

/** A page component loaded on first use, so the first paint does not parse code it won't run. */
export function lazy(load) {
  let loaded = null;
  return function LazyPage(props) {
    const [state, setState] = useState({ Page: loaded, error: null });
    useEffect(() => {
      if (state.Page) return;
      load().then(
        (Page) => {
          loaded = Page;
          setState({ Page, error: null });
        },
        (error) => setState({ Page: null, error }),
      );
    }, []);
    if (state.error) return html`<${ErrorBox} error=${state.error} />`;
    if (!state.Page) return html`<${Loading} what="the page" />`;
    return html`<${state.Page} ...${props} />`;
  };
}
