"""index.html of exported slides: one slide at a time, paged with the keyboard.

No network, no library: the page works from a USB stick opened with file://.  Keys:
→ ↓ space PageDown Enter next; ← ↑ PageUp Backspace previous; Home first; End last
(presentation clickers send PageDown / PageUp).  A click on the right two thirds of the slide
goes on, on the left third goes back.  The address keeps the position (#step=K), so a
reload stays on the slide and `index.html#step=3` opens step 3.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence

_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ipcviz export">
<title>{title} · ipcviz</title>
<style>
  html, body {{ margin: 0; height: 100%; }}
  body {{
    display: flex; flex-direction: column;
    background: {bg}; color: {fg};
    font-family: system-ui, "DejaVu Sans", sans-serif;
  }}
  header {{
    display: flex; gap: 1.5em; align-items: baseline;
    padding: 0.35em 1em; background: {bar}; font-size: 1.15rem;
  }}
  header .title {{ flex: 1; font-weight: bold; }}
  header .name {{ opacity: 0.75; font-family: monospace; }}
  #counter {{ font-weight: bold; font-variant-numeric: tabular-nums; white-space: nowrap; }}
  #caption {{
    padding: 0.2em 1em; font-family: "DejaVu Sans Mono", monospace; font-size: 1rem;
    opacity: 0.85; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
  }}
  main {{
    flex: 1; min-height: 0; display: flex;
    align-items: center; justify-content: center; padding: 0.3em;
  }}
  main img {{ max-width: 100%; max-height: 100%; object-fit: contain; cursor: pointer; }}
  footer {{ padding: 0.15em 1em; font-size: 0.8rem; opacity: 0.6; text-align: right; }}
</style>
</head>
<body data-step="0" data-slides="{count}">
<header>
  <span class="title">{title}</span>
  <span class="name">{name}</span>
  <span id="counter">step 0 / {total}</span>
</header>
<div id="caption">{first_caption}</div>
<main><img id="slide" src="{first_src}" alt="{first_caption}"></main>
<footer>→ space PgDn: next · ← PgUp: back · Home / End · ipcviz export</footer>
<noscript><ol start="0">{noscript}</ol></noscript>
<script>
"use strict";
const SLIDES = {slides_json};
const TOTAL = {total};
const img = document.getElementById("slide");
const counter = document.getElementById("counter");
const captionLine = document.getElementById("caption");
let current = -1;

function show(k, keepAddress) {{
  k = Math.max(0, Math.min(SLIDES.length - 1, k | 0));
  if (k === current) return;
  current = k;
  const s = SLIDES[k];
  img.src = s.src;
  img.alt = s.caption;
  captionLine.textContent = s.caption;
  counter.textContent = "step " + s.step + " / " + TOTAL;
  document.body.dataset.step = String(k);
  if (!keepAddress) history.replaceState(null, "", "#step=" + k);
}}

function fromAddress() {{
  const m = /step=(\\d+)/.exec(location.hash);
  return m ? parseInt(m[1], 10) : 0;
}}

document.addEventListener("keydown", (e) => {{
  if (e.altKey || e.ctrlKey || e.metaKey) return;
  switch (e.key) {{
    case "ArrowRight": case "ArrowDown": case " ": case "PageDown": case "Enter":
      show(current + 1); break;
    case "ArrowLeft": case "ArrowUp": case "PageUp": case "Backspace":
      show(current - 1); break;
    case "Home": show(0); break;
    case "End": show(SLIDES.length - 1); break;
    default: return;
  }}
  e.preventDefault();
}});
img.addEventListener("click", (e) => {{
  const r = img.getBoundingClientRect();
  show(current + (e.clientX - r.left < r.width / 3 ? -1 : 1));
}});
window.addEventListener("hashchange", () => show(fromAddress(), true));
for (const s of SLIDES) {{ new Image().src = s.src; }}  // no flash when paging
current = -1;
show(fromAddress(), true);
</script>
</body>
</html>
"""


def index_html(name: str, title: str, total_steps: int,
               slides: Sequence[tuple[str, int, str]], *, dark: bool = True,
               lang: str = "en") -> str:
    """The page; slides are (file name, step number, caption), in order."""
    if not slides:
        raise ValueError("no slide to show")
    esc = html.escape
    data = [{"src": src, "step": step, "caption": cap} for src, step, cap in slides]
    # JSON inside <script>: "</" must not end the element.
    slides_json = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    noscript = "".join(f'<li><a href="{esc(src)}">step {step}: {esc(cap)}</a></li>'
                       for src, step, cap in slides)
    colours = ({"bg": "#0c0f14", "fg": "#e8e8e8", "bar": "#1b2330"} if dark
               else {"bg": "#f4f4f4", "fg": "#141414", "bar": "#dde3ea"})
    return _PAGE.format(title=esc(title), name=esc(name), total=total_steps,
                        count=len(slides), first_src=esc(slides[0][0]),
                        first_caption=esc(slides[0][2]), noscript=noscript,
                        slides_json=slides_json, lang=esc(lang), **colours)
