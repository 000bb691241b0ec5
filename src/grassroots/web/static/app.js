// Small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // Messages float at the foot of the screen (see app.css) for a few seconds.
  var flashes = document.querySelector(".flashes");
  if (flashes) {
    setTimeout(function () { if (flashes.parentNode) flashes.parentNode.removeChild(flashes); },
      flashes.querySelector(".flash-error") ? 12000 : 6000);
  }
  // Show/hide toggles for password fields.
  document.querySelectorAll("input[type=password][data-toggle]").forEach(function (input) {
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "password-toggle";
    btn.textContent = input.dataset.show || "Show";
    btn.setAttribute("aria-controls", input.id);
    btn.addEventListener("click", function () {
      var hidden = input.type === "password";
      input.type = hidden ? "text" : "password";
      btn.textContent = hidden ? (input.dataset.hide || "Hide") : (input.dataset.show || "Show");
    });
    input.parentNode.appendChild(btn);
  });
  // Forms with data-confirm ask before submitting.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.dataset.confirm)) e.preventDefault();
    });
  });
  // A form is sent once: a second tap while the next page loads (which would publish a
  // post, a comment or an offer twice) does nothing. Coming back to the page (the back
  // button restores it from the cache) makes its forms sendable again.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (e.defaultPrevented || (form.getAttribute("method") || "get").toLowerCase() !== "post") return;
    if (form.dataset.sending) { e.preventDefault(); return; }
    form.dataset.sending = "1";
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-sending]").forEach(function (f) { delete f.dataset.sending; });
  });
  // In the composer, Enter in the goods search finds goods; Enter in any other one-line
  // field does nothing (without this file it finds goods too: the form comes back as typed).
  document.querySelectorAll("form[data-enter-finds]").forEach(function (form) {
    form.addEventListener("keydown", function (e) {
      var t = e.target;
      if (e.key === "Enter" && t.tagName === "INPUT" && t.name !== "find_q" && t.type !== "submit") e.preventDefault();
    });
  });
  // Copy buttons next to read-only fields (share links).
  document.querySelectorAll("[data-copy]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var field = document.getElementById(btn.dataset.copy);
      if (!field) return;
      field.select();
      // Say it worked, for a moment (the button's own words come back); if it did not, the
      // link stays selected for the phone's own Copy.
      function copied() {
        if (!btn.dataset.label) btn.dataset.label = btn.textContent;
        btn.textContent = btn.dataset.copied || btn.dataset.label;
        clearTimeout(btn._copiedTimer);
        btn._copiedTimer = setTimeout(function () { btn.textContent = btn.dataset.label; }, 2000);
      }
      if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(copied, function () {});
      else if (document.execCommand("copy")) copied();
    });
  });
  // On a phone the nav scrolls sideways: bring the current page's tab into view.
  var current = document.querySelector(".nav-inner [aria-current=page]");
  if (current) {
    var strip = current.closest(".nav-inner");
    var offset = current.getBoundingClientRect().left - strip.getBoundingClientRect().left + strip.scrollLeft;
    var left = offset - (strip.clientWidth - current.offsetWidth) / 2;
    if (left > 0) strip.scrollLeft = left;
  }
  // A post page counts as a view of the post.
  var viewed = document.querySelector("[data-view-post]");
  if (viewed && window.fetch) {
    var token = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
    fetch("/api/v1/events", { method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-csrf-token": token },
      body: JSON.stringify({ events: [{ type: "view", post_id: viewed.dataset.viewPost }] }) }).catch(function () {});
  }
  // The feed: send impressions and views as events, and load more cards when the
  // "More" link scrolls into view (the link still works without this script).
  var feed = document.getElementById("feed");
  if (feed && "IntersectionObserver" in window) {
    var csrf = (document.querySelector("meta[name=csrf-token]") || {}).content || "";
    var queue = [], seen = {}, timer = null;
    var flush = function () {
      timer = null;
      if (!queue.length) return;
      var body = JSON.stringify({ events: queue.splice(0, 100) });
      fetch("/api/v1/events", { method: "POST", credentials: "same-origin", keepalive: true,
        headers: { "content-type": "application/json", "x-csrf-token": csrf }, body: body }).catch(function () {});
    };
    var track = function (type, id) {
      queue.push({ type: type, post_id: id });
      if (!timer) timer = setTimeout(flush, 1500);
    };
    var watcher = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        var id = e.target.dataset.postId;
        if (!e.isIntersecting || !id || seen[id]) return;
        seen[id] = true;
        track("impression", id);
      });
    }, { threshold: 0.5 });
    var watch = function (root) { root.querySelectorAll("[data-post-id]").forEach(function (el) { watcher.observe(el); }); };
    watch(feed);
    feed.addEventListener("click", function (e) {
      var card = e.target.closest && e.target.closest("[data-post-id]");
      if (card) { track("click", card.dataset.postId); flush(); }
    });
    window.addEventListener("pagehide", flush);
    var loading = false;
    var more = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (!e.isIntersecting || loading) return;
        var link = e.target.querySelector("[data-more]");
        if (!link) return;
        loading = true;
        fetch(link.dataset.fragment, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
          var box = document.createElement("div");
          box.innerHTML = html;
          var tpl = box.querySelector("template[data-cards]");
          if (tpl) { var frag = tpl.content; feed.appendChild(frag); watch(feed); }
          var next = box.querySelector("[data-testid=feed-more]");
          more.unobserve(e.target);
          e.target.replaceWith(next || document.createComment("end"));
          if (next) more.observe(next);
          loading = false;
        }).catch(function () { loading = false; });
      });
    }, { rootMargin: "400px" });
    var first = document.querySelector("[data-testid=feed-more]");
    if (first) more.observe(first);
  }
})();
