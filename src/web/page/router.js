import { useEffect, useState } from "preact/hooks";

// A small history router: /ui/<page>/<id>?query. Links are ordinary <a href> (so they work with
// the keyboard, open in new tabs, and read as links); clicks on them are handled here.

const listeners = new Set();

export function navigate(href, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", href);
  else history.pushState(null, "", href);
  for (const listener of listeners) listener();
  window.scrollTo(0, 0);
}

export function useLocation() {
  const [location, setLocation] = useState(() => readLocation());
  useEffect(() => {
    const update = () => setLocation(readLocation());
    listeners.add(update);
    window.addEventListener("popstate", update);
    return () => {
      listeners.delete(update);
      window.removeEventListener("popstate", update);
    };
  }, []);
  return location;
}

function readLocation() {
  const parts = window.location.pathname
    .replace(/^\/ui\/?/, "")
    .split("/")
    .filter(Boolean);
  return {
    page: parts[0] ?? "",
    id: parts.slice(1).map(decodeURIComponent),
    params: new URLSearchParams(window.location.search),
    href: window.location.pathname + window.location.search,
  };
}

/** Handles clicks on same-origin /ui links without a reload. */
export function interceptLinks() {
  document.addEventListener("click", (event) => {
    if (event.defaultPrevented || event.button !== 0) return;
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const link = event.target.closest?.("a[href]");
    if (!link || link.target || link.hasAttribute("download")) return;
    const url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin || !url.pathname.startsWith("/ui")) return;
    event.preventDefault();
    navigate(url.pathname + url.search);
  });
}
