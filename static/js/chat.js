// The chat page's socket: send a prompt, show the streamed answer, stop it, reconnect.
// Everything else on the page (conversation list, picker, hints, badge) is htmx.
// Server strings reach the DOM as textContent, except an answer's `html`: the server renders
// and sanitises it (chat/markdown.py), so the page never renders Markdown itself.
(function () {
  "use strict";

  const composer = document.getElementById("composer");
  if (!composer) return;
  const prompt = document.getElementById("prompt");
  const sendButton = document.getElementById("send-button");
  const stopButton = document.getElementById("stop-button");
  const status = document.getElementById("chat-status");
  const conversationInput = composer.querySelector("input[name=conversation]");

  let wsPath = composer.dataset.wsPath;
  let pageUrl = composer.dataset.pageUrl;
  let socket = null;
  let retryDelay = 1000;
  let leaving = false;
  let lostWhileStreaming = false;
  let current = null; // the answer being streamed: {article, meta, body, text}
  let lastPrompt = "";
  let holdUntil = 0; // after a rate limit: no sending before this time (ms)
  let outbox = null; // a message typed before the socket opened, sent once it does

  // Page state -------------------------------------------------------------------------

  function announce(text) { status.textContent = text; }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function thread() { return document.getElementById("thread"); }

  const narrow = window.matchMedia("(max-width: 760px)");

  function scrollToEnd() {
    const t = thread();
    t.scrollTop = t.scrollHeight;
    // On a phone the page scrolls, not the thread: bring the latest words into view.
    if (narrow.matches) window.scrollTo(0, document.documentElement.scrollHeight);
  }

  function setStreaming(on) {
    stopButton.hidden = !on;
    stopButton.disabled = false;
    sendButton.disabled = on || Date.now() < holdUntil;
    composer.classList.toggle("streaming", on);
  }

  // A request whose answer is stale by the time it lands (a thread refresh begun before a new
  // answer, the precheck of a prompt already sent) finishes but is not swapped in: aborting it
  // would make htmx log an error.
  const inFlight = new Map(); // element id -> its request
  const stale = new WeakSet();
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    if (event.detail.elt.id) inFlight.set(event.detail.elt.id, event.detail.xhr);
  });
  document.body.addEventListener("htmx:beforeSwap", (event) => {
    if (stale.has(event.detail.xhr)) event.detail.shouldSwap = false;
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (inFlight.get(event.detail.elt.id) === event.detail.xhr) inFlight.delete(event.detail.elt.id);
  });

  function dropInFlight(id) {
    const request = inFlight.get(id);
    if (request) stale.add(request);
  }

  function refresh(target) {
    if (window.htmx && document.getElementById(target)) {
      // Each request is its own source: requests from one element are queued, and a third
      // would replace the second while the first is in flight.
      const selector = "#" + target;
      return htmx.ajax("GET", pageUrl, { source: selector, target: selector, swap: "outerHTML" });
    }
  }

  function refreshAll() {
    refresh("plan-badge");
    refresh("conversation-list");
    const swapped = refresh("thread");
    if (swapped) swapped.then(scrollToEnd);
  }

  function startAnswer(text) {
    dropInFlight("thread"); // a refresh of the previous answer would wipe this one
    const empty = thread().querySelector(".thread-empty");
    if (empty) empty.remove();
    const mine = el("article", "msg msg-user");
    mine.append(el("p", "msg-meta", "You"));
    const mineBody = el("div", "msg-body plain", text); // shown as sent until the thread refreshes
    mine.append(mineBody);
    const article = el("article", "msg msg-assistant streaming");
    article.setAttribute("aria-busy", "true");
    const meta = el("p", "msg-meta", "Assistant · choosing a model…");
    const body = el("div", "msg-body");
    body.setAttribute("data-testid", "streaming-answer");
    article.append(meta, body);
    thread().append(mine, article);
    current = { article: article, meta: meta, body: body, text: "", html: "", pending: "" };
    scrollToEnd();
  }

  function note(text, className) {
    if (!current) return null;
    const p = el("p", className || "msg-note", text);
    current.article.append(p);
    return p;
  }

  function finish(message) {
    if (current) {
      current.article.classList.remove("streaming");
      current.article.setAttribute("aria-busy", "false");
    }
    current = null;
    setStreaming(false);
    if (message) announce(message);
    prompt.focus();
  }

  // Events from the server -------------------------------------------------------------

  const handlers = {
    conversation: function (data) {
      wsPath = "/ws/chat/" + data.id + "/";
      pageUrl = data.url;
      composer.dataset.wsPath = wsPath;
      composer.dataset.pageUrl = pageUrl;
      conversationInput.value = data.id;
      history.replaceState(null, "", data.url);
    },
    precheck: function (data) {
      if (current) current.meta.textContent = "Assistant · " + data.task_type.replace(/_/g, " ") + " · choosing a model…";
    },
    route: function (data) {
      // The one label of this answer, as the thread shows it once stored; the why beside it.
      if (current) {
        current.meta.textContent = data.summary;
        const why = el("p", "msg-why muted small", "Why: " + data.assistant_reason + "; " + data.reason + ".");
        why.setAttribute("data-testid", "route-why");
        current.meta.after(why);
      }
      announce("Writing the answer…");
    },
    delta: function (data) {
      if (!current) return;
      current.text += data.text;
      showAnswer(data.html, data.text);
    },
    usage: function (data) {
      if (!current) return;
      showAnswer(data.html, "");
      const used = note("This answer used " + data.credits + " credits" + (data.incomplete ? " (partial answer)." : "."), "msg-usage");
      if (used) used.setAttribute("data-testid", "answer-credits");
    },
    done: function (data) {
      if (data.cached) {
        // Until the thread refreshes, which renders the same note from the stored answer.
        const cached = note("Answered from the cache: an earlier answer to the same question. ", "msg-note msg-cached");
        if (cached) {
          cached.setAttribute("data-testid", "cached-answer");
          const fresh = el("button", "link", "Ask again fresh");
          fresh.type = "button";
          fresh.setAttribute("data-testid", "ask-fresh");
          fresh.setAttribute("data-ask-fresh", "");
          cached.append(fresh);
        }
      }
      if (data.finish_reason === "length") {
        note("The answer stopped at its length limit (max tokens); ask for more to continue.");
        finish("The answer reached its length limit.");
      } else {
        finish("Answer complete.");
      }
      refreshAll();
    },
    stopped: function (data) {
      if (current) showAnswer(data.html, "");
      note(data.message);
      finish("Stopped.");
      refreshAll();
    },
    error: function (data) {
      showError(data);
      const hadAnswer = current && current.text;
      if (current && !hadAnswer) current.meta.textContent = "Assistant · no answer";
      finish(hadAnswer ? "The answer was cut off." : "Not answered.");
      if (hadAnswer || data.partial) refreshAll(); else refresh("plan-badge");
    },
  };

  // The server's rendering of the answer so far, then the words that arrived since, as text.
  function showAnswer(html, text) {
    if (typeof html === "string") {
      current.html = html;
      current.pending = "";
    } else {
      current.pending += text;
    }
    current.body.innerHTML = current.html;
    if (current.pending) current.body.append(document.createTextNode(current.pending));
    scrollToEnd();
  }

  function showError(data) {
    const box = el("div", "msg-error");
    box.setAttribute("role", "alert");
    box.setAttribute("data-code", data.code || "error");
    box.append(el("p", "", data.message || "Something went wrong."));
    const way = el("p", "way-on");
    if (data.code === "prompt_blocked") {
      const cats = el("strong", "", (data.categories || []).join(", "));
      cats.setAttribute("data-testid", "blocked-categories");
      way.append((data.categories || []).length > 1 ? "Categories: " : "Category: ", cats, ". Nothing was sent to a model and nothing was billed. Rephrase your prompt and try again.");
    } else if (data.plan_request_url) {
      const link = el("a", "", data.code === "not_in_plan" ? "Request access" : "Ask for more credits or a bigger plan");
      link.href = data.plan_request_url;
      way.append(link);
    } else if (data.billing_url) {
      const link = el("a", "", "Budget caps");
      link.href = data.billing_url + "#caps";
      way.append(link);
    } else if (data.code === "rate_limited") {
      const wait = Number(data.retry_after || 1);
      way.append("Try again in " + wait + " s.");
      holdSend(wait);
    } else if (data.code === "provider_error" && !data.partial && lastPrompt) {
      const retry = el("button", "link", "Try again");
      retry.type = "button";
      retry.addEventListener("click", function () { box.remove(); send(lastPrompt); });
      way.append("The model providers did not answer. ", retry);
    } else if (data.partial) {
      way.append("The partial answer was kept, and only what was written is billed.");
    }
    if (way.childNodes.length) box.append(way);
    if (current) {
      if (!current.text) current.body.remove();
      current.article.append(box);
    } else {
      const empty = thread().querySelector(".thread-empty");
      if (empty) empty.remove();
      thread().append(box);
    }
    scrollToEnd();
  }

  function holdSend(seconds) {
    holdUntil = Date.now() + seconds * 1000;
    sendButton.disabled = true;
    setTimeout(function () { if (!current) sendButton.disabled = false; }, seconds * 1000);
  }

  // The socket -------------------------------------------------------------------------

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + wsPath);
    socket.addEventListener("open", function () {
      retryDelay = 1000;
      composer.classList.remove("offline");
      if (outbox) {
        socket.send(outbox);
        outbox = null;
      }
      if (lostWhileStreaming) {
        // The server kept (and billed) what was written before the line dropped.
        lostWhileStreaming = false;
        refreshAll();
        announce("Reconnected. The answer so far was saved.");
      }
    });
    socket.addEventListener("message", function (message) {
      let parsed;
      try { parsed = JSON.parse(message.data); } catch (e) { return; }
      const handle = handlers[parsed.event];
      if (handle) handle(parsed.data || {});
    });
    socket.addEventListener("close", function (event) {
      if (leaving) return;
      if (event.code === 4403) {
        finish();
        showError({ code: "forbidden", message: "You are signed out, or no longer in this organisation. Sign in again to chat." });
        return;
      }
      if (event.code === 4404) {
        finish();
        showError({ code: "not_found", message: "This conversation no longer exists. Start a new chat." });
        return;
      }
      composer.classList.add("offline");
      if (current && !outbox) { // (an unsent message just waits for the reconnect)
        lostWhileStreaming = true;
        note("Connection lost. Reconnecting…");
        finish();
      }
      announce("Connection lost. Reconnecting…");
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 10000);
    });
  }

  function send(text, fresh) {
    const assistant = document.getElementById("assistant-select");
    const mode = document.getElementById("mode-select");
    const payload = JSON.stringify({
      type: "send",
      message: text,
      assistant: assistant ? assistant.value : "",
      mode: mode ? mode.value : "",
      fresh: fresh === true,
    });
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(payload);
      announce("Sending…");
    } else {
      outbox = payload; // still connecting (or reconnecting): it goes out on "open"
      announce("Connecting…");
    }
    lastPrompt = text;
    startAnswer(text);
    setStreaming(true);
    return true;
  }

  function submit() {
    const text = prompt.value;
    if (!text.trim()) {
      announce("Write a message first.");
      prompt.setAttribute("aria-invalid", "true");
      prompt.focus();
      return;
    }
    prompt.removeAttribute("aria-invalid");
    if (current) { announce("An answer is still being written: press Stop or wait."); return; }
    if (Date.now() < holdUntil) {
      announce("Rate limited: try again in " + Math.ceil((holdUntil - Date.now()) / 1000) + " s.");
      return;
    }
    dropInFlight("prompt");
    if (send(text)) {
      prompt.value = "";
      const hint = document.getElementById("precheck-hint");
      if (hint) hint.innerHTML = "";
    }
  }

  composer.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
  prompt.addEventListener("input", function () { prompt.removeAttribute("aria-invalid"); });
  prompt.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === "Escape" && current) {
      stopButton.click();
    }
  });
  stopButton.addEventListener("click", function () {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "stop" }));
      stopButton.disabled = true;
      announce("Stopping…");
    }
  });
  // Picking another assistant or mode changes the estimate: ask for a fresh hint.
  document.addEventListener("change", function (event) {
    if (event.target.id === "assistant-select" || event.target.id === "mode-select") {
      if (window.htmx && prompt.value.trim()) htmx.trigger(prompt, "sb:precheck");
    }
  });
  // Renaming: the title field opens selected, so typing replaces the old title.
  // "Ask again fresh" under a cached answer: the question above it, never from the cache.
  document.addEventListener("click", function (event) {
    const button = event.target.closest && event.target.closest("[data-ask-fresh]");
    if (!button || current) return;
    const asked = button.closest("article").previousElementSibling;
    const body = asked && asked.classList.contains("msg-user") ? asked.querySelector(".msg-body") : null;
    if (!body) return;
    button.disabled = true;
    send(body.textContent.trim(), true);
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches(".rename-form input[name=title]")) event.target.select();
  });
  window.addEventListener("beforeunload", function () { leaving = true; });

  scrollToEnd();
  connect();
})();
