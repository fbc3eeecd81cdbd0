// Balanced Sashimi page: generate, show the highlighted program, download, edit and recompile.
// Plain JS, no framework, no build step. All text goes into the page through textContent (never
// innerHTML), so nothing a model or a user writes can become markup.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);
  // Filled from /api/lexicon (read from the grammar by the server); this copy is only a fallback.
  let lexicon = {
    keywords: ["SHORTCUT", "ENDSHORTCUT", "ACTION", "SET", "IF", "ELSE", "ENDIF", "MENU", "CASE", "ENDMENU",
      "REPEAT", "ENDREPEAT", "FOREACH", "ENDFOREACH", "QTY", "HEADERS"],
    conditions: [],
    booleans: ["true", "false"],
  };
  let keywords = new Set(lexicon.keywords);
  let conditions = new Set(lexicon.conditions);

  fetch("/api/lexicon").then((r) => (r.ok ? r.json() : null)).then((lx) => {
    if (lx && Array.isArray(lx.keywords)) {
      lexicon = lx;
      keywords = new Set(lx.keywords);
      conditions = new Set(lx.conditions);
      if (!$("result").hidden) renderProgram($("program").dataset.source || "", currentErrorLines);
    }
  }).catch(() => {});

  // ---------------------------------------------------------------------------------- highlighter

  // Returns [[text, className|null], ...] covering `src` exactly.
  function tokenize(src) {
    const out = [];
    const push = (text, cls) => { if (text) out.push([text, cls]); };
    let i = 0;
    let lineStart = true;      // only whitespace so far on this line
    let prevWord = null;       // the previous word token on this line (for ACTION <name>)
    const n = src.length;
    const identAt = (j) => { const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(j, j + 200)); return m ? m[0] : ""; };
    while (i < n) {
      const c = src[i];
      if (c === "\n") { push(c, null); i++; lineStart = true; prevWord = null; continue; }
      if (c === " " || c === "\t" || c === "\r") { let j = i; while (j < n && " \t\r".includes(src[j])) j++; push(src.slice(i, j), null); i = j; continue; }
      if (c === "#" && lineStart) { let j = src.indexOf("\n", i); if (j < 0) j = n; push(src.slice(i, j), "tok-comment"); i = j; continue; }
      const atStart = lineStart;  // a keyword counts only as the first word of a statement
      lineStart = false;
      if (c === '"') {
        let j = i + 1;
        while (j < n && src[j] !== '"') j += src[j] === "\\" ? 2 : 1;
        j = Math.min(n, j + 1);
        push(src.slice(i, j), "tok-str"); i = j; prevWord = null; continue;
      }
      if (c === "`") {
        push("`", "tok-str"); i++;
        while (i < n && src[i] !== "`") {
          if (src[i] === "{") {
            let j = src.indexOf("}", i); const k = src.indexOf("`", i);
            if (j < 0 || (k >= 0 && k < j)) { push(src[i], "tok-str"); i++; continue; }
            push("{", "tok-punct");
            const inner = src.slice(i + 1, j);
            push(inner, inner.startsWith("$") ? "tok-var" : inner.startsWith("@") ? "tok-handle" : "tok-str");
            push("}", "tok-punct"); i = j + 1; continue;
          }
          let j = i; while (j < n && src[j] !== "`" && src[j] !== "{") j++;
          push(src.slice(i, j), "tok-str"); i = j;
        }
        if (i < n) { push("`", "tok-str"); i++; }
        prevWord = null; continue;
      }
      if ((c === "$" || c === "@") && identAt(i + 1)) {
        const w = c + identAt(i + 1); push(w, c === "$" ? "tok-var" : "tok-handle"); i += w.length; prevWord = null; continue;
      }
      const num = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i, i + 64));
      if (num && num[0] !== "+" && num[0] !== "-" && !/[A-Za-z_]/.test(src[i])) { push(num[0], "tok-num"); i += num[0].length; prevWord = null; continue; }
      const word = /^[A-Za-z_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?/.exec(src.slice(i, i + 300));
      if (word) {
        const w = word[0];
        let cls = null;
        const after = src.slice(i + w.length).match(/^[ \t]*=/);
        if (prevWord === "ACTION") cls = "tok-action";
        else if (atStart && keywords.has(w)) cls = "tok-kw";
        else if (w === "QTY" || w === "HEADERS") cls = "tok-kw";
        else if (after) cls = "tok-param";
        else if (conditions.has(w)) cls = "tok-cond";
        else if (lexicon.booleans.includes(w)) cls = "tok-bool";
        push(w, cls); i += w.length; prevWord = w; continue;
      }
      push(c, "tok-punct"); i++; prevWord = null;
    }
    return out;
  }

  let currentErrorLines = new Set();

  function renderProgram(src, errorLines) {
    currentErrorLines = errorLines || new Set();
    const pre = $("program");
    pre.dataset.source = src;
    const code = pre.querySelector("code");
    code.replaceChildren();
    const text = src.endsWith("\n") ? src.slice(0, -1) : src;
    let line = document.createElement("span");
    let lineNo = 1;
    const startLine = () => {
      line = document.createElement("span");
      line.className = "line" + (currentErrorLines.has(lineNo) ? " error-line" : "");
      line.dataset.n = String(lineNo);
    };
    const endLine = () => { line.appendChild(document.createTextNode("\n")); code.appendChild(line); lineNo++; startLine(); };
    startLine();
    for (const [tok, cls] of tokenize(text)) {
      const parts = tok.split("\n");
      parts.forEach((part, k) => {
        if (k > 0) endLine();
        if (!part) return;
        if (cls) { const s = document.createElement("span"); s.className = cls; s.textContent = part; line.appendChild(s); }
        else line.appendChild(document.createTextNode(part));
      });
    }
    code.appendChild(line);
  }

  // ------------------------------------------------------------------------------------- the page

  function showMessage(text, kind) {
    const m = $("message");
    m.textContent = text;
    m.className = "message" + (kind ? " " + kind : "");
    m.hidden = !text;
  }

  function fillList(ul, items, render) {
    ul.replaceChildren();
    for (const it of items) { const li = document.createElement("li"); render(li, it); ul.appendChild(li); }
  }

  function where(issue) {
    if (!issue.line) return "";
    return "line " + issue.line + (issue.col ? ", column " + issue.col : "") + ": ";
  }

  function setDownload(url, filenameHint) {
    const a = $("download");
    if (url) {
      a.href = url; a.setAttribute("aria-disabled", "false"); a.removeAttribute("tabindex");
      a.setAttribute("download", filenameHint || "");
    } else {
      a.removeAttribute("href"); a.setAttribute("aria-disabled", "true"); a.setAttribute("tabindex", "-1");
    }
  }

  function showValidity(v) {
    const p = $("validity");
    const errs = (v && v.errors) || [];
    const warns = (v && v.warnings) || [];
    if (!v) { p.textContent = ""; p.className = "validity"; }
    else {
      p.textContent = (v.strict ? "✓ " : v.permissive ? "⚠ " : "✗ ") + v.summary +
        " · " + errs.length + " error(s), " + warns.length + " warning(s)" +
        (v.repairs && v.repairs.length ? ", " + v.repairs.length + " repair(s)" : "");
      p.className = "validity " + (v.strict ? "ok" : v.permissive ? "warn" : "bad");
    }
    fillList($("warnings"), warns.concat((v && v.repairs) || []), (li, w) => {
      li.textContent = w.category
        ? where(w) + w.category + ": " + w.message
        : "line " + w.line + ": repaired " + JSON.stringify(w.original) + " → " + JSON.stringify(w.replacement);
    });
    fillList($("errors"), errs, (li, e) => {
      const b = document.createElement("button");
      b.type = "button"; b.className = "goto";
      b.textContent = e.line ? "line " + e.line + (e.col ? ", column " + e.col : "") : "program";
      b.addEventListener("click", () => gotoLine(e.line, e.col));
      li.appendChild(b);
      li.appendChild(document.createTextNode(": " + e.category + ": " + e.message));
    });
    return new Set(errs.filter((e) => e.line).map((e) => e.line));
  }

  function gotoLine(line, col) {
    const ed = $("editor");
    if (!line) { ed.focus(); return; }
    const lines = ed.value.split("\n");
    let pos = 0;
    for (let k = 0; k < line - 1 && k < lines.length; k++) pos += lines[k].length + 1;
    pos += Math.max(0, (col || 1) - 1);
    ed.focus(); ed.setSelectionRange(pos, pos);
  }

  async function post(url, body) {
    const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    if (!r.ok) throw new Error((data && data.detail) || ("the server answered " + r.status));
    return data;
  }

  function busy(button, on, label) {
    button.disabled = on;
    button.textContent = on ? label + "…" : label;
  }

  async function generate(ev) {
    if (ev) ev.preventDefault();
    if ($("generate").disabled) return;  // one request at a time from this page
    const prompt = $("prompt").value.trim();
    if (!prompt) { showMessage("Type what the shortcut should do first.", ""); $("prompt").focus(); return; }
    busy($("generate"), true, "Generate");
    try {
      const res = await post("/api/generate", { prompt: prompt, beam: 1 });
      if (!res.accepted) {
        $("result").hidden = true;
        showMessage("Sorry — a Shortcut cannot do this. " + (res.reason || ""), "refusal");
        return;
      }
      if (!res.dsl) {  // accepted, but the model produced no program: say so, keep the old one away
        $("result").hidden = true;
        showMessage("No program this time: " + (res.reason || "the model produced nothing") + ". Try rephrasing.", "");
        return;
      }
      // A program that does not compile is still shown (with its located errors) for editing.
      showMessage(res.download_url ? "" : (res.reason || ""), "");
      const lines = showValidity(res.validity);
      renderProgram(res.dsl, lines);
      setDownload(res.download_url);
      // a misspelt word was corrected before the model read the request: say how it was read
      $("timing").textContent = "generated in " + Math.round(res.ms) + " ms" +
        (res.read_as ? " \u00b7 read as: \u201c" + res.read_as + "\u201d" : "");
      $("editor").value = res.dsl;
      $("result").hidden = false;
    } catch (err) {
      showMessage(err.message, "");
    } finally {
      busy($("generate"), false, "Generate");
    }
  }

  async function recompile() {
    if ($("recompile").disabled) return;
    const text = $("editor").value;
    busy($("recompile"), true, "Check & compile");
    try {
      // lint: false: an edit is checked as typed, so errors point at the text in the editor and
      // nothing the person wrote is silently rewritten.
      const res = await post("/api/compile", { dsl: text, lint: false });
      showMessage("", "");
      const lines = showValidity(res.validity);
      renderProgram(res.dsl, lines);
      setDownload(res.download_url);
      $("timing").textContent = "compiled in " + Math.round(res.ms) + " ms";
      $("result").hidden = false;
    } catch (err) {
      showMessage(err.message, "");
    } finally {
      busy($("recompile"), false, "Check & compile");
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("gen-form").addEventListener("submit", generate);
    $("prompt").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); generate(); }
    });
    $("editor").addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); recompile(); }
    });
    $("recompile").addEventListener("click", recompile);
    // role="button" promises Space as well as Enter.
    $("download").addEventListener("keydown", (ev) => {
      if (ev.key === " ") { ev.preventDefault(); $("download").click(); }
    });
    setDownload(null);
    $("prompt").focus();
  });
})();
